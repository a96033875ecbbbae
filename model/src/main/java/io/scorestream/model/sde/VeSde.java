package io.scorestream.model.sde;

/**
 * The variance-exploding SDE dx = sqrt(d[sigma^2]/dt) dw with sigma(t) = sigma_min (sigma_max / sigma_min)^t
 * (Song et al. 2021, eq. 30), the continuous limit of NCSN/SMLD. m(t) = 1 and std(t) = sigma(t).
 */
public final class VeSde extends Sde {
  private final double sigmaMin;
  private final double sigmaMax;
  private final double logRatio;

  public VeSde(double sigmaMin, double sigmaMax) {
    if (!(sigmaMin > 0) || !(sigmaMax > sigmaMin)) {
      throw new IllegalArgumentException("VE SDE needs 0 < sigma-min < sigma-max, got " + sigmaMin + ", " + sigmaMax);
    }
    this.sigmaMin = sigmaMin;
    this.sigmaMax = sigmaMax;
    this.logRatio = Math.log(sigmaMax / sigmaMin);
  }

  /** The parameter sigma_min = sigma(0) (samplers stop at sigma(eps), a hair above it). */
  public double sigmaMin() { return sigmaMin; }

  /** The parameter sigma_max = sigma(1). */
  public double sigmaMax() { return sigmaMax; }

  /** sigma(t) = sigma_min (sigma_max / sigma_min)^t (m = 1, so this is also std(t)). */
  @Override
  public double sigma(double t) {
    return sigmaMin * Math.exp(t * logRatio);
  }

  @Override public Kind kind() { return Kind.VE; }

  @Override public double driftCoeff(double t) { return 0.0; }

  @Override public double diffusion(double t) { return sigma(t) * Math.sqrt(2 * logRatio); }

  @Override public double meanCoeff(double t) { return 1.0; }

  @Override public double std(double t) { return sigma(t); }

  @Override public double priorStd() { return sigmaMax; }

  @Override public double tEps() { return 1e-5; }

  /** SMLD discretisation: G = sqrt(sigma(t)^2 - sigma(t - dt)^2), no drift (Song et al. 2021, eq. 46). */
  @Override
  public double[] discretize(double t, double dt) {
    double s = sigma(t);
    double prev = t - dt <= 0 ? 0.0 : sigma(t - dt);
    return new double[] {0.0, Math.sqrt(Math.max(s * s - prev * prev, 0.0))};
  }

  @Override public double timeForStd(double sigma) { return Math.log(sigma / sigmaMin) / logRatio; }

  @Override public double timeForSigma(double sigma) { return timeForStd(sigma); }

  @Override public double networkCondition(double t) { return Math.log(sigma(t)); }

  @Override public String describe() { return "ve(sigma-min=" + sigmaMin + ", sigma-max=" + sigmaMax + ")"; }
}
