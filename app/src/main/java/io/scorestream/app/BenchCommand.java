package io.scorestream.app;

import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.sample.ChainBatch;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.score.MlpConfig;
import io.scorestream.model.score.MlpScoreModel;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.MlpGraph;
import io.scorestream.model.train.Objective;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code scorestream bench}: the sampler step of the reference MLP on 2-D data against this machine's GEMM
 * throughput, one machine-readable line per batch size.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure the predictor-corrector step against the machine's GEMM throughput.")
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--sde", defaultValue = "vp", description = "ve (reverse-diffusion + Langevin) or vp (Euler-Maruyama); default ${DEFAULT-VALUE}")
  String sde;

  @Option(names = "--batches", defaultValue = "1,64,256,1024,4096", split = ",", description = "batch sizes")
  int[] batches;

  @Option(names = "--seconds", defaultValue = "2", description = "measuring time per batch size (default: ${DEFAULT-VALUE})")
  double seconds;

  @Override
  public Integer call() {
    Sde s = Sde.named(sde);
    MlpConfig config = MlpConfig.reference(2);
    MlpScoreModel model = new MlpScoreModel(NetworkWeights.initialize(config, 0), s);
    double gemm = gemmGflops();
    System.out.printf(Locale.ROOT, "machine gemm_gflops=%.1f (float32 [4096x256]x[256x256], %d ND4J threads)%n",
        gemm, Runtime.getRuntime().availableProcessors());
    System.out.printf(Locale.ROOT, "network %s flops_per_row=%d%n", model.describe(), config.flopsPerRow());
    System.out.printf(Locale.ROOT, "samediff_forward_us_batch1=%.1f indarray_forward_us_batch1=%.1f%n",
        sameDiffForwardUs(config, s), forwardUs(model, 1));
    for (int b : batches) {
      if (b <= 0) throw new IllegalArgumentException("batch sizes must be > 0, got " + b);
      double fwd = forwardUs(model, b);
      double step = stepUs(model, s, b);
      double stepGflops = config.flopsPerRow() * (double) b / (step * 1e3);
      System.out.printf(Locale.ROOT,
          "batch=%d chain_steps_per_s=%.0f step_us=%.1f forward_us=%.1f step_gflops=%.2f gemm_gflops=%.1f fraction=%.3f%n",
          b, b / (step * 1e-6), step, fwd, stepGflops, gemm, stepGflops / gemm);
    }
    return 0;
  }

  private double timeUs(Runnable r) {
    for (int i = 0; i < 20; i++) r.run();
    long budget = (long) (seconds * 1e9);
    long start = System.nanoTime();
    long n = 0;
    while (System.nanoTime() - start < budget || n < 5) {
      r.run();
      n++;
    }
    return (System.nanoTime() - start) / 1e3 / n;
  }

  private double gemmGflops() {
    INDArray a = Nd4j.rand(DataType.FLOAT, 4096, 256);
    INDArray w = Nd4j.rand(DataType.FLOAT, 256, 256);
    INDArray c = Nd4j.create(DataType.FLOAT, 4096, 256);
    double us = timeUs(() -> Nd4j.gemm(a, w, c, false, false, 1.0, 0.0));
    return 2.0 * 4096 * 256 * 256 / (us * 1e3);
  }

  private double forwardUs(MlpScoreModel model, int b) {
    INDArray x = Nd4j.rand(DataType.FLOAT, b, 2);
    double[] t = new double[b];
    java.util.Arrays.fill(t, 0.5);
    return timeUs(() -> model.score(x, t));
  }

  /** One tick of a full batch: the product's inner loop (network call, noise, per-row update, NaN check). */
  private double stepUs(MlpScoreModel model, Sde s, int b) {
    SamplerProgram program = SamplerProgram.PredictorCorrector.defaults(s, 1_000_000);
    ChainBatch batch = new ChainBatch(model);
    RowKeys keys = RowKeys.of(1, 0, b);
    batch.add(ChainBatch.priorStates(s, keys, 2, model.dataType()), keys, program, 0);
    return timeUs(batch::tick);
  }

  private double sameDiffForwardUs(MlpConfig config, Sde s) {
    MlpGraph g = new MlpGraph(NetworkWeights.initialize(config, 0), Objective.DSM, true);
    Map<String, INDArray> feed = new HashMap<>();
    feed.put("x", Nd4j.rand(DataType.FLOAT, 1, 2));
    feed.put("cond", Nd4j.valueArrayOf(new long[] {1, 1}, 0.5f));
    feed.put("scale", Nd4j.valueArrayOf(new long[] {1, 1}, 1.0f));
    feed.put("weight", Nd4j.valueArrayOf(new long[] {1, 1}, 1.0f));
    feed.put("target", Nd4j.zeros(DataType.FLOAT, 1, 2));
    return timeUs(() -> g.sameDiff().output(feed, MlpGraph.SCORE));
  }
}
