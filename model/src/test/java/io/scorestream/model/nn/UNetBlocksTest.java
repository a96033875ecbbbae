package io.scorestream.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The U-Net's blocks in float64 on tiny shapes: SameDiff's gradients of a residual block (with a channel change
 * and a time embedding) agree with central differences for the input, the embedding input and a sample of every
 * parameter; the Fourier features are the sines and cosines they claim to be.
 */
class UNetBlocksTest {
  private static final int B = 2;
  private static final int IN = 2;
  private static final int OUT = 4;
  private static final int S = 4;
  private static final int EMB = 3;

  private static INDArray random(long seed, long... shape) {
    SplittableRandom rng = new SplittableRandom(seed);
    long n = 1;
    for (long s : shape) n *= s;
    double[] v = new double[(int) n];
    for (int i = 0; i < v.length; i++) v[i] = rng.nextDouble() * 2 - 1;
    return Nd4j.createFromArray(v).reshape(shape);
  }

  private static SameDiff block() {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.var("x", random(1, B, IN, S, S));
    SDVariable emb = sd.var("emb", random(2, B, EMB));
    SDVariable y = UNetBlocks.resBlock(sd, "res", x, IN, OUT, emb, EMB, 2, 9);
    SDVariable r = sd.constant("r", random(3, B, OUT, S, S));
    y.mul(r).sum().rename("loss");
    sd.setLossVariables("loss");
    return sd;
  }

  private static double loss(SameDiff sd) {
    return sd.outputSingle(Map.of(), "loss").getDouble(0);
  }

  @Test
  void residualBlockGradientsAgreeWithCentralDifferences() {
    SameDiff sd = block();
    List<String> names = List.of("x", "emb", "res/gn1/gamma", "res/gn1/beta", "res/conv1/w", "res/conv1/b",
        "res/emb/w", "res/emb/b", "res/gn2/gamma", "res/conv2/w", "res/conv2/b", "res/skip/w", "res/skip/b");
    assertGradientsMatchCentralDifferences(sd, names);
  }

  /**
   * SameDiff's gradients of sd's loss with respect to each named float64 variable against central differences:
   * every element of the small ones, a spread of 12 of the larger ones.
   */
  private static void assertGradientsMatchCentralDifferences(SameDiff sd, List<String> names) {
    Map<String, INDArray> grads = sd.calculateGradients(Map.of(), names.toArray(String[]::new));
    double h = 1e-6;
    for (String name : names) {
      INDArray p = sd.getVariable(name).getArr();
      assertEquals(DataType.DOUBLE, p.dataType(), name);
      INDArray g = grads.get(name);
      long n = p.length();
      long stride = Math.max(1, n / 12);
      for (long i = 0; i < n; i += stride) {
        double keep = p.getDouble(i);
        p.putScalar(i, keep + h);
        double up = loss(sd);
        p.putScalar(i, keep - h);
        double down = loss(sd);
        p.putScalar(i, keep);
        double numeric = (up - down) / (2 * h);
        assertEquals(numeric, g.getDouble(i), 1e-5 * Math.max(1, Math.abs(numeric)), name + "[" + i + "]");
      }
    }
  }

  @Test
  void attentionGradientsAgreeWithCentralDifferencesAndItsWeightsSumToOne() {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.var("x", random(4, B, OUT, 3, 2));
    SDVariable y = UNetBlocks.attention(sd, "attn", x, OUT, 3, 2, 2, 11);
    SDVariable r = sd.constant("r", random(5, B, OUT, 3, 2));
    y.mul(r).sum().rename("loss");
    sd.setLossVariables("loss");
    List<String> names = List.of("x", "attn/gn/gamma", "attn/q/w", "attn/k/w", "attn/v/w", "attn/v/b", "attn/proj/w",
        "attn/proj/b");
    assertGradientsMatchCentralDifferences(sd, names);
    // The softmax's weights over the keys of each query sum to one.
    String softmax = sd.ops()[java.util.Arrays.stream(sd.ops()).map(o -> o.opName()).toList().indexOf("softmax")]
        .outputVariable().name();
    INDArray a = sd.outputSingle(Map.of(), softmax);
    INDArray sums = a.sum(1);
    for (long i = 0; i < sums.length(); i++) assertEquals(1.0, sums.getDouble(i), 1e-12);
  }

  @Test
  void fourierFeaturesAreSinesAndCosinesOfTheCondition() {
    SameDiff sd = SameDiff.create();
    SDVariable c = sd.constant("c", Nd4j.createFromArray(new double[][] {{0.0}, {0.3}, {-1.2}}));
    INDArray f = UNetBlocks.fourierEmbedding(sd, "fourier", c, 5, 16.0, 4).eval();
    assertArrayEquals(new long[] {3, 10}, f.shape());
    double[] w = sd.getVariable("fourier/w").getArr().dup().data().asDouble();
    double[] cond = {0.0, 0.3, -1.2};
    for (int b = 0; b < 3; b++) {
      for (int j = 0; j < 5; j++) {
        assertEquals(Math.sin(cond[b] * w[j]), f.getDouble(b, j), 1e-12);
        assertEquals(Math.cos(cond[b] * w[j]), f.getDouble(b, 5 + j), 1e-12);
      }
    }
  }
}
