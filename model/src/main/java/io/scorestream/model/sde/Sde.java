package io.scorestream.model.sde;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A linear forward SDE dx = f(t) x dt + g(t) dw on [0, 1] (Song et al. 2021, "Score-Based Generative Modeling
 * through Stochastic Differential Equations", eq. 5), with Gaussian perturbation kernel
 * p_0t(x_t | x_0) = N(m(t) x_0, std(t)^2 I).
 *
 * <p>The coefficients are pure scalar functions of t. The vectorised forms take one time value per row, so a batch
 * may hold chains at different noise levels; they return column vectors [B, 1] that broadcast over the rows of x.
 * Immutable and thread-safe.
 */
public abstract class Sde {

  /** The three SDE families of Song et al. 2021, section 3.4. */
  public enum Kind { VE, VP, SUBVP }

  public abstract Kind kind();

  /** The drift coefficient a(t) of f(x, t) = a(t) x. */
  public abstract double driftCoeff(double t);

  /** The diffusion coefficient g(t). */
  public abstract double diffusion(double t);

  /** The marginal mean coefficient m(t): E[x_t | x_0] = m(t) x_0. */
  public abstract double meanCoeff(double t);

  /** The marginal standard deviation std(t) of the perturbation kernel. */
  public abstract double std(double t);

  /** The standard deviation of the prior p_T that sampling starts from. */
  public abstract double priorStd();

  /** The smallest time a sampler integrates down to (score_sde's eps; the score is singular at t = 0). */
  public abstract double tEps();

  /** The time t at which std(t) = sigma (used to map a discrete sigma ladder onto the SDE's clock). */
  public abstract double timeForStd(double sigma);

  /** A short, human-readable description with the parameters, e.g. {@code ve(sigma-min=0.01, sigma-max=50)}. */
  public abstract String describe();

  /**
   * The one-step discretisation of the forward SDE from t - dt to t: x_t = x + fd(t, dt) x + G(t, dt) z. Used by the
   * reverse-diffusion predictor (Song et al. 2021, eq. 45-46). The default is Euler-Maruyama; VE and VP override
   * it with the exact SMLD and DDPM discretisations.
   *
   * @return {fd coefficient, G}
   */
  public double[] discretize(double t, double dt) {
    return new double[] {driftCoeff(t) * dt, diffusion(t) * Math.sqrt(dt)};
  }

  /** The conditioning input of a noise-conditional network: log sigma(t) for VE, t otherwise. */
  public double networkCondition(double t) {
    return t;
  }

  // ---- Vectorised forms: one time value per row, results as [B, 1] columns. ----

  /** f(x, t) = a(t) x, per row. */
  public INDArray drift(INDArray x, double[] t) {
    return x.mulColumnVector(column(t, x.dataType(), this::driftCoeff));
  }

  public INDArray diffusion(double[] t, DataType type) {
    return column(t, type, this::diffusion);
  }

  public INDArray meanCoeff(double[] t, DataType type) {
    return column(t, type, this::meanCoeff);
  }

  public INDArray std(double[] t, DataType type) {
    return column(t, type, this::std);
  }

  /** Draws x_t ~ p_0t(. | x_0) = N(m(t) x_0, std(t)^2 I) given standard normal noise z of x_0's shape. */
  public INDArray perturb(INDArray x0, double[] t, INDArray z) {
    DataType type = x0.dataType();
    // The columns and the noise term are freed here, not left to the garbage collector (the trainer calls this
    // every step).
    try (INDArray mean = meanCoeff(t, type); INDArray std = std(t, type); INDArray noise = z.mulColumnVector(std)) {
      return x0.mulColumnVector(mean).addi(noise);
    }
  }

  /** log p_T(x) per row for the isotropic Gaussian prior N(0, priorStd^2 I), as a [B] vector (nats). */
  public double[] priorLogProb(INDArray x) {
    long d = x.size(1);
    double var = priorStd() * priorStd();
    double[] sq = x.mul(x).sum(1).toDoubleVector();
    double[] out = new double[sq.length];
    for (int i = 0; i < sq.length; i++) {
      out[i] = -0.5 * d * Math.log(2 * Math.PI * var) - 0.5 * sq[i] / var;
    }
    return out;
  }

  /** Applies a scalar coefficient to each row's time and returns the [B, 1] column. */
  public static INDArray column(double[] t, DataType type, java.util.function.DoubleUnaryOperator f) {
    double[] v = new double[t.length];
    for (int i = 0; i < t.length; i++) {
      v[i] = f.applyAsDouble(t[i]);
    }
    return io.scorestream.model.score.HostArrays.column(v, type);
  }

  /** Parses {@code ve}, {@code vp} or {@code subvp} with default parameters. */
  public static Sde named(String name) {
    return switch (name.toLowerCase(java.util.Locale.ROOT)) {
      case "ve" -> new VeSde(0.01, 50.0);
      case "vp" -> new VpSde(0.1, 20.0);
      case "subvp", "sub-vp" -> new SubVpSde(0.1, 20.0);
      default -> throw new IllegalArgumentException("unknown SDE '" + name + "' (expected ve, vp or subvp)");
    };
  }

  @Override
  public String toString() {
    return describe();
  }
}
