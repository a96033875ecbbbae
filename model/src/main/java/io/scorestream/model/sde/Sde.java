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

  /** The time t at which std(t) = sigma. */
  public abstract double timeForStd(double sigma);

  /**
   * The noise-to-signal ratio sigma(t) = std(t) / m(t): x_t / m(t) = x_0 + sigma(t) z, so every linear SDE is the
   * VE process of Karras et al. 2022 (eq. 4, s(t) = m(t)) in the scaled variable x / m(t). Samplers written for the
   * VE clock (annealed Langevin, DDIM, DPM-Solver++, EDM) run on any SDE through it.
   */
  public double sigma(double t) {
    return std(t) / meanCoeff(t);
  }

  /** The time t at which sigma(t) = std(t) / m(t) equals sigma (the inverse of {@link #sigma(double)}). */
  public abstract double timeForSigma(double sigma);

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

  /**
   * The reverse-time SDE dx = [f(x, t) - g(t)^2 s(x, t)] dt + g(t) dw-bar (Song et al. 2021, eq. 6), or with
   * probabilityFlow the probability-flow ODE dx = [f(x, t) - 1/2 g(t)^2 s(x, t)] dt (eq. 13); score_sde's
   * {@code SDE.reverse}.
   */
  public final Reverse reverse(boolean probabilityFlow) {
    return probabilityFlow ? probabilityFlowOde : reverseSde;
  }

  // Built once: the predictors ask for them per row and tick.
  private final Reverse reverseSde = new Reverse(this, false);
  private final Reverse probabilityFlowOde = new Reverse(this, true);

  /**
   * A reverse-time process of this SDE. Its drift is linear in the state and the score, x a(t) + s b(t), so every
   * sampler step built from it is the per-row affine update the chain batches apply.
   */
  public record Reverse(Sde sde, boolean probabilityFlow) {
    private double weight() {
      return probabilityFlow ? 0.5 : 1.0;
    }

    /** a(t) of the drift x a(t) + s b(t): the forward drift coefficient. */
    public double stateCoeff(double t) {
      return sde.driftCoeff(t);
    }

    /** b(t) of the drift x a(t) + s b(t): -g(t)^2 for the SDE, -1/2 g(t)^2 for the ODE. */
    public double scoreCoeff(double t) {
      double g = sde.diffusion(t);
      return -weight() * g * g;
    }

    /** The diffusion of the reverse process: g(t) for the SDE, 0 for the ODE. */
    public double diffusion(double t) {
      return probabilityFlow ? 0.0 : sde.diffusion(t);
    }

    /**
     * The reverse of the SDE's discretisation {@link Sde#discretize} from t to t - dt (score_sde's
     * {@code RSDE.discretize}, eq. 46): x' = x - f_d x - w G^2 s + G' z with w = 1 (SDE) or 1/2 (ODE), G' = G or 0.
     *
     * @return {the coefficient of x, of s, of z}
     */
    public double[] discretize(double t, double dt) {
      double[] fg = sde.discretize(t, dt);
      return new double[] {1 - fg[0], weight() * fg[1] * fg[1], probabilityFlow ? 0.0 : fg[1]};
    }
  }

  /**
   * The step-size factor alpha_i of the Langevin corrector (Song et al. 2021, algorithm 5): 1 for VE; the VP
   * family overrides it with 1 - beta_i, the discrete DDPM beta of the step.
   */
  public double correctorAlpha(double t, double dt) {
    return 1.0;
  }

  /**
   * The default predictor-corrector sampler of this SDE, by name as score_sde's configs state it (appendix G):
   * reverse diffusion with one Langevin corrector step at snr 0.16 for VE; the VP family overrides it.
   */
  public PcDefaults pcDefaults() {
    return new PcDefaults("reverse-diffusion", "langevin", 1, 0.16);
  }

  /** A default predictor-corrector sampler: predictor and corrector names, corrector steps, and snr. */
  public record PcDefaults(String predictor, String corrector, int correctorSteps, double snr) {}

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

  /**
   * The smallest sigma_L annealed Langevin dynamics descends to by default. Below it NCSN's steps
   * alpha = 0.1 sigma^2 no longer move a chain across data of unit scale in T = 100 steps, so the chain keeps the
   * spread of an earlier level (measured on gmm8, std 0.5: mode std 0.53-0.56 with sigma_L = sigma(eps) = 0.01 or
   * 1e-4, 0.51-0.52 with 0.05), and the final Tweedie step removes what is left of sigma_L.
   */
  public static final double ALD_SIGMA_FLOOR = 0.05;

  /**
   * The noise levels of annealed Langevin dynamics by default: NCSN's geometric ladder (Song and Ermon 2019) over
   * the noise-to-signal range the SDE's models are trained on, from sigma(1) down to sigma(eps), but not below
   * {@link #ALD_SIGMA_FLOOR}.
   *
   * @return {sigma_1, sigma_L}
   */
  public double[] aldSigmaRange() {
    double top = sigma(1.0);
    return new double[] {top, Math.min(top, Math.max(sigma(tEps()), ALD_SIGMA_FLOOR))};
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
