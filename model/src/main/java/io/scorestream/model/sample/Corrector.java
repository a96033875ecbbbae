package io.scorestream.model.sample;

import io.scorestream.model.sde.Sde;
import java.util.Locale;

/**
 * Correctors: Langevin MCMC steps at a fixed noise level t (Song et al. 2021, algorithms 4 and 5), written as the
 * per-row affine update x' = x + eps s + sqrt(2 eps) z. The step eps is computed per chain from that chain's own
 * score and noise norms, never from batch averages.
 */
public enum Corrector {
  /**
   * Langevin corrector with the step set by a target signal-to-noise ratio r:
   * eps = 2 alpha (r ||z|| / ||s||)^2, alpha = 1 - beta(t) dt for VP and sub-VP, 1 for VE (algorithm 5), computed
   * from this chain's own norms and capped at alpha std(t)^2. ||z|| enters as its expectation sqrt(D): a step that
   * scales with the drawn noise's own norm injects noise of covariance 2 eps (D + 2) / D instead of 2 eps, which
   * doubles the temperature at D = 2 (score_sde averages the norm over a batch of images, where D + 2 ~ D).
   *
   * <p>Why the cap: in few dimensions one chain's ||s|| is often near zero (at a mode), so the ratio is heavy-tailed
   * and the uncapped step explodes. Since p_t is p_0 smoothed by N(0, std(t)^2 I), the curvature of -log p_t is at
   * most 1 / std(t)^2, so eps <= std(t)^2 keeps every step inside Langevin's stable range. With D in the
   * thousands (images) the ratio concentrates and the cap rarely binds.
   */
  LANGEVIN("langevin") {
    @Override
    public Affine coefficients(Sde sde, double t, double dt, double snr, double scoreNorm, double noiseNorm) {
      double alpha = alpha(sde, t, dt);
      double std = sde.std(t);
      double cap = alpha * std * std;
      double ratio = snr * noiseNorm / scoreNorm; // noiseNorm: sqrt(D), see above
      double eps = scoreNorm > 0 ? Math.min(2 * alpha * ratio * ratio, cap) : cap;
      return new Affine(1, eps, Math.sqrt(2 * eps));
    }
  },
  /** Annealed Langevin dynamics as a corrector: eps = 2 alpha (r std(t))^2 (score_sde's ALD corrector). */
  ALD("ald") {
    @Override
    public Affine coefficients(Sde sde, double t, double dt, double snr, double scoreNorm, double noiseNorm) {
      double s = snr * sde.std(t);
      double eps = 2 * alpha(sde, t, dt) * s * s;
      return new Affine(1, eps, Math.sqrt(2 * eps));
    }
  },
  /** No corrector. */
  NONE("none") {
    @Override
    public Affine coefficients(Sde sde, double t, double dt, double snr, double scoreNorm, double noiseNorm) {
      return Affine.IDENTITY;
    }
  };

  private final String label;

  Corrector(String label) {
    this.label = label;
  }

  /** alpha_i of algorithm 5, the SDE's own ({@link Sde#correctorAlpha}): 1 for VE, 1 - beta_i for the VP family. */
  static double alpha(Sde sde, double t, double dt) {
    return sde.correctorAlpha(t, dt);
  }

  /** Whether the step depends on the chain's score and noise norms. */
  public boolean needsNorms() {
    return this == LANGEVIN;
  }

  /** The per-row coefficients of one corrector step at time t (dt is the size of the surrounding predictor step). */
  public abstract Affine coefficients(Sde sde, double t, double dt, double snr, double scoreNorm, double noiseNorm);

  public String label() { return label; }

  public static Corrector named(String name) {
    for (Corrector c : values()) {
      if (c.label.equals(name.toLowerCase(Locale.ROOT))) return c;
    }
    throw new IllegalArgumentException("unknown corrector '" + name + "' (expected langevin, ald or none)");
  }
}
