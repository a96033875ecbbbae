package io.scorestream.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Group norm built from SameDiff ops: its forward pass is the array function's, each group is normalised to mean
 * beta and std gamma, and its gradients with respect to the input, gamma and beta agree with central differences
 * in float64 on a tiny shape.
 */
class GroupNormTest {
  private static final int N = 2;
  private static final int C = 4;
  private static final int H = 3;
  private static final int W = 2;
  private static final int G = 2;

  private static double[] random(int n, long seed, double scale, double shift) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) v[i] = shift + scale * (rng.nextDouble() * 2 - 1);
    return v;
  }

  /** loss = sum(groupnorm(x) * r) over a graph whose x, gamma and beta are variables. */
  private static SameDiff graph(double[] x, double[] gamma, double[] beta, double[] r) {
    SameDiff sd = SameDiff.create();
    SDVariable xv = sd.var("x", Nd4j.createFromArray(x).reshape(N, C, H, W));
    SDVariable g = sd.var("gamma", Nd4j.createFromArray(gamma).reshape(1, C, 1, 1));
    SDVariable b = sd.var("beta", Nd4j.createFromArray(beta).reshape(1, C, 1, 1));
    SDVariable y = GroupNorm.build(sd, xv, g, b, C, G);
    y.rename("y");
    sd.constant("r", Nd4j.createFromArray(r).reshape(N, C, H, W));
    y.mul(sd.getVariable("r")).sum().rename("loss");
    sd.setLossVariables("loss");
    return sd;
  }

  private static double loss(double[] x, double[] gamma, double[] beta, double[] r) {
    double[] y = GroupNorm.forward(x, N, C, H, W, G, gamma, beta);
    double s = 0;
    for (int i = 0; i < y.length; i++) s += y[i] * r[i];
    return s;
  }

  @Test
  void theGraphComputesTheArrayFunctionAndNormalisesEachGroup() {
    double[] x = random(N * C * H * W, 1, 3, 0.7);
    double[] gamma = random(C, 2, 0.5, 1);
    double[] beta = random(C, 3, 0.5, 0);
    SameDiff sd = graph(x, gamma, beta, new double[x.length]);
    INDArray y = sd.outputSingle(Map.of(), "y");
    double[] expected = GroupNorm.forward(x, N, C, H, W, G, gamma, beta);
    assertArrayEquals(expected, y.dup('c').data().asDouble(), 1e-12);
    // With gamma = 1 and beta = 0 every (sample, group) has mean 0 and variance var / (var + eps) ~ 1.
    double[] unit = GroupNorm.forward(x, N, C, H, W, G, new double[] {1, 1, 1, 1}, new double[C]);
    int per = C / G * H * W;
    for (int k = 0; k < N * G; k++) {
      double m = 0;
      double v = 0;
      for (int i = k * per; i < (k + 1) * per; i++) m += unit[i] / per;
      for (int i = k * per; i < (k + 1) * per; i++) v += (unit[i] - m) * (unit[i] - m) / per;
      assertEquals(0, m, 1e-12);
      assertEquals(1, v, 1e-4);
    }
    assertArrayEquals(expected, GroupNorm.apply(Nd4j.createFromArray(x).reshape(N, C, H, W), G, gamma, beta)
        .dup('c').data().asDouble(), 1e-12);
  }

  @Test
  void gradientsAgreeWithCentralDifferencesInFloat64() {
    double[] x = random(N * C * H * W, 4, 2, 0.3);
    double[] gamma = random(C, 5, 0.5, 1);
    double[] beta = random(C, 6, 0.5, 0);
    double[] r = random(N * C * H * W, 7, 1, 0);
    SameDiff sd = graph(x, gamma, beta, r);
    Map<String, INDArray> grads = sd.calculateGradients(Map.of(), "x", "gamma", "beta");
    double h = 1e-6;
    double[][] params = {x, gamma, beta};
    String[] names = {"x", "gamma", "beta"};
    for (int p = 0; p < params.length; p++) {
      double[] analytic = grads.get(names[p]).dup('c').data().asDouble();
      assertEquals(params[p].length, analytic.length, names[p]);
      for (int i = 0; i < params[p].length; i++) {
        double keep = params[p][i];
        params[p][i] = keep + h;
        double up = loss(x, gamma, beta, r);
        params[p][i] = keep - h;
        double down = loss(x, gamma, beta, r);
        params[p][i] = keep;
        double numeric = (up - down) / (2 * h);
        assertEquals(numeric, analytic[i], 1e-6 * Math.max(1, Math.abs(numeric)), names[p] + "[" + i + "]");
      }
    }
  }

  @Test
  void channelsMustBeAMultipleOfTheGroups() {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.var("x", Nd4j.zeros(DataType.DOUBLE, 1, 6, 2, 2));
    assertThrows(IllegalArgumentException.class, () -> GroupNorm.build(sd, "gn", x, 6, 4));
  }
}
