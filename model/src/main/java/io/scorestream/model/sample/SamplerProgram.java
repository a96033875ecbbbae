package io.scorestream.model.sample;

import io.scorestream.model.sde.Schedule;
import io.scorestream.model.sde.Sde;

/**
 * The immutable recipe of one request's chains: which sampler, how many steps, which predictor and corrector.
 * {@link #start(Sde)} makes a fresh {@link ChainCursor} per chain. Programs that use the same model can share a
 * network call in one {@link ChainBatch}, whatever their kind.
 */
public sealed interface SamplerProgram
    permits SamplerProgram.PredictorCorrector, SamplerProgram.ProbabilityFlow, SamplerProgram.AnnealedLangevin,
        SamplerProgram.Langevin, SamplerProgram.FewStep {

  /** A fresh cursor for one chain of dimension dim. */
  ChainCursor start(Sde sde, int dim);

  /** The network calls one chain needs (an estimate for adaptive solvers); used for ETAs and progress. */
  int nominalCalls();

  /** One line describing the program. */
  String describe();

  /** Whether the chain starts from the SDE's prior (otherwise the caller supplies the initial state). */
  default boolean startsFromPrior() {
    return true;
  }

  /**
   * Predictor-corrector sampling (Song et al. 2021, algorithm 1): N steps on the uniform grid from T = 1 to eps,
   * each K corrector steps at t_i then one predictor step to t_{i+1}; optionally a final Tweedie denoising step.
   */
  record PredictorCorrector(int steps, Predictor predictor, Corrector corrector, int correctorSteps, double snr,
                            boolean denoise) implements SamplerProgram {
    public PredictorCorrector {
      if (steps < 1) throw new IllegalArgumentException("steps must be > 0, got " + steps);
      if (correctorSteps < 0) throw new IllegalArgumentException("corrector steps must be >= 0, got " + correctorSteps);
      if (!(snr > 0) || !Double.isFinite(snr)) throw new IllegalArgumentException("snr must be > 0, got " + snr);
      if (predictor == Predictor.NONE && (corrector == Corrector.NONE || correctorSteps == 0)) {
        throw new IllegalArgumentException("predictor none needs a corrector with at least one step");
      }
    }

    /** The SDE's own default ({@link Sde#pcDefaults}): VE reverse diffusion + Langevin; VP and sub-VP Euler-Maruyama. */
    public static PredictorCorrector defaults(Sde sde, int steps) {
      Sde.PcDefaults d = sde.pcDefaults();
      return new PredictorCorrector(steps, Predictor.named(d.predictor()), Corrector.named(d.corrector()),
          d.correctorSteps(), d.snr(), true);
    }

    int correctorTicks() {
      return corrector == Corrector.NONE ? 0 : correctorSteps;
    }

    @Override
    public int nominalCalls() {
      return steps * (correctorTicks() + (predictor == Predictor.NONE ? 0 : 1)) + (denoise ? 1 : 0);
    }

    @Override
    public ChainCursor start(Sde sde, int dim) {
      return new Cursors.Pc(this, sde, dim);
    }

    @Override
    public String describe() {
      return "pc(steps=" + steps + ", predictor=" + predictor.label() + ", corrector=" + corrector.label()
          + (correctorTicks() > 0 ? " x" + correctorSteps + ", snr=" + snr : "") + ", denoise=" + denoise + ")";
    }
  }

  /** The ODE solvers of {@link ProbabilityFlow}. */
  enum OdeMethod {
    RK45, EULER, HEUN;

    public static OdeMethod named(String name) {
      return switch (name.toLowerCase(java.util.Locale.ROOT)) {
        case "rk45", "dopri5" -> RK45;
        case "euler" -> EULER;
        case "heun" -> HEUN;
        default -> throw new IllegalArgumentException("unknown ODE method '" + name + "' (expected rk45, euler or heun)");
      };
    }
  }

  /**
   * The probability-flow ODE dx/dt = f(x, t) - 1/2 g(t)^2 s(x, t) (Song et al. 2021, eq. 13) integrated from T = 1
   * to eps: adaptive Dormand-Prince RK45 with per-chain step sizes (rtol, atol), or fixed-step Euler or Heun.
   */
  record ProbabilityFlow(OdeMethod method, int steps, double rtol, double atol, boolean denoise)
      implements SamplerProgram {
    public ProbabilityFlow {
      if (method != OdeMethod.RK45 && steps < 1) throw new IllegalArgumentException("steps must be > 0, got " + steps);
      if (!(rtol > 0) || !(atol > 0)) throw new IllegalArgumentException("rtol and atol must be > 0");
    }

    public static ProbabilityFlow rk45(double rtol, double atol) {
      return new ProbabilityFlow(OdeMethod.RK45, 100, rtol, atol, false);
    }

    @Override
    public int nominalCalls() {
      return switch (method) {
        case RK45 -> 6 * Math.max(steps, 1) + 1;
        case EULER -> steps;
        case HEUN -> 2 * steps;
      } + (denoise ? 1 : 0);
    }

    @Override
    public ChainCursor start(Sde sde, int dim) {
      return switch (method) {
        case RK45 -> new Cursors.DormandPrince(this, sde);
        case EULER, HEUN -> new Cursors.FixedStepOde(this, sde);
      };
    }

    @Override
    public String describe() {
      return method == OdeMethod.RK45
          ? "ode(rk45, rtol=" + rtol + ", atol=" + atol + ", denoise=" + denoise + ")"
          : "ode(" + method.name().toLowerCase(java.util.Locale.ROOT) + ", steps=" + steps + ", denoise=" + denoise + ")";
    }
  }

  /**
   * Annealed Langevin dynamics (Song and Ermon 2019, algorithm 1): for each sigma_i of a geometric ladder, T steps
   * y += alpha_i s_y + sqrt(2 alpha_i) z with alpha_i = eps sigma_i^2 / sigma_L^2; optionally the final denoising
   * step y + sigma_L^2 s_y (Tweedie; Song and Ermon 2020, section 4.1).
   *
   * <p>The ladder is NCSN's whatever the SDE: it runs in the SDE's VE variable y = x / m(t), in which
   * p_t(y) = p_0 * N(0, sigma(t)^2 I) with sigma = std / m ({@link Sde#sigma}), so level sigma_i is the time t_i with
   * sigma(t_i) = sigma_i and s_y = m s_x. In x: x' = x + alpha m^2 s + m sqrt(2 alpha) z, and x is rescaled by
   * m(t_{i+1}) / m(t_i) as it passes to the next level. For VE (m = 1) this is NCSN's update itself.
   */
  record AnnealedLangevin(double sigmaMax, double sigmaMin, int levels, int stepsPerLevel, double stepScale,
                          boolean denoise, boolean fromPrior) implements SamplerProgram {
    /** NCSN's T, the steps per level (Song and Ermon 2019, section 4.2). */
    public static final int DEFAULT_STEPS_PER_LEVEL = 100;
    /** NCSN's L, the number of levels. */
    public static final int DEFAULT_LEVELS = 10;
    /**
     * The default eps as a fraction of sigma_L^2: alpha_i = 0.1 sigma_i^2 at every level, the step of NCSN's toy
     * experiment (eps = 0.1 at sigma_L = 1, section 3.3). The stationary variance of the discretised chain is then
     * 2 / (2 - 0.1) = 1.05 times the target's.
     */
    public static final double DEFAULT_STEP_FRACTION = 0.1;

    public AnnealedLangevin {
      if (levels < 1) throw new IllegalArgumentException("levels must be > 0, got " + levels);
      if (stepsPerLevel < 1) throw new IllegalArgumentException("steps per level must be > 0, got " + stepsPerLevel);
      if (!(sigmaMin > 0) || !(sigmaMax >= sigmaMin) || !Double.isFinite(sigmaMax)) {
        throw new IllegalArgumentException("need 0 < sigma-min <= sigma-max, got " + sigmaMin + ", " + sigmaMax);
      }
      if (!(stepScale > 0) || !Double.isFinite(stepScale)) {
        throw new IllegalArgumentException("step scale eps must be a finite number > 0, got " + stepScale);
      }
    }

    /**
     * NCSN's sampler over the SDE's default range ({@link Sde#aldSigmaRange}): L levels of T steps, eps =
     * {@value #DEFAULT_STEP_FRACTION} sigma_L^2, from the prior, denoised.
     */
    public static AnnealedLangevin defaults(Sde sde, int levels, int stepsPerLevel) {
      double[] range = sde.aldSigmaRange();
      return new AnnealedLangevin(range[0], range[1], levels, stepsPerLevel,
          DEFAULT_STEP_FRACTION * range[1] * range[1], true, true);
    }

    /**
     * Refuses a ladder outside the noise range of sde (where its models were never trained and its clock has no
     * time), naming both ranges.
     */
    public void checkWithin(Sde sde) {
      double top = sde.sigma(1.0);
      double bottom = sde.sigma(sde.tEps());
      double slack = 1e-9;
      if (sigmaMax > top * (1 + slack) || sigmaMin < bottom * (1 - slack)) {
        throw new IllegalArgumentException("ald's sigma ladder " + sigmaMax + " .. " + sigmaMin + " lies outside "
            + sde.describe() + "'s noise range sigma = std/m in [" + bottom + ", " + top + "]; choose sigmaMax and "
            + "sigmaMin inside it, or another SDE");
      }
    }

    @Override
    public int nominalCalls() {
      return levels * stepsPerLevel + (denoise ? 1 : 0);
    }

    @Override
    public boolean startsFromPrior() {
      return fromPrior;
    }

    @Override
    public ChainCursor start(Sde sde, int dim) {
      return new Cursors.Ald(this, sde);
    }

    @Override
    public String describe() {
      return "ald(sigma=" + sigmaMax + ".." + sigmaMin + ", levels=" + levels + ", steps-per-level=" + stepsPerLevel
          + ", eps=" + stepScale + ", denoise=" + denoise + ")";
    }
  }

  /** Langevin dynamics at one fixed noise level t and step eps: x += eps s + sqrt(2 eps) z (Welling and Teh 2011). */
  record Langevin(double t, int steps, double stepSize, boolean fromPrior) implements SamplerProgram {
    public Langevin {
      if (steps < 1) throw new IllegalArgumentException("steps must be > 0, got " + steps);
      if (!(stepSize > 0)) throw new IllegalArgumentException("step size must be > 0, got " + stepSize);
      if (!(t >= 0) || t > 1) throw new IllegalArgumentException("t must be in [0, 1], got " + t);
    }

    @Override
    public int nominalCalls() {
      return steps;
    }

    @Override
    public boolean startsFromPrior() {
      return fromPrior;
    }

    @Override
    public ChainCursor start(Sde sde, int dim) {
      return new Cursors.FixedLangevin(this, sde);
    }

    @Override
    public String describe() {
      return "langevin(t=" + t + ", steps=" + steps + ", eps=" + stepSize + ")";
    }
  }

  /**
   * The few-step solvers of k-diffusion and diffusers, each written on the VE clock of the scaled variable
   * x / m(t) with sigma = std / m ({@link Sde#sigma}), the denoiser D = (x + std^2 s) / m (Tweedie) and
   * lambda = -log sigma, so they run on every SDE. Each step is the per-row affine update of the chain batches.
   */
  enum Solver {
    /**
     * DDIM (Song, Meng and Ermon 2021, eq. 12) in Karras et al.'s sigma form (k-diffusion's ancestral step):
     * sigma_up = min(sigma', eta sqrt(sigma'^2 (sigma^2 - sigma'^2) / sigma^2)), sigma_down =
     * sqrt(sigma'^2 - sigma_up^2), x' / m' = D + sigma_down (x / m - D) / sigma + sigma_up z. For VP this is DDIM's
     * own update (eta = 1: DDPM's posterior); eta = 0 is Euler on the probability-flow ODE in sigma.
     */
    DDIM("ddim", 50, Schedule.UNIFORM, 0.0),
    /**
     * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", algorithm 2): the multistep second-order data-prediction
     * solver, x' / m' = (sigma' / sigma) x / m - expm1(-h) D_d with h = lambda' - lambda and
     * D_d = (1 + 1 / 2r) D - (1 / 2r) D_prev, r = h_prev / h (first order on the first step).
     */
    DPMPP_2M("dpmpp-2m", 20, Schedule.KARRAS, 0.0),
    /**
     * DPM-Solver++(2M) SDE (k-diffusion's midpoint variant, eta = 1 by default): x' / m' = (sigma' / sigma)
     * e^(-eta h) x / m + E D + (E / 2r) (D - D_prev) + sigma' sqrt(1 - e^(-2 eta h)) z, E = 1 - e^(-(1 + eta) h).
     */
    DPMPP_2M_SDE("dpmpp-2m-sde", 50, Schedule.KARRAS, 1.0),
    /**
     * EDM's second-order Heun sampler (Karras et al. 2022, algorithm 2): per step d = (x / m - D) / sigma, an Euler
     * step to sigma' and the trapezoidal correction with d' there; with churn S the step starts at
     * sigma-hat = sigma (1 + gamma), gamma = min(S / N, sqrt 2 - 1), after noise of std sqrt(sigma-hat^2 - sigma^2)
     * (S_tmin = 0, S_tmax = sigma(1), S_noise = 1).
     */
    EDM_HEUN("edm", 18, Schedule.KARRAS, 0.0);

    private final String label;
    private final int defaultSteps;
    private final Schedule defaultSchedule;
    private final double defaultEta;

    Solver(String label, int defaultSteps, Schedule defaultSchedule, double defaultEta) {
      this.label = label;
      this.defaultSteps = defaultSteps;
      this.defaultSchedule = defaultSchedule;
      this.defaultEta = defaultEta;
    }

    public String label() { return label; }

    /** The step count of its paper's headline results. */
    public int defaultSteps() { return defaultSteps; }

    public Schedule defaultSchedule() { return defaultSchedule; }

    public double defaultEta() { return defaultEta; }

    /** Whether it reads eta (DDIM and the SDE variant). */
    public boolean usesEta() { return this == DDIM || this == DPMPP_2M_SDE; }

    /** The network calls of one step. */
    int callsPerStep() { return this == EDM_HEUN ? 2 : 1; }

    /** The solver of a sampler kind, or null when kind names none. */
    public static Solver ofKind(String kind) {
      for (Solver s : values()) if (s.label.equals(kind)) return s;
      return null;
    }
  }

  /**
   * A few-step solver (see {@link Solver}) over N steps of a {@link Schedule} from t = 1 to eps; with denoise, one
   * more call takes the final Tweedie step D (the sigma = 0 step of k-diffusion's schedules).
   */
  record FewStep(Solver solver, int steps, Schedule schedule, double eta, double churn, boolean denoise)
      implements SamplerProgram {
    public FewStep {
      if (solver == null || schedule == null) throw new IllegalArgumentException("solver and schedule are required");
      if (steps < 1) throw new IllegalArgumentException("steps must be > 0, got " + steps);
      if (!(eta >= 0) || eta > 1) throw new IllegalArgumentException("eta must be in [0, 1], got " + eta);
      if (!(churn >= 0) || !Double.isFinite(churn)) throw new IllegalArgumentException("churn must be >= 0, got " + churn);
    }

    /** The solver with its paper's defaults and this many steps. */
    public static FewStep of(Solver solver, int steps) {
      return new FewStep(solver, steps, solver.defaultSchedule(), solver.defaultEta(), 0.0, true);
    }

    @Override
    public int nominalCalls() {
      return steps * solver.callsPerStep() + (denoise ? 1 : 0);
    }

    @Override
    public ChainCursor start(Sde sde, int dim) {
      return switch (solver) {
        case DDIM -> new Cursors.Ddim(this, sde);
        case DPMPP_2M, DPMPP_2M_SDE -> new Cursors.DpmSolver(this, sde);
        case EDM_HEUN -> new Cursors.EdmHeun(this, sde);
      };
    }

    @Override
    public String describe() {
      return solver.label() + "(steps=" + steps + ", schedule=" + schedule.label()
          + (solver.usesEta() ? ", eta=" + eta : "") + (solver == Solver.EDM_HEUN ? ", churn=" + churn : "")
          + ", denoise=" + denoise + ")";
    }
  }
}
