package io.scorestream.model.sde;

/**
 * The variance-preserving SDE dx = -1/2 beta(t) x dt + sqrt(beta(t)) dw with beta(t) = beta_min + t (beta_max -
 * beta_min) (Song et al. 2021, eq. 32), the continuous limit of DDPM. m(t) = exp(-1/2 B(t)) and
 * std(t) = sqrt(1 - exp(-B(t))) with B(t) = integral_0^t beta.
 */
public class VpSde extends Sde {
  protected final double betaMin;
  protected final double betaMax;

  public VpSde(double betaMin, double betaMax) {
    if (!(betaMin > 0) || !(betaMax > betaMin)) {
      throw new IllegalArgumentException("VP SDE needs 0 < beta-min < beta-max, got " + betaMin + ", " + betaMax);
    }
    this.betaMin = betaMin;
    this.betaMax = betaMax;
  }

  public double betaMin() { return betaMin; }

  public double betaMax() { return betaMax; }

  public double beta(double t) {
    return betaMin + t * (betaMax - betaMin);
  }

  /** B(t) = integral_0^t beta(s) ds. */
  public double integratedBeta(double t) {
    return betaMin * t + 0.5 * t * t * (betaMax - betaMin);
  }

  @Override public Kind kind() { return Kind.VP; }

  @Override public double driftCoeff(double t) { return -0.5 * beta(t); }

  @Override public double diffusion(double t) { return Math.sqrt(beta(t)); }

  @Override public double meanCoeff(double t) { return Math.exp(-0.5 * integratedBeta(t)); }

  @Override public double std(double t) { return Math.sqrt(-Math.expm1(-integratedBeta(t))); }

  @Override public double priorStd() { return 1.0; }

  @Override public double tEps() { return 1e-3; }

  /** Solves std(t) = sigma: B(t) = -log(1 - sigma^2), a quadratic in t. */
  @Override
  public double timeForStd(double sigma) {
    return timeForIntegratedBeta(-Math.log1p(-sigma * sigma));
  }

  /** Solves sigma(t) = sqrt(exp(B(t)) - 1) = sigma: B(t) = log(1 + sigma^2). */
  @Override
  public double timeForSigma(double sigma) {
    return timeForIntegratedBeta(Math.log1p(sigma * sigma));
  }

  /** sigma(t) = sqrt(exp(B(t)) - 1), computed without cancellation at small t. */
  @Override
  public double sigma(double t) {
    return Math.sqrt(Math.expm1(integratedBeta(t)));
  }

  /** alpha_i = 1 - beta_i with beta_i = beta(t) dt, score_sde's {@code sde.alphas} (algorithm 5). */
  @Override
  public double correctorAlpha(double t, double dt) {
    return 1 - Math.min(beta(t) * dt, 0.999);
  }

  /** Euler-Maruyama without corrector, score_sde's continuous DDPM++ configs. */
  @Override
  public PcDefaults pcDefaults() {
    return new PcDefaults("euler-maruyama", "none", 0, 0.16);
  }

  /** The t >= 0 with B(t) = target. */
  protected double timeForIntegratedBeta(double target) {
    double a = 0.5 * (betaMax - betaMin);
    return (-betaMin + Math.sqrt(betaMin * betaMin + 4 * a * target)) / (2 * a);
  }

  /** DDPM discretisation with beta_i = beta(t) dt: x_i = sqrt(1 - beta_i) x_{i-1} + sqrt(beta_i) z (eq. 47). */
  @Override
  public double[] discretize(double t, double dt) {
    double b = Math.min(beta(t) * dt, 0.999);
    return new double[] {Math.sqrt(1 - b) - 1, Math.sqrt(b)};
  }

  @Override public String describe() { return "vp(beta-min=" + betaMin + ", beta-max=" + betaMax + ")"; }
}
