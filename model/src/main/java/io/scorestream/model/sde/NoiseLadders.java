package io.scorestream.model.sde;

/**
 * The discrete noise schedules of the original papers: the NCSN geometric sigma ladder (Song and Ermon 2019,
 * section 4.2) and the DDPM linear beta schedule (Ho et al. 2020, section 4). Pure functions.
 */
public final class NoiseLadders {
  private NoiseLadders() {}

  /** sigma_1 > ... > sigma_L, geometric from sigmaMax down to sigmaMin, L levels. */
  public static double[] geometricSigmas(double sigmaMax, double sigmaMin, int levels) {
    if (levels < 1) throw new IllegalArgumentException("levels must be >= 1, got " + levels);
    if (!(sigmaMin > 0) || !(sigmaMax >= sigmaMin)) {
      throw new IllegalArgumentException("need 0 < sigma-min <= sigma-max, got " + sigmaMin + ", " + sigmaMax);
    }
    double[] s = new double[levels];
    if (levels == 1) {
      s[0] = sigmaMax;
      return s;
    }
    double logMax = Math.log(sigmaMax);
    double logMin = Math.log(sigmaMin);
    for (int i = 0; i < levels; i++) {
      s[i] = Math.exp(logMax + (logMin - logMax) * i / (levels - 1));
    }
    return s;
  }

  /** beta_1 .. beta_N linear from betaStart to betaEnd (DDPM uses 1e-4 to 0.02 over 1000 steps). */
  public static double[] linearBetas(double betaStart, double betaEnd, int steps) {
    if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
    double[] b = new double[steps];
    for (int i = 0; i < steps; i++) {
      b[i] = steps == 1 ? betaStart : betaStart + (betaEnd - betaStart) * i / (steps - 1);
    }
    return b;
  }

  /** alpha-bar_i = prod_{j <= i} (1 - beta_j), the DDPM marginal signal fraction. */
  public static double[] alphaBars(double[] betas) {
    double[] a = new double[betas.length];
    double acc = 1.0;
    for (int i = 0; i < betas.length; i++) {
      acc *= 1.0 - betas[i];
      a[i] = acc;
    }
    return a;
  }
}
