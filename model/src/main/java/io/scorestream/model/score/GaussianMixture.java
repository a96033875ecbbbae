package io.scorestream.model.score;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A mixture of isotropic Gaussians sum_k w_k N(mu_k, var_k I). Under a linear SDE each component becomes
 * N(m(t) mu_k, (m(t)^2 var_k + std(t)^2) I), which gives the exact perturbed score used as the test oracle.
 * Immutable.
 *
 * @param weights mixture weights, summing to 1
 * @param means   component means [K][D]
 * @param vars    per-component isotropic variances [K]
 */
public record GaussianMixture(String name, double[] weights, double[][] means, double[] vars) {

  public GaussianMixture {
    if (weights.length == 0 || weights.length != means.length || weights.length != vars.length) {
      throw new IllegalArgumentException("mixture needs K >= 1 weights, means and variances of equal count");
    }
    double total = Arrays.stream(weights).sum();
    if (Math.abs(total - 1.0) > 1e-9) throw new IllegalArgumentException("mixture weights sum to " + total);
    weights = weights.clone();
    means = Arrays.stream(means).map(double[]::clone).toArray(double[][]::new);
    vars = vars.clone();
  }

  /** The names accepted by {@link #named(String)}. */
  public static final List<String> NAMES = List.of("ncsn-gmm", "gmm8");

  /**
   * {@code ncsn-gmm}: 0.8 N((5,5), I) + 0.2 N((-5,-5), I), the toy of Song and Ermon 2019, section 3.2.
   * {@code gmm8}: eight equal Gaussians of std 0.5 centred at radius 4 on the angles k pi / 4.
   */
  public static GaussianMixture named(String name) {
    switch (name.toLowerCase(Locale.ROOT)) {
      case "ncsn-gmm":
        return new GaussianMixture("ncsn-gmm", new double[] {0.8, 0.2},
            new double[][] {{5, 5}, {-5, -5}}, new double[] {1, 1});
      case "gmm8": {
        double[] w = new double[8];
        double[][] mu = new double[8][];
        double[] v = new double[8];
        for (int k = 0; k < 8; k++) {
          double a = k * Math.PI / 4;
          w[k] = 1.0 / 8;
          mu[k] = new double[] {4 * Math.cos(a), 4 * Math.sin(a)};
          v[k] = 0.25;
        }
        return new GaussianMixture("gmm8", w, mu, v);
      }
      default:
        throw new IllegalArgumentException("unknown mixture '" + name + "' (expected one of " + NAMES + ")");
    }
  }

  /**
   * The sigma ladder {sigma_1, sigma_L} of the paper that introduced the mixture, when it has one: ncsn-gmm's is
   * NCSN's toy ladder 20 .. 1 (Song and Ermon 2019, section 3.3). Annealed Langevin dynamics uses it by default, so
   * the paper's experiment is what {@code --sampler ald} runs.
   */
  public java.util.Optional<double[]> paperLadder() {
    return name.equals("ncsn-gmm") ? java.util.Optional.of(new double[] {20, 1}) : java.util.Optional.empty();
  }

  public int dim() { return means[0].length; }

  public int components() { return weights.length; }

  /** Draws n samples; the stream depends only on the seed. */
  public double[][] sample(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[][] out = new double[n][dim()];
    for (int i = 0; i < n; i++) {
      int k = pickComponent(rng.nextDouble());
      double sd = Math.sqrt(vars[k]);
      for (int j = 0; j < dim(); j++) {
        out[i][j] = means[k][j] + sd * gaussian(rng);
      }
    }
    return out;
  }

  private int pickComponent(double u) {
    double acc = 0;
    for (int k = 0; k < weights.length; k++) {
      acc += weights[k];
      if (u < acc) return k;
    }
    return weights.length - 1;
  }

  /** Index of the component whose mean is nearest to x (the "mode" a sample falls in). */
  public int nearestMode(double[] x) {
    int best = 0;
    double bestD = Double.POSITIVE_INFINITY;
    for (int k = 0; k < means.length; k++) {
      double d = 0;
      for (int j = 0; j < x.length; j++) {
        double e = x[j] - means[k][j];
        d += e * e;
      }
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    }
    return best;
  }

  /**
   * log p(x) of the mixture convolved with the SDE kernel: components N(m mu_k, (m^2 var_k + s^2) I).
   * With m = 1 and s = 0 it is the mixture's own log-density.
   */
  public double logDensity(double[] x, double m, double s) {
    int d = x.length;
    double max = Double.NEGATIVE_INFINITY;
    double[] lk = new double[weights.length];
    for (int k = 0; k < weights.length; k++) {
      double var = m * m * vars[k] + s * s;
      double sq = 0;
      for (int j = 0; j < d; j++) {
        double e = x[j] - m * means[k][j];
        sq += e * e;
      }
      lk[k] = Math.log(weights[k]) - 0.5 * d * Math.log(2 * Math.PI * var) - 0.5 * sq / var;
      max = Math.max(max, lk[k]);
    }
    double acc = 0;
    for (double v : lk) acc += Math.exp(v - max);
    return max + Math.log(acc);
  }

  /** Box-Muller from a SplittableRandom; used only for data generation, never for sampler noise. */
  static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
