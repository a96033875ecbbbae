package io.scorestream.bench;

import io.scorestream.actors.InitialModel;
import io.scorestream.actors.Programs;
import io.scorestream.config.ScoreStreamSettings;
import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.sample.ChainBatch;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.score.ComputeThreads;
import io.scorestream.model.score.ScoreModel;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The sampler's cost curve, measured on a bare {@link ChainBatch} on the calling thread (the node's model and the
 * program the coordinator builds, {@code --threads} ND4J threads): the median tick time at each of {@code --rows},
 * its least-squares fit {@code tick(r) = a + c r} (the input of {@link BatchingModel}), and what an idle gap does:
 * the first ticks of a fresh {@code --gap-rows}-row batch after the thread slept {@code --gap} against the same
 * ticks back to back, which is what a request on an idle node meets.
 *
 * <p>Prints {@code rows=... tick_ms=...} per size, {@code fit tick_fixed_ms=... tick_per_row_us=...}, and
 * {@code idle gap_ms=... first_tick_ms=... second_tick_ms=... steady_tick_ms=...} (medians over {@code --gaps}
 * trials). Options: {@code --rows 64,256,1024,4096 --seconds 3s --model mlp|analytic --sde vp --threads 1
 * --gap 20ms --gaps 200 --gap-rows 64 --seed 1}.
 */
public final class TickProfile {
  private TickProfile() {}

  public static void main(String[] argv) {
    BenchArgs.run(() -> measure(argv));
  }

  private static void measure(String[] argv) throws Exception {
    BenchArgs args = new BenchArgs("TickProfile", argv);
    List<Double> sizes = args.numbers("rows", "64,256,1024,4096");
    Duration perSize = args.duration("seconds", "3s");
    String model = args.string("model", "mlp");
    String sde = args.string("sde", "vp");
    int threads = args.integer("threads", 1);
    Duration gap = args.duration("gap", "20ms");
    int gaps = args.integer("gaps", 200);
    int gapRows = args.integer("gap-rows", 64);
    long seed = args.longValue("seed", 1);
    args.done();
    if (threads < 1 || gaps < 1 || gapRows < 1 || sizes.stream().anyMatch(r -> r < 1 || r != Math.rint(r))) {
      throw args.usage("--rows must be whole numbers >= 1; --threads, --gaps and --gap-rows >= 1");
    }
    if (!List.of("mlp", "analytic").contains(model)) throw args.usage("--model must be mlp or analytic");
    ScoreStreamSettings settings = ScoreStreamSettings.from(BenchNode.config(BenchNode.overrides(model, sde, 1,
        threads, 4096, "continuous", 16)));
    ComputeThreads.limit(threads);
    InitialModel initial = InitialModel.from(settings.model());
    ScoreModel score = initial.factory().create();
    SamplerProgram program = Programs.build(SamplerSpec.pc(BenchNode.CAPACITY_STEPS), initial.sde(), settings.coordinator());
    System.err.printf(Locale.ROOT, "TickProfile: %s on %s, %d ND4J thread(s)%n", program.describe(),
        initial.description(), threads);

    double[] rows = new double[sizes.size()];
    double[] millis = new double[sizes.size()];
    for (int i = 0; i < sizes.size(); i++) {
      rows[i] = sizes.get(i);
      millis[i] = medianTick(score, program, (int) rows[i], seed, perSize);
      System.out.printf(Locale.ROOT, "rows=%d tick_ms=%.3f chain_steps_per_s=%.0f%n", (int) rows[i], millis[i],
          rows[i] / millis[i] * 1e3);
    }
    if (rows.length >= 2) {
      double[] fit = leastSquares(rows, millis);
      System.out.printf(Locale.ROOT, "fit tick_fixed_ms=%.3f tick_per_row_us=%.3f%n", fit[0], fit[1] * 1e3);
    }

    // An idle gap, then a fresh batch: the ticks a request meets on an idle node, against back-to-back ticks.
    SamplerProgram shortProgram = Programs.build(SamplerSpec.pc(50), initial.sde(), settings.coordinator());
    double[] first = new double[gaps];
    double[] second = new double[gaps];
    double[] steady = new double[gaps];
    ChainBatch batch = new ChainBatch(score);
    for (int g = 0; g < gaps; g++) {
      Thread.sleep(gap.toMillis());
      RowKeys keys = RowKeys.of(seed + g, 0, gapRows);
      batch.add(ChainBatch.priorStates(score.sde(), keys, score.dim(), score.dataType()), keys, shortProgram, 0);
      batch.wantPreviews(true);
      first[g] = timedTick(batch);
      second[g] = timedTick(batch);
      for (int k = 0; k < 20; k++) batch.tick();
      steady[g] = timedTick(batch);
      while (batch.size() > 0) {
        batch.tick();
        batch.retire();
      }
    }
    System.out.printf(Locale.ROOT, "idle gap_ms=%d rows=%d first_tick_ms=%.3f second_tick_ms=%.3f "
            + "steady_tick_ms=%.3f gaps=%d%n", gap.toMillis(), gapRows, Report.median(first), Report.median(second),
        Report.median(steady), gaps);
  }

  /** Median tick time (ms) of a batch of rows chains over the given time, after a warm-up of a fifth of it. */
  private static double medianTick(ScoreModel score, SamplerProgram program, int rows, long seed, Duration time) {
    ChainBatch batch = new ChainBatch(score);
    RowKeys keys = RowKeys.of(seed, 0, rows);
    batch.add(ChainBatch.priorStates(score.sde(), keys, score.dim(), score.dataType()), keys, program, 0);
    long warm = System.nanoTime() + time.toNanos() / 5;
    while (System.nanoTime() < warm) batch.tick();
    double[] ticks = new double[1 << 16];
    int n = 0;
    long end = System.nanoTime() + time.toNanos();
    while (n < ticks.length && System.nanoTime() < end) ticks[n++] = timedTick(batch);
    return Report.median(Arrays.copyOf(ticks, n));
  }

  private static double timedTick(ChainBatch batch) {
    long t0 = System.nanoTime();
    batch.tick();
    return (System.nanoTime() - t0) / 1e6;
  }

  /** {intercept, slope} of the least-squares line through (x, y). */
  static double[] leastSquares(double[] x, double[] y) {
    double mx = Arrays.stream(x).average().orElseThrow();
    double my = Arrays.stream(y).average().orElseThrow();
    double sxy = 0;
    double sxx = 0;
    for (int i = 0; i < x.length; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
    }
    double slope = sxx == 0 ? 0 : sxy / sxx;
    return new double[] {my - slope * mx, slope};
  }
}
