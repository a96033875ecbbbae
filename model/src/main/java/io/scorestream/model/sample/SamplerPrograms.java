package io.scorestream.model.sample;

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
  /** Noise levels of annealed Langevin dynamics when a spec names none (NCSN's ladder is 10 long). */
  public static final int DEFAULT_ALD_LEVELS = 10;
  /** Step scale eps of annealed Langevin dynamics when a spec names none. */
  public static final double DEFAULT_ALD_EPS = 0.003;
  /** Fixed-level Langevin step, as a fraction of std(t)^2, when a spec names none (stable below 1). */
  public static final double DEFAULT_LANGEVIN_FRACTION = 0.1;
  /** Solver steps of RK45 when a spec names none: its initial step count (it adapts from there). */
  public static final int DEFAULT_RK45_STEPS = 100;

  private SamplerPrograms() {}

  /**
   * The step limits a builder enforces: the steps a spec gets when it names none, and the most it may ask for.
   *
   * @param defaultSteps steps when the spec names none (per level for ALD: defaultSteps / levels)
   * @param maxSteps     most steps (levels x steps for ALD, steps x (correctorSteps + 1) up to twice this for PC)
   */
  public record Limits(int defaultSteps, int maxSteps) {
    public Limits {
      if (defaultSteps < 1 || maxSteps < defaultSteps) {
        throw new IllegalArgumentException("need 1 <= defaultSteps <= maxSteps, got " + defaultSteps + ", " + maxSteps);
      }
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
      default -> throw new IllegalArgumentException("unknown sampler '" + spec.kind()
          + "' (expected pc, ode, ald or langevin)");
    };
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
    int levels = s.levels() == null ? DEFAULT_ALD_LEVELS : s.levels();
    if (levels < 1) throw new IllegalArgumentException("levels must be > 0, got " + levels);
    int perLevel = s.steps() == null ? Math.max(1, limits.defaultSteps() / levels) : s.steps();
    if (perLevel < 1) throw new IllegalArgumentException("steps (per level) must be > 0, got " + perLevel);
    if ((long) levels * perLevel > limits.maxSteps()) {
      throw new IllegalArgumentException("levels x steps = " + (long) levels * perLevel + " exceeds max-steps "
          + limits.maxSteps());
    }
    SamplerProgram.AnnealedLangevin d = SamplerProgram.AnnealedLangevin.defaults(sde, levels, perLevel);
    double eps = s.stepSize() == null ? DEFAULT_ALD_EPS : s.stepSize();
    requireFinitePositive(eps, "stepSize");
    boolean denoise = s.denoise() == null ? d.denoise() : s.denoise();
    double sigmaMax = s.sigmaMax() == null ? d.sigmaMax() : s.sigmaMax();
    double sigmaMin = s.sigmaMin() == null ? d.sigmaMin() : s.sigmaMin();
    return new SamplerProgram.AnnealedLangevin(sigmaMax, sigmaMin, levels, perLevel, eps, denoise, true);
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
