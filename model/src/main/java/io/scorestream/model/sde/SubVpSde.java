package io.scorestream.model.sde;

/**
 * The sub-VP SDE dx = -1/2 beta(t) x dt + sqrt(beta(t) (1 - exp(-2 B(t)))) dw (Song et al. 2021, eq. 34), whose
 * variance is bounded by the VP SDE's: m(t) = exp(-1/2 B(t)), std(t) = 1 - exp(-B(t)).
 */
public final class SubVpSde extends VpSde {

  public SubVpSde(double betaMin, double betaMax) {
    super(betaMin, betaMax);
  }

  @Override public Kind kind() { return Kind.SUBVP; }

  @Override
  public double diffusion(double t) {
    return Math.sqrt(beta(t) * -Math.expm1(-2 * integratedBeta(t)));
  }

  @Override public double std(double t) { return -Math.expm1(-integratedBeta(t)); }

  /** Solves std(t) = sigma: B(t) = -log(1 - sigma). */
  @Override
  public double timeForStd(double sigma) {
    return timeForIntegratedBeta(-Math.log1p(-sigma));
  }

  /** Solves sigma(t) = (1 - exp(-B)) / exp(-B/2) = 2 sinh(B/2) = sigma: B(t) = 2 asinh(sigma / 2). */
  @Override
  public double timeForSigma(double sigma) {
    double h = sigma / 2;
    return timeForIntegratedBeta(2 * Math.log(h + Math.sqrt(h * h + 1)));
  }

  /** sigma(t) = 2 sinh(B(t) / 2). */
  @Override
  public double sigma(double t) {
    return 2 * Math.sinh(0.5 * integratedBeta(t));
  }

  /** Euler-Maruyama discretisation; sub-VP has no classical discrete counterpart. */
  @Override
  public double[] discretize(double t, double dt) {
    return new double[] {driftCoeff(t) * dt, diffusion(t) * Math.sqrt(dt)};
  }

  @Override public String describe() { return "subvp(beta-min=" + betaMin + ", beta-max=" + betaMax + ")"; }
}
