package io.scorestream.bench;

import akka.stream.javadsl.Sink;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.InitialModel;
import io.scorestream.actors.Programs;
import io.scorestream.actors.SampleEvent;
import io.scorestream.config.CoordinatorSettings;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.sde.Sde;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Continuous against static batching under open-loop load, and time to first preview on an idle node.
 *
 * <p><b>Load modes</b> ({@code continuous}, {@code static}: the node's {@code scorestream.sampler.batching}). First
 * the capacity C is measured: chain-steps/s of full batches ({@code --batch-rows} chains on every sampler, a long
 * program). Then, for each {@code --load} fraction f, requests arrive as a Poisson process for {@code --duration}
 * at the rate f C / (chains x mean network calls per chain); each asks for {@code --chains} chains of the SDE's
 * default predictor-corrector program with a step count drawn uniformly from [{@code --min-steps},
 * {@code --max-steps}] and a preview every {@code --preview-every} steps. The arrival times, step counts and seeds
 * depend only on {@code --seed} and the load, so both modes see the same requests. Arrivals are open-loop: a request
 * is sent at its scheduled time whatever the node is doing, and its latency (to Completed) and time to first
 * preview are measured from that scheduled time (no coordinated omission), into HdrHistograms. After the last
 * arrival, requests get {@code --drain} to finish; the rest are cancelled and counted as unfinished (not in the
 * percentiles). One line per mode and load:
 * {@code mode=continuous load=0.8 requests=... throughput_rps=... p50_ms=... p99_ms=... ttfp_p50_ms=...
 * ttfp_p99_ms=...} followed by completed, rejected, failed, unfinished counts, the offered rate, the capacity, and
 * what the samplers did from the first arrival to the end of the drain: chain-steps/s, mean tick time and the
 * fraction of the time they spent inside ticks.
 *
 * <p><b>Idle mode</b> ({@code idle}): one request at a time on an idle node ({@code --idle-requests} of
 * {@code --chains} chains, {@code --idle-steps} steps, a preview every step), after {@code --idle-warmup} unrecorded
 * ones of {@code --warmup-steps} steps (enough that the JIT has compiled the submission path, as in a server that
 * has been serving). For each, the time from submission to the first preview, and the sampler's step time (its time inside ticks
 * over its ticks while the request ran alone). One line:
 * {@code mode=idle requests=... ttfp_p50_ms=... ttfp_p99_ms=... step_p50_ms=... ttfp_p50_steps=... ttfp_p99_steps=...}.
 *
 * <p>Options: {@code --modes continuous,static[,idle] --load 0.5,0.8,0.95 --duration 30s --samplers 1|2
 * --model mlp|analytic --sde vp --chains 64 --min-steps 100 --max-steps 1000 --preview-every 10 --batch-rows 4096
 * --threads 1 --queue-bound 256 --drain 60s --capacity-seconds 5s --capacity CHAIN_STEPS_PER_S (skip measuring)
 * --seed 1 --idle-requests 30 --idle-steps 200 --idle-warmup 300 --warmup-steps 20}. Progress goes to stderr, results to stdout.
 */
public final class LoadGenerator {
  private LoadGenerator() {}

  public static void main(String[] argv) {
    BenchArgs.run(() -> new LoadGenerator().measure(argv));
  }

  // ---- Options ----
  private List<String> modes;
  private List<Double> loads;
  private Duration duration;
  private int samplers;
  private String model;
  private String sde;
  private int chains;
  private int minSteps;
  private int maxSteps;
  private int previewEvery;
  private int batchRows;
  private int threads;
  private int queueBound;
  private Duration drain;
  private Duration capacityMeasure;
  private double capacity;
  private long seed;
  private int idleRequests;
  private int idleSteps;
  private int idleWarmup;
  private int warmupSteps;

