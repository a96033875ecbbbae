package io.scorestream.model.eval;

import io.scorestream.model.score.GaussianMixture;

/**
 * Sample quality against a known Gaussian mixture: the fraction of samples nearest each component mean (mode
 * weights) and the per-mode standard deviation (pooled over dimensions, about the mode's sample mean).
 */
public record MixtureStats(double[] modeWeights, double[] modeStds) {

  public static MixtureStats of(GaussianMixture mixture, double[][] samples) {
    int k = mixture.components();
    int d = mixture.dim();
    long[] count = new long[k];
    double[][] sum = new double[k][d];
    double[][] sumSq = new double[k][d];
    for (double[] x : samples) {
      int m = mixture.nearestMode(x);
      count[m]++;
      for (int j = 0; j < d; j++) {
        sum[m][j] += x[j];
        sumSq[m][j] += x[j] * x[j];
      }
    }
    double[] w = new double[k];
    double[] sd = new double[k];
    for (int m = 0; m < k; m++) {
      w[m] = (double) count[m] / samples.length;
      if (count[m] < 2) {
        sd[m] = Double.NaN;
        continue;
      }
      double var = 0;
      for (int j = 0; j < d; j++) {
        double mean = sum[m][j] / count[m];
        var += sumSq[m][j] / count[m] - mean * mean;
      }
      sd[m] = Math.sqrt(var / d);
    }
    return new MixtureStats(w, sd);
  }

  /** The largest |w_k - target_k| over modes. */
  public double maxWeightError(double[] target) {
    double e = 0;
    for (int k = 0; k < target.length; k++) e = Math.max(e, Math.abs(modeWeights[k] - target[k]));
    return e;
  }

  /** The largest |std_k - target_k| over modes (infinite if a mode is empty). */
  public double maxStdError(double[] target) {
    double e = 0;
    for (int k = 0; k < target.length; k++) {
      e = Double.isNaN(modeStds[k]) ? Double.POSITIVE_INFINITY : Math.max(e, Math.abs(modeStds[k] - target[k]));
    }
    return e;
  }
}
