package io.scorestream.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.data.ImageData;
import io.scorestream.model.score.NetworkConfig;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.score.WeightsSnapshot;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.Checkpoint;
import io.scorestream.model.train.Objective;
import io.scorestream.model.train.ScoreTrainer;
import io.scorestream.model.train.TrainConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The toy U-Net through the network seam on real MNIST digits (model/mnist/setup-mnist.sh) under the VP SDE: the
 * trainer that trains the MLP trains it, checkpoints carry it, and its inference path computes the training graph's
 * score.
 */
class UNetGraphTest {
  private static final Sde VP = Sde.named("vp");
  private static final Path DIR = Path.of(System.getProperty("scorestream.mnist", "mnist/data"));
  private static final UNetConfig SMALL = new UNetConfig(1, 28, 28, 8, 4, false, 10);

  private static TrainConfig config() {
    return new TrainConfig(Objective.DSM, false, 16, 2e-3, 0, 1.0, 0.99, 7, 100, false, true, 0.1);
  }

  /** The held-out DSM loss of weights: the same digits, times and noise for every call. */
  private static double heldOutLoss(NetworkWeights w) {
    ScoreTrainer eval = new ScoreTrainer(w, VP, config().withBatchSize(64), ImageData.mnist(DIR, "heldout"));
    try {
      return eval.lossAt(0);
    } finally {
      eval.close();
    }
  }

  @Test
  void scoreTrainerTrainsTheUNetOnDigitsAndTheHeldOutLossFalls() {
    NetworkWeights init = SMALL.initialize(3);
    double before = heldOutLoss(init);
    ScoreTrainer trainer = new ScoreTrainer(init, VP, config(), ImageData.mnist(DIR, "train"));
    for (int i = 0; i < 60; i++) trainer.trainStep();
    NetworkWeights trained = trainer.weights();
    double after = heldOutLoss(trained);
    System.out.printf("U-Net %s (%d weights): held-out DSM loss per pixel %.4f -> %.4f after 60 steps%n",
        SMALL.describe(), init.parameterCount(), before, after);
    assertTrue(after < 0.5 * before, "held-out loss " + before + " -> " + after);
    trainer.close();
  }

  @Test
  void inferenceComputesTheTrainingGraphsScoreAndACheckpointKeepsIt(@TempDir Path tmp) {
    ScoreTrainer trainer = new ScoreTrainer(SMALL.initialize(4), VP, config(), ImageData.mnist(DIR, "train"));
    for (int i = 0; i < 3; i++) trainer.trainStep();
    Checkpoint.of(trainer, "mnist").write(tmp);
    Checkpoint back = Checkpoint.read(tmp);
    assertEquals(SMALL, back.ema().config());
    assertEquals(3, back.step());

    INDArray x = Nd4j.rand(DataType.FLOAT, 5, 784).subi(0.5);
    double[] t = {0.05, 0.2, 0.5, 0.8, 1.0};
    int[] labels = {0, 3, ScoreModel.NULL_LABEL, 9, 3};
    try (ScoreModel live = trainer.emaWeights().model(VP); ScoreModel read = WeightsSnapshot.of(back.ema()).model(VP)) {
      assertArrayEquals(new long[] {1, 28, 28}, live.shape());
      assertEquals(10, live.classes());
      INDArray a = live.score(x, t, labels);
      assertArrayEquals(a.data().asFloat(), read.score(x, t, labels).data().asFloat(), 0f);
      // Labels change the score; the null label is the unconditional score.
      assertNotEquals(0.0, a.getRow(1).sub(live.score(x, t).getRow(1)).norm2Number().doubleValue());
      assertArrayEquals(live.score(x, t).getRow(2).toFloatVector(), a.getRow(2).toFloatVector(), 0f);
      assertThrows(IllegalArgumentException.class, () -> live.score(x, t, new int[] {0, 0, 0, 0, 10}));
    }
    trainer.close();
    back.close();
  }

  @Test
  void theUNetRefusesLossesItCannotExpressAndForeignWeights() {
    NetworkWeights w = SMALL.initialize(1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SMALL.trainingGraph(w, Objective.SSM, true));
    assertTrue(e.getMessage().contains("dsm"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new NetworkWeights(new UNetConfig(1, 28, 28, 8, 4, true, 10), w.asMap()));
    assertEquals(SMALL, NetworkConfig.fromJson(SMALL.toJson(new com.fasterxml.jackson.databind.ObjectMapper()
        .createObjectNode())));
  }

  @Test
  void attentionAddsExactlyItsBlocksWeightsAndStartsNearTheIdentity() {
    UNetConfig plain = new UNetConfig(1, 28, 28, 8, 4, false, 0);
    UNetConfig attn = new UNetConfig(1, 28, 28, 8, 4, true, 0);
    // Attention adds 4 (16 x 16 + 16) + 2 x 16 weights (q, k, v, proj; the group norm's gamma and beta).
    long diff = attn.initialize(3).parameterCount() - plain.initialize(3).parameterCount();
    assertEquals(4 * (16 * 16 + 16) + 2 * 16, diff);
    double a = heldOutLossUnconditional(attn);
    double p = heldOutLossUnconditional(plain);
    assertEquals(p, a, 0.05 * p, "a fresh attention block (0.1-gain projection) barely moves the loss");
  }

  private static double heldOutLossUnconditional(UNetConfig c) {
    ScoreTrainer eval = new ScoreTrainer(c.initialize(3), VP, config().withBatchSize(16).withLabelDropout(0),
        ImageData.mnist(DIR, "heldout"));
    try {
      return eval.lossAt(0);
    } finally {
      eval.close();
    }
  }
}
