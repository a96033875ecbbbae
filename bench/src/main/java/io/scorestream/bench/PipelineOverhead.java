package io.scorestream.bench;

import akka.stream.javadsl.Sink;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.InitialModel;
import io.scorestream.actors.Programs;
import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.sample.ChainBatch;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.score.ScoreModel;
import java.time.Duration;
import java.util.Locale;

/**
 * Pipeline overhead: chain-steps/s of one batch of N chains running through a Sampler actor (submitted through the
 * {@code ScoreStream} facade to a node with one sampler, previews off) against a bare loop that ticks a
 * {@link ChainBatch} holding the same rows, with the same model and program, on the calling thread. Both run a
 * long predictor-corrector program (the SDE's default, 10^6 steps) so no chain finishes while measured. Rounds
 * alternate pipeline and bare loop; the medians are compared.
 *
 * <p>Prints one line to stdout:
 * {@code pipeline_chain_steps_per_s=... bare_chain_steps_per_s=... ratio=... rows=... model=...}; progress goes to
 * stderr. Options: {@code --rows 1024 --seconds 10 --warmup 3 --rounds 3 --model mlp|analytic --sde vp
 * --threads 1 --steps 1000000 --seed 1}.
 */
public final class PipelineOverhead {
  private PipelineOverhead() {}

  public static void main(String[] argv) {
    BenchArgs.run(() -> measure(argv));
  }

  private static void measure(String[] argv) throws Exception {
    BenchArgs args = new BenchArgs("PipelineOverhead", argv);
    int rows = args.integer("rows", 1024);
    Duration measure = args.duration("seconds", "10s");
    Duration warmup = args.duration("warmup", "3s");
    int rounds = args.integer("rounds", 3);
    String model = args.string("model", "mlp");
    String sde = args.string("sde", "vp");
    int threads = args.integer("threads", 1);
    int steps = args.integer("steps", 1_000_000);
    long seed = args.longValue("seed", 1);
    args.done();
    if (rows < 1 || rounds < 1 || steps < 1) throw args.usage("--rows, --rounds and --steps must be > 0");

    String source = switch (model) {
      case "mlp" -> "init:0";
      case "analytic" -> "analytic:gmm8";
      default -> throw args.usage("--model must be mlp or analytic, got '" + model + "'");
    };
    String overrides = String.format(Locale.ROOT, """
        scorestream {
          model { source = "%s", sde = "%s", dim = 2 }
          samplers = ["cpu:0"]
          compute-threads = %d
          sampler.max-batch-rows = %d
          coordinator { max-steps = %d, max-chains-per-request = %d, default-deadline = 1h, max-deadline = 1h }
        }
        """, source, sde, threads, Math.max(4096, rows), steps, rows);

    double[] pipeline = new double[rounds];
    double[] bare = new double[rounds];
    double[] busy = new double[rounds];
    try (BenchNode node = BenchNode.start(overrides)) {
      // The bare loop gets the node's model (same factory, same weights) and the program the coordinator builds.
      InitialModel initial = InitialModel.from(node.settings.model());
      ScoreModel bareModel = initial.factory().create();
      SamplerProgram program = Programs.build(SamplerSpec.pc(steps), initial.sde(), node.settings.coordinator());
      System.err.printf(Locale.ROOT, "PipelineOverhead: %d rows of %s on %s, %d ND4J thread(s), %.1f s per round%n",
          rows, program.describe(), initial.description(), threads, measure.toMillis() / 1000.0);
      for (int r = 0; r < rounds; r++) {
        double[] p = pipelineRound(node, r, rows, seed, steps, warmup, measure);
        pipeline[r] = p[0];
        busy[r] = p[1];
        bare[r] = bareRound(bareModel, program, rows, seed, warmup, measure);
        System.err.printf(Locale.ROOT, "round %d: pipeline %,.0f chain-steps/s (sampler busy %.1f%% of the time), "
            + "bare %,.0f chain-steps/s%n", r + 1, pipeline[r], 100 * busy[r], bare[r]);
      }
    }
    double p = Report.median(pipeline);
    double b = Report.median(bare);
    System.out.printf(Locale.ROOT, "pipeline_chain_steps_per_s=%.0f bare_chain_steps_per_s=%.0f ratio=%.4f rows=%d "
            + "model=%s sde=%s threads=%d seconds=%s rounds=%d sampler_busy_fraction=%.4f%n",
        p, b, p / b, rows, model, sde, threads, measure.toMillis() / 1000.0, rounds, Report.median(busy));
  }

  /** {chain-steps/s, fraction of wall time the sampler spent inside ticks}. */
  private static double[] pipelineRound(BenchNode node, int round, int rows, long seed, int steps, Duration warmup,
                                        Duration measure) throws Exception {
    String id = "overhead-" + round;
    node.api.submit(new GenerateRequest(id, rows, seed, SamplerSpec.pc(steps), 0, null))
        .runWith(Sink.ignore(), node.system);
    node.awaitRows(rows);
    Thread.sleep(warmup.toMillis());
    BenchNode.Counters c0 = node.counters();
    Thread.sleep(measure.toMillis());
    BenchNode.Counters c1 = node.counters();
    node.api.cancel(id);
    node.awaitIdle(Duration.ofSeconds(60));
    double secs = (c1.atNanos() - c0.atNanos()) / 1e9;
    return new double[] {(c1.chainSteps() - c0.chainSteps()) / secs,
        (c1.busyNanos() - c0.busyNanos()) / (double) (c1.atNanos() - c0.atNanos())};
  }

  /** Ticks a fresh batch of the same rows on this thread; chain-steps/s after the warm-up. */
  private static double bareRound(ScoreModel model, SamplerProgram program, int rows, long seed, Duration warmup,
                                  Duration measure) {
    ChainBatch batch = new ChainBatch(model);
    RowKeys keys = RowKeys.of(seed, 0, rows);
    batch.add(ChainBatch.priorStates(model.sde(), keys, model.dim(), model.dataType()), keys, program, 0);
    long warmEnd = System.nanoTime() + warmup.toNanos();
    while (System.nanoTime() < warmEnd) batch.tick();
    long chainSteps = 0;
    long start = System.nanoTime();
    long end = start + measure.toNanos();
    long now;
    do {
      chainSteps += batch.tick().rows();
      now = System.nanoTime();
    } while (now < end);
    return chainSteps / ((now - start) / 1e9);
  }
}
