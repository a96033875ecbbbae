package io.scorestream.bench;

import akka.actor.typed.javadsl.AskPattern;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.Result;
import io.scorestream.actors.Sampler;
import io.scorestream.model.sample.SamplerSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The latency of a small high-priority request on a node saturated by long low-priority requests, against the same
 * request on the idle node: the sampler sets low-priority chains aside (with their states) at the next step
 * boundary, so the request's latency should stay near its idle one. For contrast, the same small request at the
 * saturating requests' priority waits for rows.
 *
 * <p>One sampler of {@code --rows} rows (default 1024) on the reference MLP; the saturating load is {@code --rows}
 * chains of {@code --long-steps} steps (20,000: they outlast the measurement) in 4 requests at priority 0; each
 * measured request is
 * {@code --chains} chains (16) of {@code --steps} steps (100) at priority 5, one at a time, {@code --requests} of
 * them (30) after 5 unrecorded ones, under {@code --preemption} (exclusive, room or off; see
 * {@code sampler.preemption}); then {@code --same-priority-requests} (1) at priority 0, which waits for the
 * load's rows. Prints one line per phase: {@code phase=idle|saturated-MODE|
 * saturated-same-priority p50_ms p90_ms max_ms preemptions}.
 */
public final class PriorityLatency {
  private PriorityLatency() {}

  public static void main(String[] args) {
    BenchArgs.run(() -> {
      BenchArgs a = new BenchArgs("PriorityLatency", args);
      String model = a.string("model", "mlp");
      int rows = a.integer("rows", 1024);
      int chains = a.integer("chains", 16);
      int steps = a.integer("steps", 100);
      int longSteps = a.integer("long-steps", 20_000);
      int requests = a.integer("requests", 30);
      int sameRequests = a.integer("same-priority-requests", 1);
      String preemption = a.string("preemption", "exclusive");
      a.done();
      try (BenchNode node = BenchNode.start(BenchNode.overrides(model, "vp", 1, 1, rows, "continuous", 64)
          + "scorestream.sampler.preemption = " + preemption + "\n")) {
        report("idle", measure(node, chains, steps, requests, 5), node);
        List<CompletionStage<Result>> load = new ArrayList<>();
        for (int i = 0; i < 4; i++) load.add(node.api.generate(longRequest(i, rows / 4, longSteps)));
        while (node.counters().rows() < rows) Thread.sleep(10);
        report("saturated-" + preemption, measure(node, chains, steps, requests, 5), node);
        report("saturated-same-priority", measure(node, chains, steps, sameRequests, 0), node);
        for (CompletionStage<Result> l : load) l.toCompletableFuture().cancel(true);
      }
    });
  }

  private static GenerateRequest longRequest(int i, int count, int steps) {
    return new GenerateRequest("long-" + i, count, 1000 + i, SamplerSpec.pc(steps), 0, null);
  }

  /** Latencies in microseconds of n requests (after 5 unrecorded ones) at the given priority, one at a time. */
  private static Histogram measure(BenchNode node, int chains, int steps, int n, int priority) throws Exception {
    Histogram h = new Histogram(3);
    int warm = priority > 0 ? 5 : 0;
    for (int i = 0; i < n + warm; i++) {
      GenerateRequest r = new GenerateRequest("p" + priority + "-" + System.nanoTime(), chains, i,
          SamplerSpec.pc(steps), 0, null).withPriority(priority);
      long start = System.nanoTime();
      node.api.generate(r).toCompletableFuture().get(30, TimeUnit.MINUTES);
      if (i >= warm) h.recordValue((System.nanoTime() - start) / 1_000);
    }
    return h;
  }

  private static void report(String phase, Histogram h, BenchNode node) throws Exception {
    long preemptions = 0;
    for (var s : node.refs.samplers()) {
      preemptions += BenchNode.await(AskPattern.ask(s, Sampler.GetStatus::new, node.settings.askTimeout(),
          node.system.scheduler())).preemptions();
    }
    System.out.printf(Locale.ROOT, "phase=%s requests=%d p50_ms=%.1f p90_ms=%.1f max_ms=%.1f preemptions=%d%n", phase,
        h.getTotalCount(), h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(90) / 1e3, h.getMaxValue() / 1e3,
        preemptions);
  }
}