  private void measure(String[] argv) throws Exception {
    BenchArgs args = new BenchArgs("LoadGenerator", argv);
    modes = args.list("modes", "continuous,static");
    loads = args.numbers("load", "0.5,0.8,0.95");
    duration = args.duration("duration", "30s");
    samplers = args.integer("samplers", 1);
    model = args.string("model", "mlp");
    sde = args.string("sde", "vp");
    chains = args.integer("chains", 64);
    minSteps = args.integer("min-steps", 100);
    maxSteps = args.integer("max-steps", 1000);
    previewEvery = args.integer("preview-every", 10);
    batchRows = args.integer("batch-rows", 4096);
    threads = args.integer("threads", 1);
    queueBound = args.integer("queue-bound", 256);
    drain = args.duration("drain", "60s");
    capacityMeasure = args.duration("capacity-seconds", "5s");
    capacity = args.number("capacity", 0);
    seed = args.longValue("seed", 1);
    idleRequests = args.integer("idle-requests", 30);
    idleSteps = args.integer("idle-steps", 200);
    idleWarmup = args.integer("idle-warmup", 300);
    warmupSteps = args.integer("warmup-steps", 20);
    args.done();
    for (String m : modes) {
      if (!List.of("continuous", "static", "idle").contains(m)) {
        throw args.usage("--modes takes continuous, static and idle, got '" + m + "'");
      }
    }
    for (double f : loads) if (!(f > 0)) throw args.usage("--load fractions must be > 0, got " + f);
    if (samplers < 1 || chains < 1 || batchRows < chains || minSteps < 1 || maxSteps < minSteps) {
      throw args.usage("need --samplers >= 1, 1 <= --chains <= --batch-rows, 1 <= --min-steps <= --max-steps");
    }
    if (!List.of("mlp", "analytic").contains(model)) throw args.usage("--model must be mlp or analytic");
    if (idleRequests < 1 || idleSteps < 1 || idleWarmup < 0 || warmupSteps < 1) {
      throw args.usage("need --idle-requests, --idle-steps, --warmup-steps >= 1 and --idle-warmup >= 0");
    }

    for (String mode : modes) {
      try (BenchNode node = BenchNode.start(overrides(mode.equals("idle") ? "continuous" : mode))) {
        if (mode.equals("idle")) {
          idle(node);
          continue;
        }
        if (capacity <= 0) capacity = measureCapacity(node);
        for (double load : loads) runLoad(node, mode, load);
      }
    }
  }

  private String overrides(String batching) {
    return BenchNode.overrides(model, sde, samplers, threads, batchRows, batching, queueBound);
  }

  // ---- Capacity ----

  /** Chain-steps/s with every sampler's batch full. */
  private double measureCapacity(BenchNode node) throws Exception {
    return node.measureCapacity(samplers * batchRows, BenchNode.CAPACITY_STEPS, seed, capacityMeasure);
  }

  // ---- Open-loop load ----

  /** One request of the schedule: when it arrives (after the start) and how many steps it asks for. */
  private record Arrival(long offsetNanos, int steps, long seed) {}

  private List<Arrival> schedule(double rate, long stream) {
    SplittableRandom random = new SplittableRandom(seed * 1_000_003L + stream);
    List<Arrival> out = new ArrayList<>();
    double t = 0;
    int i = 0;
    while (true) {
      t += -Math.log(1 - random.nextDouble()) / rate;                      // exponential inter-arrival times
      if (t * 1e9 >= duration.toNanos()) return out;
      out.add(new Arrival(Math.round(t * 1e9), random.nextInt(minSteps, maxSteps + 1), seed * 1_000_003L + i++));
    }
  }

