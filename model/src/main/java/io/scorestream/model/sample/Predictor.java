package io.scorestream.model.sample;

import io.scorestream.model.sde.Sde;
import java.util.Locale;

/**
 * Predictors for the reverse-time SDE dx = [f(x, t) - g(t)^2 s(x, t)] dt + g(t) dw (Song et al. 2021, eq. 6), each
 * one step from t down to tNext written as the per-row affine update x' = a x + b s + c z (see {@link Affine}).
 */
public enum Predictor {
  /**
   * Euler-Maruyama on the reverse SDE ({@link Sde#reverse}): x' = x - [a(t) x + b(t) s] dt + g sqrt(dt) z with
   * dt = t - tNext, a = f's coefficient, b = -g^2.
   */
  EULER_MARUYAMA("euler-maruyama") {
    @Override
    public Affine coefficients(Sde sde, double t, double tNext) {
      double dt = t - tNext;
      Sde.Reverse rev = sde.reverse(false);
      return new Affine(1 - rev.stateCoeff(t) * dt, -rev.scoreCoeff(t) * dt, rev.diffusion(t) * Math.sqrt(dt));
    }
  },
  /** Reverse diffusion (Song et al. 2021, eq. 46-47): the reverse of the SDE's discretisation, x' = x - f_d x + G^2 s + G z. */
  REVERSE_DIFFUSION("reverse-diffusion") {
    @Override
    public Affine coefficients(Sde sde, double t, double tNext) {
      double[] c = sde.reverse(false).discretize(t, t - tNext);
      return new Affine(c[0], c[1], c[2]);
    }
  },
  /**
   * Ancestral sampling from the Gaussian posterior q(x_tNext | x_t, x0) with x0 replaced by its Tweedie estimate;
   * reduces to SMLD ancestral sampling for VE and DDPM's for VP (Ho et al. 2020, eq. 7). With alpha = m(t)/m(tNext)
   * and v = std(t)^2 - alpha^2 std(tNext)^2: x' = x / alpha + (v / alpha) s + sqrt(v std(tNext)^2 / std(t)^2) z.
   */
  ANCESTRAL("ancestral") {
    @Override
    public Affine coefficients(Sde sde, double t, double tNext) {
      double alpha = sde.meanCoeff(t) / sde.meanCoeff(tNext);
      double st = sde.std(t);
      double sn = sde.std(tNext);
      double v = Math.max(st * st - alpha * alpha * sn * sn, 0.0);
      return new Affine(1 / alpha, v / alpha, Math.sqrt(v * sn * sn / (st * st)));
    }
  },
  /** No predictor: the state is left unchanged (corrector-only sampling). */
  NONE("none") {
    @Override
    public Affine coefficients(Sde sde, double t, double tNext) {
      return Affine.IDENTITY;
    }
  };

  private final String label;

  Predictor(String label) {
    this.label = label;
  }

  /** The per-row coefficients of one step from t to tNext < t. */
  public abstract Affine coefficients(Sde sde, double t, double tNext);

  public String label() { return label; }

  public static Predictor named(String name) {
    for (Predictor p : values()) {
      if (p.label.equals(name.toLowerCase(Locale.ROOT))) return p;
    }
    throw new IllegalArgumentException("unknown predictor '" + name
        + "' (expected euler-maruyama, reverse-diffusion, ancestral or none)");
  }
}
