package io.scorestream.model.sample;

import io.scorestream.model.sde.Schedule;
import io.scorestream.model.sde.Sde;
import java.util.Locale;

/**
 * The one builder of {@link SamplerProgram}s: a {@link SamplerSpec} (every field optional) under an SDE, with the
 * per-SDE defaults filled in (VE: reverse diffusion + Langevin corrector at snr 0.16; VP and sub-VP: Euler-Maruyama
 * without corrector, Song et al. 2021, appendix G) and every parameter checked against {@link Limits}. The command
 * line, the node's coordinator and, through the node, both gateways build here, so the same spec means the same
 * chains wherever it is stated. Pure; any thread.
 *
 * <p>What the fields mean, for every caller alike: {@code steps} is the number of predictor steps (pc), of solver
 * steps (fixed-step ode), of steps per noise level (ald: NCSN's T) or of Langevin steps (langevin); {@code stepSize}
 * is ALD's eps in alpha_i = eps sigma_i^2 / sigma_L^2, or the Langevin step as an absolute value (default
 * {@value #DEFAULT_LANGEVIN_FRACTION} std(t)^2).
 */
public final class SamplerPrograms {
  /** Tolerances of the adaptive RK45 probability-flow solver when a spec names none (score_sde's 1e-5). */
  public static final double DEFAULT_TOLERANCE = 1e-5;
  /** Fixed-level Langevin step, as a fraction of std(t)^2, when a spec names none (stable below 1). */
  public static final double DEFAULT_LANGEVIN_FRACTION = 0.1;
  /** Solver steps of RK45 when a spec names none: its initial step count (it adapts from there). */
  public static final int DEFAULT_RK45_STEPS = 100;

  private SamplerPrograms() {}

  /**
   * What a builder takes from where it runs: the step limits of the node or command line, and the served model's
   * own annealed Langevin ladder.
   *
   * @param defaultSteps  steps when a pc, ode or langevin spec names none
   * @param maxSteps      most steps (levels x steps for ALD, steps x (correctorSteps + 1) up to twice this for PC)
   * @param aldSigmaRange {sigma_1, sigma_L} of the model's paper ({@code GaussianMixture#paperLadder}), or null
   *                      for the SDE's ({@link Sde#aldSigmaRange})
   */
  public record Limits(int defaultSteps, int maxSteps, double[] aldSigmaRange) {
    public Limits {
      if (defaultSteps < 1 || maxSteps < defaultSteps) {
        throw new IllegalArgumentException("need 1 <= defaultSteps <= maxSteps, got " + defaultSteps + ", " + maxSteps);
      }
      if (aldSigmaRange != null) {
        if (aldSigmaRange.length != 2 || !(aldSigmaRange[1] > 0) || !(aldSigmaRange[0] >= aldSigmaRange[1])) {
          throw new IllegalArgumentException("an ALD range is {sigma_1 >= sigma_L > 0}, got "
              + java.util.Arrays.toString(aldSigmaRange));
        }
        aldSigmaRange = aldSigmaRange.clone();
      }
    }

    /** Limits with the SDE's own ALD ladder. */
    public Limits(int defaultSteps, int maxSteps) {
      this(defaultSteps, maxSteps, null);
    }

    /** The ALD ladder {sigma_1, sigma_L} under sde. */
    public double[] aldSigmas(Sde sde) {
      return aldSigmaRange != null ? aldSigmaRange.clone() : sde.aldSigmaRange();
    }
  }

  /**
   * The program of spec under sde.
   *
   * @throws IllegalArgumentException naming the bad parameter
   */
  public static SamplerProgram build(SamplerSpec spec, Sde sde, Limits limits) {
    String kind = spec.kind() == null ? "pc" : spec.kind().trim().toLowerCase(Locale.ROOT);
    return switch (kind) {
      case "pc" -> pc(spec, sde, limits);
      case "ode" -> ode(spec, limits);
      case "ald" -> ald(spec, sde, limits);
      case "langevin" -> langevin(spec, sde, limits);
      default -> {
        SamplerProgram.Solver solver = SamplerProgram.Solver.ofKind(kind);
        if (solver == null) {
          throw new IllegalArgumentException("unknown sampler '" + spec.kind()
              + "' (expected pc, ode, ald, langevin, ddim, dpmpp-2m, dpmpp-2m-sde or edm)");
        }
        yield fewStep(solver, spec, limits);
      }
    };
  }

  private static SamplerProgram fewStep(SamplerProgram.Solver solver, SamplerSpec s, Limits limits) {
    int steps = s.steps() == null ? Math.min(solver.defaultSteps(), limits.maxSteps()) : steps(s.steps(), limits, "steps");
    Schedule schedule = s.schedule() == null ? solver.defaultSchedule() : Schedule.named(s.schedule());
    if (s.eta() != null && !solver.usesEta()) {
      throw new IllegalArgumentException("eta applies to ddim and dpmpp-2m-sde, not " + solver.label());
    }
    if (s.churn() != null && solver != SamplerProgram.Solver.EDM_HEUN) {
      throw new IllegalArgumentException("churn applies to edm, not " + solver.label());
    }
    double eta = s.eta() == null ? solver.defaultEta() : s.eta();
    if (!(eta >= 0 && eta <= 1)) throw new IllegalArgumentException("eta must be in [0, 1], got " + eta);
    double churn = s.churn() == null ? 0.0 : s.churn();
    if (!(churn >= 0) || !Double.isFinite(churn)) {
      throw new IllegalArgumentException("churn must be a finite number >= 0, got " + churn);
    }
    boolean denoise = s.denoise() == null || s.denoise();
    return new SamplerProgram.FewStep(solver, steps, schedule, eta, churn, denoise);
  }

