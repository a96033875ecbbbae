package io.scorestream.model.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.data.DataSpecs;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.Sampling;
import io.scorestream.model.score.HostArrays;
import io.scorestream.model.score.MlpConfig;
import io.scorestream.model.score.MlpScoreModel;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.score.WeightsSnapshot;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.Objective;
import io.scorestream.model.train.ScoreTrainer;
import io.scorestream.model.train.TrainConfig;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The node's native memory is released deterministically, not by the garbage collector: libnd4j's own allocation
 * counter ({@link NativeMemory#nd4jBytes()}) returns to its baseline after thousands of train steps and weight
 * swaps, with no {@code System.gc()} anywhere. Before the fix the trainer alone left 19 MB of buffers per step to
 * the collector and every replaced model kept its per-thread buffers for the life of the thread, so the counter
 * (and the resident set) grew by hundreds of megabytes within these loops.
 */
class NativeMemoryBoundTest {
  /** Slack for buffers the loops legitimately hold at a reading (a scalar here and there): far below one leak. */
  private static final long BOUND = 1 << 20;

  private static final MlpConfig SMALL = new MlpConfig(2, 64, 2, 16, 16.0);

  @Test
  void theCounterSeesAllocationsAndCloses() {
    long before = NativeMemory.nd4jBytes();
    assertTrue(before >= 0, "the CPU backend exposes libnd4j's counter");
    INDArray a = HostArrays.matrix(new double[250_000], 1000, 250, DataType.FLOAT);
    assertEquals(before + 1_000_000, NativeMemory.nd4jBytes(), 64 * 1024);
    a.close();
    assertEquals(before, NativeMemory.nd4jBytes(), 64 * 1024);
  }

  @Test
  void trainStepsAndPublishedVersionsReturnTheCounterToItsBaseline() {
    Sde sde = Sde.named("vp");
    ScoreTrainer trainer = new ScoreTrainer(NetworkWeights.initialize(SMALL, 0), sde,
        TrainConfig.defaults(Objective.DSM, 0).withBatchSize(128), DataSpecs.parse("toy:gmm8", "standard"));
    SplittableRandom rng = new SplittableRandom(1);
    // Warm-up: the step arena learns the step's shapes.
    for (int i = 0; i < 5; i++) trainer.trainStep();
    long baseline = NativeMemory.nd4jBytes();
    long worst = 0;
    for (int i = 1; i <= 2_000; i++) {
      trainer.trainStep();
      if (i % 2 == 0) {
        // A published version, as a sampler sees it: its own model from a heap snapshot, a few ticks of varying
        // batch sizes (slab growth and op contexts per size), then replaced and closed.
        MlpScoreModel model = MlpScoreModel.owning(trainer.emaSnapshot().toWeights(), sde);
        for (int k = 0; k < 3; k++) {
          int rows = 1 + rng.nextInt(300);
          INDArray x = HostArrays.matrix(new double[rows * 2], rows, 2, DataType.FLOAT);
          INDArray s = model.score(x, new double[rows]);
          s.close();
          x.close();
        }
        model.close();
      }
      if (i % 100 == 0) worst = Math.max(worst, NativeMemory.nd4jBytes() - baseline);
    }
    assertTrue(worst < BOUND, "libnd4j bytes rose " + NativeMemory.mib(worst) + " above the baseline over 2,000 steps "
        + "and 1,000 swaps");
    long held = NativeMemory.nd4jBytes();
    trainer.close();
    assertTrue(NativeMemory.nd4jBytes() < held, "closing the trainer frees its arena, optimizer state and graph");
  }

  @Test
  void aClosedModelRefusesCallsAndFreesEveryThreadsBuffers() throws Exception {
    Sde sde = Sde.named("ve");
    WeightsSnapshot w = WeightsSnapshot.of(NetworkWeights.initialize(SMALL, 2));
    long before = NativeMemory.nd4jBytes();
    MlpScoreModel model = MlpScoreModel.owning(w.toWeights(), sde);
    INDArray x = HostArrays.matrix(new double[] {0.5, -1, 2, 3}, 2, 2, DataType.FLOAT);
    double[] t = {0.3, 0.7};
    double[] here = model.score(x, t).ravel().toDoubleVector();
    double[][] there = new double[1][];
    Thread other = new Thread(() -> there[0] = model.score(x, t).ravel().toDoubleVector());
    other.start();
    other.join();
    assertArrayEquals(here, there[0], 0.0, "the same scores from another thread's buffers");
    assertTrue(model.bufferBytes() > 0);
    model.close();
    assertEquals(0, model.bufferBytes());
    assertThrows(IllegalStateException.class, () -> model.score(x, t));
    x.close();
    assertTrue(NativeMemory.nd4jBytes() - before < 64 * 1024,
        "weights, derived arrays and both threads' slabs freed: " + NativeMemory.mib(NativeMemory.nd4jBytes() - before));
  }

  @Test
  void aSnapshotRebuildsTheSameModel() {
    Sde sde = Sde.named("vp");
    NetworkWeights w = NetworkWeights.initialize(SMALL, 5);
    MlpScoreModel direct = new MlpScoreModel(w, sde);
    MlpScoreModel rebuilt = MlpScoreModel.owning(WeightsSnapshot.of(w).toWeights(), sde);
    INDArray x = HostArrays.matrix(new double[] {0.1, 0.2, -3, 4, 1, 1}, 3, 2, DataType.FLOAT);
    double[] t = {0.01, 0.5, 1.0};
    assertArrayEquals(direct.score(x, t).ravel().toDoubleVector(), rebuilt.score(x, t).ravel().toDoubleVector(), 0.0);
    rebuilt.close();
    direct.close();
    assertEquals(0.0, w.get(MlpConfig.OUT_B).sumNumber().doubleValue(), 0.0, "a model that does not own its weights leaves them");
  }

  @Test
  void offlineSamplingLeavesNothingBehind() {
    Sde sde = Sde.named("vp");
    MlpScoreModel model = MlpScoreModel.owning(NetworkWeights.initialize(SMALL, 6), sde);
    SamplerProgram program = SamplerProgram.PredictorCorrector.defaults(sde, 20);
    // Warm-up: per-thread buffers for the batch size.
    Sampling.run(model, program, 64, 3, null, null);
    long baseline = NativeMemory.nd4jBytes();
    for (int i = 0; i < 20; i++) Sampling.run(model, program, 64, 3 + i, null, null);
    assertTrue(NativeMemory.nd4jBytes() - baseline < BOUND,
        "420 sampler ticks: " + NativeMemory.mib(NativeMemory.nd4jBytes() - baseline));
    model.close();
  }
}
