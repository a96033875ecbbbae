package io.scorestream.bench;

import io.scorestream.model.data.DataSpecs;
import io.scorestream.model.memory.NativeMemory;
import io.scorestream.model.score.HostArrays;
import io.scorestream.model.score.MlpConfig;
import io.scorestream.model.score.MlpScoreModel;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.Objective;
import io.scorestream.model.train.ScoreTrainer;
import io.scorestream.model.train.TrainConfig;
import java.util.Locale;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where a node's native memory goes, one source at a time, without the actors:
 * <ul>
 *   <li>{@code --mode train}: the online trainer's recipe (reference MLP, VP, DSM, batch 512 on toy:gmm8). First the
 *       native bytes one step leaves to the garbage collector (libnd4j's counter across a step, with a young
 *       generation large enough that no collection runs) and the buffers it registers with ND4J's deallocator;
 *       then {@code --steps} steps with RSS, heap and libnd4j bytes every 500, and the same after two full
 *       collections.</li>
 *   <li>{@code --mode swaps}: a sampler thread's life under a trainer that publishes: {@code --swaps} times a new
 *       model from the same weights, three ticks of 64..1,023 rows on it, then closed (as the sampler closes a
 *       replaced version); RSS and libnd4j bytes every 200, and after two full collections.</li>
 * </ul>
 * Run with {@code -Xmn3g} for the per-step figure to be exact. Output: one line per reading on stdout.
 */
public final class MemoryProbe {
  private MemoryProbe() {}

  public static void main(String[] argv) {
    BenchArgs.run(() -> run(argv));
  }

  private static void run(String[] argv) throws Exception {
    BenchArgs args = new BenchArgs("MemoryProbe", argv);
    String mode = args.string("mode", "train");
    int steps = args.integer("steps", 3000);
    int swaps = args.integer("swaps", 1000);
    args.done();
    switch (mode) {
      case "train" -> train(steps);
      case "swaps" -> swaps(swaps);
      default -> throw args.usage("--mode must be train or swaps");
    }
  }

  private static void train(int steps) throws Exception {
    ScoreTrainer trainer = new ScoreTrainer(NetworkWeights.initialize(MlpConfig.reference(2), 0), Sde.named("vp"),
        TrainConfig.defaults(Objective.DSM, 0).withBatchSize(512), DataSpecs.parse("toy:gmm8", "standard"));
    for (int i = 0; i < 5; i++) trainer.trainStep();
    System.gc();
    Thread.sleep(500);
    long bytes = 0;
    long registrations = 0;
    int probes = 5;
    for (int i = 0; i < probes; i++) {
      long b0 = NativeMemory.nd4jBytes();
      long r0 = Nd4j.getDeallocatorService().nextValue();
      trainer.trainStep();
      registrations += Nd4j.getDeallocatorService().nextValue() - r0 - 1;
      bytes += NativeMemory.nd4jBytes() - b0;
    }
    System.out.printf(Locale.ROOT, "train_step nd4j_bytes_left_per_step=%d registrations_per_step=%d%n",
        bytes / probes, registrations / probes);
    long t0 = System.nanoTime();
    for (int i = 1; i <= steps; i++) {
      trainer.trainStep();
      if (i % 500 == 0) print("train steps=" + i, t0);
    }
    System.gc();
    Thread.sleep(2000);
    System.gc();
    Thread.sleep(2000);
    print("train after_full_gc", t0);
  }

  private static void swaps(int swaps) throws Exception {
    Sde sde = Sde.named("vp");
    NetworkWeights w = NetworkWeights.initialize(MlpConfig.reference(2), 0);
    SplittableRandom rng = new SplittableRandom(1);
    long t0 = System.nanoTime();
    for (int v = 1; v <= swaps; v++) {
      MlpScoreModel m = new MlpScoreModel(w, sde);
      for (int k = 0; k < 3; k++) {
        int rows = 64 + rng.nextInt(960);
        INDArray x = HostArrays.matrix(new double[rows * 2], rows, 2, DataType.FLOAT);
        m.score(x, new double[rows]).close();
        x.close();
      }
      m.close();
      if (v % 200 == 0) print("swaps=" + v, t0);
    }
    System.gc();
    Thread.sleep(2000);
    System.gc();
    Thread.sleep(2000);
    print("swaps after_full_gc", t0);
  }

  private static void print(String what, long t0) {
    NativeMemory.Snapshot s = NativeMemory.snapshot();
    System.out.printf(Locale.ROOT, "%s seconds=%.1f rss_mib=%.0f heap_used_mib=%.0f heap_committed_mib=%.0f "
            + "nd4j_mib=%.1f malloc_mmap_threshold=%s%n", what, (System.nanoTime() - t0) / 1e9, s.rss() / 1048576.0,
        s.heapUsed() / 1048576.0, s.heapCommitted() / 1048576.0, s.nd4j() / 1048576.0,
        System.getenv().getOrDefault("MALLOC_MMAP_THRESHOLD_", "dynamic"));
  }
}