  private static SamplerProgram pc(SamplerSpec s, Sde sde, Limits limits) {
    int steps = steps(s.steps(), limits, "steps");
    SamplerProgram.PredictorCorrector d = SamplerProgram.PredictorCorrector.defaults(sde, steps);
    Predictor predictor = s.predictor() == null ? d.predictor() : Predictor.named(s.predictor());
    Corrector corrector = s.corrector() == null ? d.corrector() : Corrector.named(s.corrector());
    int correctorSteps = s.correctorSteps() != null ? s.correctorSteps()
        : corrector == Corrector.NONE ? 0 : Math.max(1, d.correctorSteps());
    if (correctorSteps < 0 || correctorSteps > 100) {
      throw new IllegalArgumentException("correctorSteps must be in [0, 100], got " + correctorSteps);
    }
    if ((long) steps * (correctorSteps + 1) > 2L * limits.maxSteps()) {
      throw new IllegalArgumentException("steps x (correctorSteps + 1) = " + (long) steps * (correctorSteps + 1)
          + " exceeds " + 2L * limits.maxSteps());
    }
    double snr = s.snr() == null ? d.snr() : s.snr();
    boolean denoise = s.denoise() == null ? d.denoise() : s.denoise();
    return new SamplerProgram.PredictorCorrector(steps, predictor, corrector, correctorSteps, snr, denoise);
  }

  private static SamplerProgram ode(SamplerSpec s, Limits limits) {
    SamplerProgram.OdeMethod method = s.method() == null ? SamplerProgram.OdeMethod.RK45
        : SamplerProgram.OdeMethod.named(s.method());
    double rtol = s.rtol() == null ? DEFAULT_TOLERANCE : s.rtol();
    double atol = s.atol() == null ? DEFAULT_TOLERANCE : s.atol();
    if (!(rtol >= 1e-12 && rtol <= 1) || !(atol >= 1e-12 && atol <= 1)) {
      throw new IllegalArgumentException("rtol and atol must be in [1e-12, 1], got " + rtol + ", " + atol);
    }
    boolean denoise = s.denoise() != null && s.denoise();
    int steps = method == SamplerProgram.OdeMethod.RK45 && s.steps() == null ? DEFAULT_RK45_STEPS
        : steps(s.steps(), limits, "steps");
    return new SamplerProgram.ProbabilityFlow(method, steps, rtol, atol, denoise);
  }

  private static SamplerProgram ald(SamplerSpec s, Sde sde, Limits limits) {
    int levels = s.levels() == null ? SamplerProgram.AnnealedLangevin.DEFAULT_LEVELS : s.levels();
    if (levels < 1) throw new IllegalArgumentException("levels must be > 0, got " + levels);
    int perLevel = s.steps() == null ? SamplerProgram.AnnealedLangevin.DEFAULT_STEPS_PER_LEVEL : s.steps();
    if (perLevel < 1) throw new IllegalArgumentException("steps (per level) must be > 0, got " + perLevel);
    if ((long) levels * perLevel > limits.maxSteps()) {
      throw new IllegalArgumentException("levels x steps = " + (long) levels * perLevel + " exceeds max-steps "
          + limits.maxSteps());
    }
    double[] ladder = limits.aldSigmas(sde);
    double sigmaMax = s.sigmaMax() == null ? ladder[0] : s.sigmaMax();
    double sigmaMin = s.sigmaMin() == null ? Math.min(ladder[1], sigmaMax) : s.sigmaMin();
    requireFinitePositive(sigmaMax, "sigmaMax");
    requireFinitePositive(sigmaMin, "sigmaMin");
    if (sigmaMin > sigmaMax) {
      throw new IllegalArgumentException("sigmaMin must not exceed sigmaMax, got " + sigmaMin + " > " + sigmaMax);
    }
    double eps = s.stepSize() == null
        ? SamplerProgram.AnnealedLangevin.DEFAULT_STEP_FRACTION * sigmaMin * sigmaMin : s.stepSize();
    requireFinitePositive(eps, "stepSize");
    boolean denoise = s.denoise() == null || s.denoise();
    SamplerProgram.AnnealedLangevin p =
        new SamplerProgram.AnnealedLangevin(sigmaMax, sigmaMin, levels, perLevel, eps, denoise, true);
    p.checkWithin(sde);
    return p;
  }

  private static SamplerProgram langevin(SamplerSpec s, Sde sde, Limits limits) {
    int steps = steps(s.steps(), limits, "steps");
    double t = s.t() == null ? sde.tEps() : s.t();
    if (!(t >= sde.tEps() && t <= 1)) throw new IllegalArgumentException("t must be in [" + sde.tEps() + ", 1], got " + t);
    double std = sde.std(t);
    double eps = s.stepSize() == null ? DEFAULT_LANGEVIN_FRACTION * std * std : s.stepSize();
    requireFinitePositive(eps, "stepSize");
    return new SamplerProgram.Langevin(t, steps, eps, true);
  }

  private static int steps(Integer requested, Limits limits, String name) {
    int steps = requested == null ? limits.defaultSteps() : requested;
    if (steps < 1 || steps > limits.maxSteps()) {
      throw new IllegalArgumentException(name + " must be in [1, " + limits.maxSteps() + "], got " + steps);
    }
    return steps;
  }

  private static void requireFinitePositive(double v, String name) {
    if (!(v > 0) || !Double.isFinite(v)) throw new IllegalArgumentException(name + " must be a finite number > 0, got " + v);
  }
}
