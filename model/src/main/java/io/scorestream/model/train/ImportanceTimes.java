package io.scorestream.model.train;

import io.scorestream.model.sde.Sde;

/**
 * Importance sampling of training times for the likelihood-weighted DSM loss (Song, Durkan, Murray and Ermon 2021,
 * "Maximum likelihood training of score-based diffusion models", section 5): the weighting lambda(t) = g(t)^2 makes
 * the loss a bound on the NLL, and drawing t with density p(t) = g(t)^2 / std(t)^2 / Z on [eps, 1] turns the
 * estimator's weight lambda(t) / p(t) into Z std(t)^2, whose variance is that of the plain std^2-weighted loss.
 * The inverse CDF is tabulated once, on a grid uniform in log t (the density grows like 1 / t near 0 for VP and
 * sub-VP), with the CDF integrated by the trapezoid rule; any SDE works. Immutable.
 */
final class ImportanceTimes {
  private static final int GRID = 4096;
  private final double[] logT;
  private final double[] cdf;

  ImportanceTimes(Sde sde, double eps) {
    if (!(eps > 0 && eps < 1)) throw new IllegalArgumentException("eps must be in (0, 1), got " + eps);
    logT = new double[GRID];
    cdf = new double[GRID];
    double lo = Math.log(eps);
    double prev = 0;
    for (int i = 0; i < GRID; i++) {
      logT[i] = lo + (0 - lo) * i / (GRID - 1);
      double t = Math.exp(logT[i]);
      double s = sde.std(t);
      // p(t) dt = p(t) t d(log t)
      double density = sde.diffusion(t) * sde.diffusion(t) / (s * s) * t;
      if (!(density >= 0) || !Double.isFinite(density)) {
        throw new IllegalArgumentException(sde.describe() + ": g^2 / std^2 is not finite at t = " + t);
      }
      if (i > 0) cdf[i] = cdf[i - 1] + 0.5 * (prev + density) * (logT[i] - logT[i - 1]);
      prev = density;
    }
    double z = cdf[GRID - 1];
    for (int i = 0; i < GRID; i++) cdf[i] /= z;
  }

  /** The time whose CDF is u in [0, 1). */
  double time(double u) {
    int lo = 0;
    int hi = GRID - 1;
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      if (cdf[mid] <= u) lo = mid; else hi = mid;
    }
    double span = cdf[hi] - cdf[lo];
    double f = span > 0 ? (u - cdf[lo]) / span : 0;
    return Math.exp(logT[lo] + f * (logT[hi] - logT[lo]));
  }
}
