package io.scorestream.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.score.NetworkConfig;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.TrainingGraph;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The U-Net's inference path outside SameDiff ({@link UNetForward}, behind {@link UNetScoreModel}) computes the
 * function of the training graph's score output, for every block: conditional and not, with self-attention, several
 * channels and a non-square image, one row, a few, and more rows than one chunk. Every parameter is perturbed off its
 * initial value first (zero biases, unit gammas and 0.1-gain convolutions would hide a wrong wiring).
 */
class UNetForwardTest {
  private static final Sde VP = Sde.named("vp");
  private static final Sde VE = Sde.named("ve");

  /** Fresh weights of c with every parameter moved by N(0, 0.3^2) (the Fourier frequencies kept). */
  private static NetworkWeights perturbed(UNetConfig c, long seed) {
    NetworkWeights init = c.initialize(seed);
    SplittableRandom rng = new SplittableRandom(seed + 100);
    Map<String, INDArray> p = new LinkedHashMap<>();
    init.asMap().forEach((name, a) -> {
      INDArray copy = a.dup();
      if (!name.equals(UNetConfig.FOURIER)) {
        float[] v = copy.data().asFloat();
        for (int i = 0; i < v.length; i++) v[i] += (float) (0.3 * (rng.nextDouble() * 2 - 1) * Math.sqrt(3));
        copy = Nd4j.create(v, a.shape(), DataType.FLOAT);
      }
      p.put(name, copy);
    });
    init.close();
    return new NetworkWeights(c, p);
  }

  /** The training graph's score output for x, t and labels (null label = K), as {@link UNetGraph} builds it. */
  private static float[] graphScore(UNetConfig c, NetworkWeights w, Sde sde, INDArray x, double[] t, int[] labels) {
    try (UNetGraph g = UNetGraph.build(c, 0)) {
      g.load(w);
      Map<String, INDArray> feed = new HashMap<>();
      feed.put("x", x);
      feed.put("cond", Sde.column(t, DataType.FLOAT, sde::networkCondition));
      feed.put("scale", Sde.column(t, DataType.FLOAT, tt -> NetworkConfig.outputScale(sde, tt)));
      if (c.classes() > 0) {
        INDArray oneHot = Nd4j.zeros(DataType.FLOAT, t.length, c.classes() + 1);
        for (int i = 0; i < t.length; i++) {
          int y = labels == null || labels[i] == ScoreModel.NULL_LABEL ? c.classes() : labels[i];
          oneHot.putScalar(i, y, 1.0);
        }
        feed.put("label", oneHot);
      }
      return g.sameDiff().output(feed, TrainingGraph.SCORE).get(TrainingGraph.SCORE).dup().data().asFloat();
    }
  }

  private static void assertSameFunction(UNetConfig c, Sde sde, int rows, long seed) {
    NetworkWeights w = perturbed(c, seed);
    SplittableRandom rng = new SplittableRandom(seed);
    INDArray x = Nd4j.rand(DataType.FLOAT, rows, c.dim()).subi(0.5).muli(2);
    double[] t = new double[rows];
    int[] labels = c.classes() > 0 ? new int[rows] : null;
    for (int i = 0; i < rows; i++) {
      t[i] = 0.02 + 0.98 * rng.nextDouble();
      if (labels != null) labels[i] = i % 4 == 3 ? ScoreModel.NULL_LABEL : rng.nextInt(c.classes());
    }
    float[] expected = graphScore(c, w, sde, x, t, labels);
    try (ScoreModel m = c.scoreModel(w, sde, false)) {
      float[] got = m.score(x, t, labels).data().asFloat();
      double scale = 0;
      double worst = 0;
      for (int i = 0; i < expected.length; i++) {
        scale = Math.max(scale, Math.abs(expected[i]));
        worst = Math.max(worst, Math.abs(expected[i] - got[i]));
      }
      assertTrue(scale > 0.1, "a non-trivial score (max |s| " + scale + ")");
      assertTrue(worst <= 2e-4 * scale, c.describe() + " with " + rows + " rows: max |forward - graph| " + worst
          + " against max |s| " + scale);
      // Buffers are kept per batch size: another size in between changes nothing.
      m.score(Nd4j.rand(DataType.FLOAT, 3, c.dim()), new double[] {0.1, 0.5, 0.9},
          c.classes() > 0 ? new int[] {0, 1 % c.classes(), ScoreModel.NULL_LABEL} : null);
      assertArrayEquals(got, m.score(x, t, labels).data().asFloat(), 0f, "the same call gives the same scores");
    }
    w.close();
  }

  @Test
  void theConditionalNetworkMatchesItsGraphAtOneAndSeveralRows() {
    UNetConfig c = new UNetConfig(1, 8, 8, 8, 4, false, 3);
    assertSameFunction(c, VP, 1, 1);
    assertSameFunction(c, VP, 6, 2);
  }

  @Test
  void attentionSeveralChannelsAndANonSquareImageUnderVe() {
    assertSameFunction(new UNetConfig(2, 8, 12, 8, 2, true, 0), VE, 5, 3);
  }

  @Test
  void oddSizesAtHalfResolutionGoThroughTheRowPairsOfWinogradsTransform() {
    // 10 x 6 is 5 x 3 after the downsampling: the last output row of each half-resolution layer has no pair.
    assertSameFunction(new UNetConfig(1, 10, 6, 8, 4, false, 0), VP, 3, 5);
  }

  @Test
  void batchesLargerThanAChunkAreComputedInChunksWithTheSameResult() {
    assertSameFunction(new UNetConfig(1, 8, 8, 8, 4, false, 2), VP, UNetForward.MAX_CHUNK + 9, 4);
  }
}
