package io.scorestream.bench;

import akka.stream.javadsl.Sink;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.SampleEvent;
import io.scorestream.model.nn.UNetConfig;
import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.sample.ChainBatch;
import io.scorestream.model.sample.Conditioning;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.score.HostArrays;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The U-Net's speed (issue 11): forward throughput and one predictor-corrector tick of a {@link ChainBatch} at batch
 * 1, 16, 64 and 256 for the MNIST network ({@link UNetConfig#mnist}, class-conditional, fresh weights: speed does not
 * depend on training), and the time to the first preview of a 16-image request on an idle node serving it. The peer
 * in PyTorch is {@code bench/python/unet_torch.py}. Prints one line per measurement.
 *
 * <pre>java -cp "$CP" io.scorestream.bench.UNetBench [--seconds S] [--checkpoint DIR]</pre>
 */
public final class UNetBench {
  private UNetBench() {}

  public static void main(String[] args) throws Exception {
    BenchArgs a = new BenchArgs("UNetBench", args);
    double seconds = a.number("seconds", 3.0);
    String checkpoint = a.string("checkpoint", null);
    a.done();
    UNetConfig config = UNetConfig.mnist(true);
    Sde vp = Sde.named("vp");
    NetworkWeights w = config.initialize(0);
    System.out.printf(Locale.ROOT, "network %s weights=%d threads=%s%n", config.describe(), w.parameterCount(),
        System.getenv().getOrDefault("OMP_NUM_THREADS", "(default)"));
    try (ScoreModel model = config.scoreModel(w, vp, false)) {
      for (int batch : new int[] {1, 16, 64, 256}) {
        SplittableRandom rng = new SplittableRandom(batch);
        double[] x = new double[batch * config.dim()];
        for (int i = 0; i < x.length; i++) x[i] = rng.nextGaussian();
        INDArray in = HostArrays.matrix(x, batch, config.dim(), DataType.FLOAT);
        double[] t = new double[batch];
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
          t[i] = 0.05 + 0.9 * rng.nextDouble();
          labels[i] = i % 10;
        }
        for (int i = 0; i < 3; i++) model.score(in, t, labels).close();
        long calls = 0;
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < seconds * 1e9) {
          model.score(in, t, labels).close();
          calls++;
        }
        double callMs = (System.nanoTime() - t0) / 1e6 / calls;

        ChainBatch cb = new ChainBatch(model);
        cb.addFromPrior(RowKeys.of(1, 0, batch), SamplerProgram.PredictorCorrector.defaults(vp, 100000), 0,
            Conditioning.labels(1.0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        for (int i = 0; i < 3; i++) cb.tick();
        long ticks = 0;
        long t1 = System.nanoTime();
        while (System.nanoTime() - t1 < seconds * 1e9) {
          cb.tick();
          ticks++;
        }
        double tickMs = (System.nanoTime() - t1) / 1e6 / ticks;
        System.out.printf(Locale.ROOT, "batch=%d forward_ms=%.2f images_per_s=%.0f pc_tick_ms=%.2f chain_steps_per_s=%.0f%n",
            batch, callMs, batch / callMs * 1e3, tickMs, batch / tickMs * 1e3);
        in.close();
      }
    }
    firstPreview(checkpoint, config, w, vp);
  }

  /** Time to first preview of a 16-image labelled request on an idle node (DDIM 50, a preview every step). */
  private static void firstPreview(String checkpoint, UNetConfig config, NetworkWeights w, Sde vp) throws Exception {
    Path dir = checkpoint != null ? Path.of(checkpoint) : Files.createTempDirectory("unet-bench");
    if (checkpoint == null) {
      // A fresh network as a checkpoint: one step of training on the digits, so the node serves it like any other.
      io.scorestream.model.train.ScoreTrainer trainer = new io.scorestream.model.train.ScoreTrainer(w, vp,
          io.scorestream.model.train.TrainConfig.defaults(io.scorestream.model.train.Objective.DSM, 0)
              .withBatchSize(4).withLabelDropout(0.1), io.scorestream.model.data.ImageData.mnist(
              io.scorestream.model.data.ImageData.mnistDir(), "train"));
      trainer.trainStep();
      dir = Checkpoint.of(trainer, "mnist").write(dir);
      trainer.close();
    }
    try (BenchNode node = BenchNode.start("scorestream.model.source = \"checkpoint:" + dir + "\"\n")) {
      long[] ttfp = new long[6];
      for (int i = 0; i < ttfp.length; i++) {
        node.awaitIdle(Duration.ofSeconds(60));
        AtomicLong first = new AtomicLong();
        CountDownLatch ended = new CountDownLatch(1);
        GenerateRequest r = new GenerateRequest("ttfp-" + i, 16, i, SamplerSpec.fewStep("ddim", 50), 1, null,
            Conditioning.labels(1.0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        long t0 = System.nanoTime();
        node.api.submit(r).runWith(Sink.foreach(e -> {
          if (e instanceof SampleEvent.Preview) first.compareAndSet(0, System.nanoTime());
          if (e.terminal()) ended.countDown();
        }), node.system);
        if (!ended.await(10, TimeUnit.MINUTES) || first.get() == 0) throw new IllegalStateException("no preview");
        ttfp[i] = first.get() - t0;
      }
      long[] measured = Arrays.copyOfRange(ttfp, 1, ttfp.length);   // the first request warms the sampler
      Arrays.sort(measured);
      System.out.printf(Locale.ROOT, "idle_ttfp_16_images_ms p50=%.1f max=%.1f (ddim 50, labels 0..9, %d requests)%n",
          measured[measured.length / 2] / 1e6, measured[measured.length - 1] / 1e6, measured.length);
    }
  }
}
