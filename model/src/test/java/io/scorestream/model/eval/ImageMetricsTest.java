package io.scorestream.model.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The image metrics against closed forms on Gaussian features and degenerate classifiers. */
class ImageMetricsTest {

  private static double[] gaussian(int n, int d, double shift, double std, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[] x = new double[n * d];
    for (int i = 0; i < x.length; i++) {
      double u = 1 - rng.nextDouble();
      x[i] = shift + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
    }
    return x;
  }

  @Test
  void frechetDistanceOfGaussiansMatchesTheClosedForm() {
    int d = 8;
    double[] a = gaussian(20000, d, 0, 1, 1);
    // N(0, I) against N(0.5 1, 4 I): ||mu||^2 = 8 x 0.25 = 2; Tr(I + 4I - 2 (4 I)^1/2) = 8 (1 + 4 - 4) = 8.
    double fd = ImageMetrics.frechetDistance(a, gaussian(20000, d, 0.5, 2, 2), d);
    assertEquals(10.0, fd, 0.3);
    double same = ImageMetrics.frechetDistance(a, gaussian(20000, d, 0, 1, 3), d);
    assertTrue(same < 0.02, "two samples of one Gaussian: " + same);
  }

  @Test
  void kidIsNearZeroForOneDistributionAndPositiveForTwo() {
    int d = 4;
    double[] a = gaussian(800, d, 0, 1, 4);
    double same = ImageMetrics.kernelInceptionDistance(a, gaussian(800, d, 0, 1, 5), d);
    double other = ImageMetrics.kernelInceptionDistance(a, gaussian(800, d, 0.5, 1, 6), d);
    assertEquals(0.0, same, 0.01);
    assertTrue(other > 0.1, "shifted: " + other);
  }

  @Test
  void inceptionScoreRangesFromOneToTheClassCount() {
    int k = 10;
    double[] confidentAndBalanced = new double[100 * k];
    double[] constant = new double[100 * k];
    for (int i = 0; i < 100; i++) {
      confidentAndBalanced[i * k + i % k] = 50;
      constant[i * k + 3] = 50;
    }
    assertEquals(10.0, ImageMetrics.inceptionScore(confidentAndBalanced, k), 1e-6);
    assertEquals(1.0, ImageMetrics.inceptionScore(constant, k), 1e-6);
    assertEquals(0.1, ImageMetrics.accuracy(constant, k, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), 1e-12);
    assertEquals(1.0, ImageMetrics.accuracy(confidentAndBalanced, k, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), 0);
  }
}