  private void runLoad(BenchNode node, String mode, double load) throws Exception {
    Sde s = InitialModel.from(node.settings.model()).sde();
    CoordinatorSettings limits = node.settings.coordinator();
    double meanCalls = 0;
    for (int k = minSteps; k <= maxSteps; k++) meanCalls += Programs.build(SamplerSpec.pc(k), s, limits).nominalCalls();
    meanCalls /= maxSteps - minSteps + 1;
    double rate = load * capacity / (chains * meanCalls);
    List<Arrival> arrivals = schedule(rate, Math.round(load * 1000));
    System.err.printf(Locale.ROOT,
        "%s at load %.2f: %d requests over %.1f s (%.2f/s offered, %d chains x %.0f calls)%n",
        mode, load, arrivals.size(), duration.toMillis() / 1000.0, rate, chains, meanCalls);

    Recorder latency = new Recorder(3);
    Recorder ttfp = new Recorder(3);
    AtomicLong completed = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicLong rejected = new AtomicLong();
    AtomicLong lastCompletion = new AtomicLong();
    Map<String, Boolean> running = new ConcurrentHashMap<>();
    BenchNode.Counters before = node.counters();
    long start = System.nanoTime() + 100_000_000L;
    for (int i = 0; i < arrivals.size(); i++) {
      Arrival a = arrivals.get(i);
      long scheduled = start + a.offsetNanos();
      for (long wait = scheduled - System.nanoTime(); wait > 0; wait = scheduled - System.nanoTime()) {
        LockSupport.parkNanos(wait);
      }
      String id = String.format(Locale.ROOT, "%s-%.2f-%05d", mode, load, i);
      running.put(id, Boolean.TRUE);
      AtomicBoolean previewed = new AtomicBoolean();
      GenerateRequest r = new GenerateRequest(id, chains, a.seed(), SamplerSpec.pc(a.steps()), previewEvery, null);
      node.api.submit(r).runWith(Sink.foreach(e -> {
        long now = System.nanoTime();
        if (e instanceof SampleEvent.Preview && previewed.compareAndSet(false, true)) {
          ttfp.recordValue(Report.micros(now - scheduled));
        } else if (e instanceof SampleEvent.Completed) {
          latency.recordValue(Report.micros(now - scheduled));
          lastCompletion.accumulateAndGet(now, Math::max);
          completed.incrementAndGet();
        } else if (e instanceof SampleEvent.Failed) {
          failed.incrementAndGet();
        } else if (e instanceof SampleEvent.Rejected) {
          rejected.incrementAndGet();
        }
        if (e.terminal()) running.remove(id);
      }), node.system).whenComplete((done, error) -> running.remove(id));
    }
    long arrivalsEnd = Math.max(System.nanoTime(), start + duration.toNanos());
    while (!running.isEmpty() && System.nanoTime() < arrivalsEnd + drain.toNanos()) Thread.sleep(10);
    int unfinished = running.size();
    BenchNode.Counters after = node.counters();
    for (String id : List.copyOf(running.keySet())) node.api.cancel(id);
    node.awaitIdle(Duration.ofSeconds(60));

    Histogram lat = latency.getIntervalHistogram();
    Histogram first = ttfp.getIntervalHistogram();
    double window = (Math.max(lastCompletion.get(), start) - start) / 1e9;
    System.out.printf(Locale.ROOT, "mode=%s load=%s requests=%d throughput_rps=%.3f p50_ms=%s p99_ms=%s "
            + "ttfp_p50_ms=%s ttfp_p99_ms=%s completed=%d rejected=%d failed=%d unfinished=%d offered_rps=%.3f "
            + "capacity_chain_steps_per_s=%.0f samplers=%d chains=%d steps=%d-%d preview_every=%d duration_s=%.1f "
            + "run_chain_steps_per_s=%.0f run_tick_ms=%.3f run_busy_fraction=%.3f%n",
        mode, Report.trim(load), arrivals.size(), window > 0 ? completed.get() / window : 0.0, ms(lat, 50), ms(lat, 99),
        ms(first, 50), ms(first, 99), completed.get(), rejected.get(), failed.get(), unfinished, rate, capacity,
        samplers, chains, minSteps, maxSteps, previewEvery, duration.toMillis() / 1000.0,
        (after.chainSteps() - before.chainSteps()) / ((after.atNanos() - before.atNanos()) / 1e9),
        (after.busyNanos() - before.busyNanos()) / 1e6 / Math.max(1, after.ticks() - before.ticks()),
        (after.busyNanos() - before.busyNanos()) / (double) samplers / (after.atNanos() - before.atNanos()));
  }

  // ---- Idle time to first preview ----

  private void idle(BenchNode node) throws Exception {
    Histogram ttfp = new Histogram(3);
    Histogram step = new Histogram(3);
    for (int i = 0; i < idleWarmup + idleRequests; i++) {
      node.awaitIdle(Duration.ofSeconds(60));
      BenchNode.Counters c0 = node.counters();
      AtomicLong firstPreview = new AtomicLong();
      CountDownLatch ended = new CountDownLatch(1);
      AtomicBoolean ok = new AtomicBoolean();
      int steps = i < idleWarmup ? warmupSteps : idleSteps;
      GenerateRequest r = new GenerateRequest("idle-" + i, chains, seed * 1_000_003L + i, SamplerSpec.pc(steps), 1,
          null);
      long t0 = System.nanoTime();
      node.api.submit(r).runWith(Sink.foreach(e -> {
        if (e instanceof SampleEvent.Preview) firstPreview.compareAndSet(0, System.nanoTime());
        if (e instanceof SampleEvent.Completed) ok.set(true);
        if (e.terminal()) ended.countDown();
      }), node.system);
      if (!ended.await(10, TimeUnit.MINUTES) || !ok.get() || firstPreview.get() == 0) {
        throw new IllegalStateException("idle request " + i + " did not complete with a preview");
      }
      node.awaitIdle(Duration.ofSeconds(60));
      BenchNode.Counters c1 = node.counters();
      if (i < idleWarmup) continue;
      ttfp.recordValue(Report.micros(firstPreview.get() - t0));
      step.recordValue(Math.max(1, (c1.busyNanos() - c0.busyNanos()) / 1000 / Math.max(1, c1.ticks() - c0.ticks())));
    }
    double stepP50 = step.getValueAtPercentile(50) / 1000.0;
    System.out.printf(Locale.ROOT, "mode=idle requests=%d ttfp_p50_ms=%s ttfp_p99_ms=%s step_p50_ms=%.3f "
            + "ttfp_p50_steps=%.2f ttfp_p99_steps=%.2f samplers=%d chains=%d steps=%d%n",
        idleRequests, ms(ttfp, 50), ms(ttfp, 99), stepP50, ttfp.getValueAtPercentile(50) / 1000.0 / stepP50,
        ttfp.getValueAtPercentile(99) / 1000.0 / stepP50, samplers, chains, idleSteps);
  }

  // ---- Formatting ----

  private static String ms(Histogram h, double percentile) {
    return Report.ms(h, percentile, 1);
  }
}
