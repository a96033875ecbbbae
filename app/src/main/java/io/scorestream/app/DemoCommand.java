package io.scorestream.app;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.stream.javadsl.Sink;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.scorestream.actors.Coordinator;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.ModelRegistry;
import io.scorestream.actors.SampleEvent;
import io.scorestream.actors.Sampler;
import io.scorestream.actors.ScoreStream;
import io.scorestream.actors.ScoreStreamNode;
import io.scorestream.actors.Trainer;
import io.scorestream.config.ScoreStreamSettings;
import io.scorestream.model.data.DataSpecs;
import io.scorestream.model.sample.SamplerSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code scorestream demo}: one node with the embedded configuration {@code demo.conf} (one sampler, a trainer
 * learning {@code toy:gmm8} online with the VP SDE and the reference MLP, checkpoints under {@code --out}) while
 * simulated clients submit requests with a fixed mix of samplers, step counts and seeds every
 * {@code --clients-interval}. A status line (served model version, training loss, queue, active chains,
 * chain-steps/s, p50/p99 latency of completed requests since the start) is redrawn on stderr about once a second.
 * The previews of one request (the first one submitted after half of {@code --duration} or {@link #RECORD_AT_MOST},
 * whichever is sooner, so that the trainer has had time to learn) are written as PNG scatters on fixed axes,
 * {@code OUT/frames/frame-0001.png ...}. After {@code --duration} the clients stop, running requests get
 * {@link #DRAIN} to finish, and a summary goes to stdout; Ctrl-C (the JVM's shutdown hook) or {@link #stop()}
 * cancels the running requests and ends the same way.
 *
 * <p>Threads: {@link #call()} runs the clients' clock and the status line on the calling thread; request events
 * arrive on the actor system's dispatcher and only touch the concurrent counters below; frames are encoded on one
 * writer thread so PNG encoding never holds up a stream.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Run a node that trains on toy:gmm8 online while simulated clients sample from it.",
        "Prints a live status line, writes one request's preview frames as PNGs into OUT/frames and checkpoints into "
            + "OUT/checkpoints; stops after --duration or on Ctrl-C."})
final class DemoCommand implements Callable<Integer> {
  /** After --duration, how long running requests may take to finish before they are cancelled. */
  static final Duration DRAIN = Duration.ofSeconds(20);
  /** After a stop request (Ctrl-C), how long cancelled requests may take to report Cancelled. */
  static final Duration CANCEL_GRACE = Duration.ofSeconds(5);
  /**
   * The request whose previews are recorded is the first one after half of --duration or after this, whichever is
   * sooner: late enough for the trainer to have published a few versions (some 300 optimizer steps on 2 cores), early
   * enough that a demo stopped with Ctrl-C has usually recorded it.
   */
  static final Duration RECORD_AT_MOST = Duration.ofSeconds(20);
  /** The status line is redrawn at most this often. */
  static final Duration STATUS_PERIOD = Duration.ofSeconds(1);
  /** Steps between two previews of the recorded request: 50 frames for its {@link #FRAME_STEPS}. */
  static final int FRAME_EVERY = 5;

  /** The clients' request mix, cycled by request number: every VP-compatible sampler family, 100 to 400 steps. */
  private static final List<SamplerSpec> MIX = List.of(
      SamplerSpec.pc(250),                                          // VP default: Euler-Maruyama, no corrector
      SamplerSpec.pc(400, "reverse-diffusion", "none", 0, 0.16),
      SamplerSpec.ode("heun", 100),
      SamplerSpec.pc(300, "ancestral", "none", 0, 0.16),
      SamplerSpec.pc(150, "euler-maruyama", "langevin", 1, 0.16),
      SamplerSpec.ode("euler", 200));
  /**
   * Chains per request, cycled by request number (a prime-length cycle, so counts and samplers mix). About 18
   * chains of about 230 network calls every 300 ms is some 14,000 chain-steps/s, a light load for one sampler beside
   * a trainer on a 2-core machine, so that latency shows the pipeline rather than a backlog (with four times as many
   * chains, requests queued up on such a machine and took several seconds).
   */
  private static final int[] COUNTS = {8, 16, 32, 12, 24};
  /** Chains and steps of the request whose previews are recorded (a frame every {@link #FRAME_EVERY} steps). */
  static final int FRAME_CHAINS = 400;
  static final int FRAME_STEPS = 250;

  @Option(names = "--duration", defaultValue = "60s", converter = DurationConverter.class,
      description = "how long clients submit requests, e.g. 60s, 5m, 1500ms (default: ${DEFAULT-VALUE})")
  Duration duration;

  @Option(names = "--out", defaultValue = "runs/demo",
      description = "output directory: checkpoints/ and frames/ (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--clients-interval", defaultValue = "300ms", converter = DurationConverter.class,
      description = "time between two client requests (default: ${DEFAULT-VALUE})")
  Duration clientsInterval;

  @Option(names = "--seed", defaultValue = "0",
      description = "seed of the initial weights, of training and of the clients' requests (default: ${DEFAULT-VALUE})")
  long seed;

  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private final CountDownLatch done = new CountDownLatch(1);

  // ---- Client-side bookkeeping: written by stream callbacks on the dispatcher, read by the status line ----
  private final AtomicLong submitted = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong cancelled = new AtomicLong();
  /** Requests submitted and not yet ended, by id, with their submission time (ns). */
  private final Map<String, Long> inFlight = new ConcurrentHashMap<>();
  /** Submission-to-result latency of completed requests, microseconds: recorded on any thread... */
  private final Recorder latencyRecorder = new Recorder(3);
  /** ...and accumulated on the calling thread, which alone reads it. */
  private final Histogram latency = new Histogram(3);
  private final SortedSet<Long> versionsUsed = new ConcurrentSkipListSet<>();
  private final AtomicInteger frames = new AtomicInteger();
  private final AtomicReference<String> frameError = new AtomicReference<>();
  private volatile long servedVersion;
  private volatile String previewRequestId;
  private volatile StatusLine status;
  // ---- Set once in call(), before any request is submitted ----
  private Path frameDir;
  private double[][] reference;
  private double frameLimit;
  private ExecutorService frameWriter;

  /** Asks the demo to stop as if Ctrl-C had been pressed: running requests are cancelled, the summary printed. */
  void stop() {
    stopRequested.countDown();
  }

  /** Requests completed so far (any thread). */
  long completedRequests() {
    return completed.get();
  }

  @Override
  public Integer call() throws Exception {
    if (duration.isZero() || duration.isNegative()) {
      throw new IllegalArgumentException("--duration must be > 0, got " + DurationConverter.format(duration));
    }
    if (clientsInterval.isZero() || clientsInterval.isNegative()) {
      throw new IllegalArgumentException("--clients-interval must be > 0, got "
          + DurationConverter.format(clientsInterval));
    }
    frameDir = out.resolve("frames");
    Path checkpointDir = out.resolve("checkpoints");
    prepare(frameDir, checkpointDir);
    // Logging starts here, on one thread: otherwise Akka's logger and ND4J initialise it concurrently and SLF4J
    // prints a warning about replayed calls.
    LoggerFactory.getLogger(DemoCommand.class);
    status = new StatusLine(System.err);
    Config config = config(checkpointDir);
    ScoreStreamSettings settings = ScoreStreamSettings.from(config);

    System.err.println("demo: starting a node (" + settings.samplers().size() + " sampler, trainer on "
        + settings.trainer().data() + ", " + settings.model().sde() + " SDE, " + settings.model().source() + ")");
    ActorSystem<ScoreStreamNode.Command> system =
        ActorSystem.create(ScoreStreamNode.create(settings), "scorestream-demo", config);
    frameWriter = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "scorestream-demo-frames");
      t.setDaemon(true);
      return t;
    });
    Thread hook = new Thread(() -> {
      stop();
      try {
        // The JVM exits when the hooks return: let the demo cancel, summarise and stop the node first.
        done.await(CANCEL_GRACE.toMillis() + 40_000, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "scorestream-demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    boolean interrupted;
    try {
      ScoreStreamNode.Refs refs = await(AskPattern.ask(system, ScoreStreamNode.GetRefs::new,
          settings.askTimeout(), system.scheduler()), settings.askTimeout());
      ScoreStream api = new ScoreStream(system, refs, settings.session(), settings.askTimeout());
      Node node = new Node(system, api, refs, settings.askTimeout());
      reference = DataSpecs.parse(settings.trainer().data(), "none").batch(seed + 1, 0, 1000);
      frameLimit = frameLimit(reference);
      interrupted = runClients(node);
      printSummary(node, interrupted);
    } finally {
      frameWriter.shutdownNow();
      system.terminate();
      try {
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("demo: the node did not stop within 30 s: " + e);
      }
      done.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException alreadyShuttingDown) {
        // Ctrl-C: the hook is running and waits for `done`.
      }
    }
    return 0;
  }

  /** The running node's actors, for the status line. */
  private record Node(ActorSystem<?> system, ScoreStream api, ScoreStreamNode.Refs refs, Duration askTimeout) {}

  /** Clients, status line and drain; returns whether the demo was stopped early (Ctrl-C). */
  private boolean runClients(Node node) throws InterruptedException {
    long startNs = System.nanoTime();
    long endNs = startNs + duration.toNanos();
    long previewAtNs = startNs + Math.min(duration.toNanos() / 2, RECORD_AT_MOST.toNanos());
    long nextSubmitNs = startNs;
    long nextStatusNs = startNs + STATUS_PERIOD.toNanos();
    int requestNo = 0;
    boolean interrupted = false;
    Probe last = Probe.initial(startNs);
    // Clients: one request every --clients-interval until --duration.
    while (true) {
      long now = System.nanoTime();
      if (now >= endNs) break;
      if (now >= nextSubmitNs) {
        boolean record = previewRequestId == null && now >= previewAtNs;
        submit(node, requestNo++, record);
        nextSubmitNs += clientsInterval.toNanos();
        if (nextSubmitNs < now) nextSubmitNs = now + clientsInterval.toNanos();   // fell behind: no burst
      }
      if (now >= nextStatusNs) {
        last = drawStatus(node, last, startNs, "");
        nextStatusNs = System.nanoTime() + STATUS_PERIOD.toNanos();
      }
      long sleepNs = Math.min(Math.min(nextSubmitNs, nextStatusNs), endNs) - System.nanoTime();
      if (sleepNs > 0 && stopRequested.await(sleepNs, TimeUnit.NANOSECONDS)) {
        interrupted = true;
        break;
      }
    }
    // Drain: let running requests finish (or cancel them at once after Ctrl-C).
    long drainEndNs = System.nanoTime() + (interrupted ? 0 : DRAIN.toNanos());
    while (!inFlight.isEmpty() && System.nanoTime() < drainEndNs) {
      if (stopRequested.await(Math.min(200_000_000L, drainEndNs - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        interrupted = true;
        break;
      }
      if (System.nanoTime() >= nextStatusNs) {
        last = drawStatus(node, last, startNs, " | draining " + inFlight.size());
        nextStatusNs = System.nanoTime() + STATUS_PERIOD.toNanos();
      }
    }
    if (!inFlight.isEmpty()) {
      for (String id : List.copyOf(inFlight.keySet())) node.api().cancel(id);
      long graceEndNs = System.nanoTime() + CANCEL_GRACE.toNanos();
      while (!inFlight.isEmpty() && System.nanoTime() < graceEndNs) Thread.sleep(20);
    }
    drawStatus(node, last, startNs, "");
    status.end();
    return interrupted;
  }

  private void submit(Node node, int n, boolean record) {
    String id = String.format(Locale.ROOT, "client-%05d", n);
    GenerateRequest r;
    if (record) {
      // The recorded request: enough chains for a readable scatter, a frame every FRAME_EVERY steps.
      r = new GenerateRequest(id, FRAME_CHAINS, seed * 1_000_003L + n, SamplerSpec.pc(FRAME_STEPS), FRAME_EVERY,
          null);
      previewRequestId = id;
      status.message(String.format(Locale.ROOT, "%s records its previews (%d chains, %d steps, model v%d) into %s",
          id, FRAME_CHAINS, FRAME_STEPS, servedVersion, frameDir));
    } else {
      // Ordinary clients ask for no previews: nobody looks at them, and each one costs the sampler a copy of the
      // batch's estimates.
      r = new GenerateRequest(id, COUNTS[n % COUNTS.length], seed * 1_000_003L + n, MIX.get(n % MIX.size()), 0, null);
    }
    long t0 = System.nanoTime();
    inFlight.put(id, t0);
    submitted.incrementAndGet();
    node.api().submit(r).runWith(Sink.foreach(e -> onEvent(e, t0, record)),
            node.system())
        .whenComplete((d, error) -> {
          // A stream that ends without its terminal event (the node stopping) still leaves the in-flight set.
          if (inFlight.remove(id) != null && error != null) failed.incrementAndGet();
        });
  }

  private void onEvent(SampleEvent e, long t0, boolean record) {
    if (e instanceof SampleEvent.Preview p) {
      if (record) {
        int frame = frames.incrementAndGet();
        String title = String.format(Locale.ROOT, "%s: step %d/%d, model v%d (Tweedie estimate of x0)",
            p.requestId(), p.step(), p.totalSteps(), servedVersion);
        frameWriter.execute(() -> writeFrame(frame, title, p));
      }
    } else if (e instanceof SampleEvent.Completed c) {
      latencyRecorder.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
      versionsUsed.addAll(c.result().modelVersions());
      completed.incrementAndGet();
      inFlight.remove(c.requestId());
    } else if (e instanceof SampleEvent.Failed f) {
      failed.incrementAndGet();
      status.message(f.requestId() + " failed: " + f.code() + " " + f.message());
      inFlight.remove(f.requestId());
    } else if (e instanceof SampleEvent.Cancelled c) {
      cancelled.incrementAndGet();
      inFlight.remove(c.requestId());
    } else if (e instanceof SampleEvent.Rejected r) {
      rejected.incrementAndGet();
      inFlight.remove(r.requestId());
    }
  }

  private void writeFrame(int frame, String title, SampleEvent.Preview p) {
    try {
      double[] d = p.denoised();
      List<double[]> points = new ArrayList<>(p.chains());
      int outside = 0;
      for (int i = 0; i < p.chains(); i++) {
        double x = d[i * p.dim()];
        double y = d[i * p.dim() + 1];
        if (!Double.isFinite(x) || !Double.isFinite(y)) continue;      // chains whose slice has not reported yet
        if (Math.abs(x) > frameLimit || Math.abs(y) > frameLimit) outside++;
        points.add(new double[] {x, y});
      }
      // Every frame on the same axes, so that the frames play as an animation.
      Plots.scatter(frameDir.resolve(String.format(Locale.ROOT, "frame-%04d.png", frame)),
          outside == 0 ? title : title + ", " + outside + " outside the frame", points.toArray(double[][]::new),
          reference, frameLimit);
    } catch (RuntimeException e) {
      frameError.compareAndSet(null, e.toString());
    }
  }

  /** One status line; returns the probe to difference the next one against. */
  private Probe drawStatus(Node node, Probe last, long startNs, String suffix) {
    Probe now = Probe.take(node, last);
    if (now.version > 0) servedVersion = now.version;
    latency.add(latencyRecorder.getIntervalHistogram());
    double secs = (now.atNs - last.atNs) / 1e9;
    String rate = now.chainSteps < 0 || last.chainSteps < 0 ? "n/a"
        : String.format(Locale.ROOT, "%,.0f", (now.chainSteps - last.chainSteps) / Math.max(secs, 1e-9));
    String loss = now.trainStep < 0 ? "loss n/a"
        : String.format(Locale.ROOT, "loss %s (step %d)", Double.isNaN(now.loss) ? "-" : fmt(now.loss), now.trainStep);
    status.draw(String.format(Locale.ROOT,
        "%s | model v%s | %s | queue %s | chains %s | %s chain-steps/s | p50 %s p99 %s | done %d failed %d%s",
        ProgressBar.clock((now.atNs - startNs) / 1e9), now.version > 0 ? now.version : "?", loss,
        now.queue < 0 ? "n/a" : now.queue, now.rows < 0 ? "n/a" : now.rows, rate, percentile(50), percentile(99),
        completed.get(), failed.get() + rejected.get(), suffix));
    return now;
  }

  private String percentile(double p) {
    if (latency.getTotalCount() == 0) return "-";
    return String.format(Locale.ROOT, "%,d ms", latency.getValueAtPercentile(p) / 1000);
  }

  private void printSummary(Node node, boolean interrupted) throws InterruptedException {
    frameWriter.shutdown();
    if (!frameWriter.awaitTermination(60, TimeUnit.SECONDS)) System.err.println("demo: frames still being written");
    Probe end = Probe.take(node, Probe.initial(System.nanoTime()));
    PrintStream o = System.out;
    o.printf(Locale.ROOT, "demo %s%n", interrupted ? "interrupted: running requests cancelled" : "finished after "
        + DurationConverter.format(duration));
    o.printf(Locale.ROOT, "requests: submitted=%d completed=%d failed=%d rejected=%d cancelled=%d%n", submitted.get(),
        completed.get(), failed.get(), rejected.get(), cancelled.get());
    latency.add(latencyRecorder.getIntervalHistogram());
    if (latency.getTotalCount() > 0) {
      o.printf(Locale.ROOT, "latency (submission to result): p50=%d ms p99=%d ms max=%d ms%n",
          latency.getValueAtPercentile(50) / 1000, latency.getValueAtPercentile(99) / 1000,
          latency.getMaxValue() / 1000);
    }
    o.printf(Locale.ROOT, "model versions served: %s (current v%d)%n",
        versionsUsed.isEmpty() ? "none" : versionsUsed.toString(), end.version);
    if (end.trainStep >= 0) {
      o.printf(Locale.ROOT, "trainer: step %d, last loss %s, latest checkpoint %s%n", end.trainStep,
          Double.isNaN(end.loss) ? "-" : fmt(end.loss), end.checkpoint.map(Path::toString).orElse("none yet"));
    }
    if (frameError.get() != null) System.err.println("demo: a preview frame could not be written: " + frameError.get());
    o.printf(Locale.ROOT, "preview frames: %d PNGs of %s in %s%n", countFrames(frameDir),
        previewRequestId == null ? "no request (the demo stopped before one was recorded)" : previewRequestId,
        frameDir);
  }

  // ---- Set-up ----

  /** The node's configuration: system properties, then demo.conf with --out and --seed, then the defaults. */
  private Config config(Path checkpointDir) {
    Config demo = ConfigFactory.parseResources("demo.conf")
        .withValue("scorestream.model.source", ConfigValueFactory.fromAnyRef("init:" + seed))
        .withValue("scorestream.trainer.seed", ConfigValueFactory.fromAnyRef(seed))
        .withValue("scorestream.trainer.checkpoint-dir", ConfigValueFactory.fromAnyRef(checkpointDir.toString()));
    return ConfigFactory.systemProperties().withFallback(demo).withFallback(ConfigFactory.load()).resolve();
  }

  /** Creates the output folders and removes the frames of an earlier run (only files named frame-NNNN.png). */
  private static void prepare(Path frameDir, Path checkpointDir) {
    try {
      Files.createDirectories(frameDir);
      Files.createDirectories(checkpointDir);
      try (DirectoryStream<Path> old = Files.newDirectoryStream(frameDir, "frame-[0-9][0-9][0-9][0-9].png")) {
        for (Path p : old) Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + frameDir.getParent() + ": " + e.getMessage(), e);
    }
  }

  /** Half the side of the frames' window: the data's extent with a margin of half of it. */
  private static double frameLimit(double[][] reference) {
    double m = 1;
    for (double[] r : reference) m = Math.max(m, Math.max(Math.abs(r[0]), Math.abs(r[1])));
    return Math.ceil(1.5 * m);
  }

  private static long countFrames(Path frameDir) {
    try (DirectoryStream<Path> s = Files.newDirectoryStream(frameDir, "frame-*.png")) {
      long n = 0;
      for (Path ignored : s) n++;
      return n;
    } catch (IOException e) {
      return 0;
    }
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, Math.abs(v) >= 0.01 ? "%.4f" : "%.3e", v);
  }

  private static <T> T await(CompletionStage<T> stage, Duration timeout) throws Exception {
    return stage.toCompletableFuture().get(timeout.toMillis() * 2, TimeUnit.MILLISECONDS);
  }

  /**
   * What the node reports at one instant; -1 (or empty) where an actor did not answer in time or does not exist.
   * Asked on the status thread; each ask is answered between two ticks or optimizer steps.
   */
  private record Probe(long atNs, long version, long chainSteps, int rows, int queue, long trainStep, double loss,
                       Optional<Path> checkpoint) {

    static Probe initial(long atNs) {
      return new Probe(atNs, 0, 0, 0, 0, -1, Double.NaN, Optional.empty());
    }

    static Probe take(Node node, Probe previous) {
      ActorSystem<?> system = node.system();
      Duration timeout = node.askTimeout();
      CompletionStage<ModelRegistry.Versions> versions = node.api().versions();
      CompletionStage<Coordinator.NodeStatus> status = node.api().status();
      List<CompletionStage<Sampler.Status>> samplers = new ArrayList<>();
      for (ActorRef<Sampler.Command> s : node.refs().samplers()) {
        samplers.add(AskPattern.ask(s, Sampler.GetStatus::new, timeout, system.scheduler()));
      }
      Optional<CompletionStage<Trainer.Status>> trainer = node.refs().trainer()
          .map(t -> AskPattern.ask(t, Trainer.GetStatus::new, timeout, system.scheduler()));
      long version = get(versions, timeout).flatMap(ModelRegistry.Versions::current)
          .map(ModelRegistry.ModelVersion::version).orElse(previous.version);
      int queue = get(status, timeout).map(Coordinator.NodeStatus::queuedRequests).orElse(-1);
      long chainSteps = 0;
      int rows = 0;
      for (CompletionStage<Sampler.Status> s : samplers) {
        Optional<Sampler.Status> st = get(s, timeout);
        if (st.isEmpty()) {
          chainSteps = -1;
          rows = -1;
          break;
        }
        chainSteps += st.get().chainSteps();
        rows += st.get().rows();
      }
      Optional<Trainer.Status> ts = trainer.flatMap(t -> get(t, timeout));
      return new Probe(System.nanoTime(), version, chainSteps, rows, queue, ts.map(Trainer.Status::step).orElse(-1L),
          ts.map(Trainer.Status::lastLoss).orElse(Double.NaN), ts.flatMap(Trainer.Status::lastCheckpoint));
    }

    private static <T> Optional<T> get(CompletionStage<T> stage, Duration timeout) {
      try {
        return Optional.of(stage.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS));
      } catch (Exception e) {
        return Optional.empty();
      }
    }
  }
}
