package io.scorestream.actors;

import io.scorestream.config.CoordinatorSettings;
import io.scorestream.model.sample.Corrector;
import io.scorestream.model.sample.Predictor;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sde.Sde;
import java.util.Locale;

/**
 * Builds a request's {@link SamplerProgram} from its {@link SamplerSpec}: fills the per-SDE defaults (VE: reverse
 * diffusion + Langevin corrector at snr 0.16; VP and sub-VP: Euler-Maruyama without corrector, Song et al. 2021,
 * appendix G) and the node's default step count, and turns every bad parameter into an
 * {@link ErrorCode#INVALID_ARGUMENT} {@link ScoreStreamException}. Pure; any thread.
 */
public final class Programs {
  /** Tolerances of the adaptive RK45 probability-flow solver when a request names none (score_sde's 1e-5). */
  public static final double DEFAULT_TOLERANCE = 1e-5;
  /** Noise levels of annealed Langevin dynamics when a request names none (NCSN's ladder is 10 long). */
  public static final int DEFAULT_ALD_LEVELS = 10;
  /** Step scale eps of annealed Langevin dynamics when a request names none. */
  public static final double DEFAULT_ALD_EPS = 0.003;
  /** Fixed-level Langevin step, as a fraction of std(t)^2, when a request names none (stable below 1). */
  public static final double DEFAULT_LANGEVIN_FRACTION = 0.1;

  private Programs() {}

  /**
   * The program of spec under sde, within the limits of settings.
   *
   * @throws ScoreStreamException INVALID_ARGUMENT naming the bad parameter
   */
  public static SamplerProgram build(SamplerSpec spec, Sde sde, CoordinatorSettings settings) {
    String kind = spec.kind() == null ? "pc" : spec.kind().trim().toLowerCase(Locale.ROOT);
    try {
      return switch (kind) {
        case "pc" -> pc(spec, sde, settings);
        case "ode" -> ode(spec, settings);
        case "ald" -> ald(spec, sde, settings);
        case "langevin" -> langevin(spec, sde, settings);
        default -> throw invalid("unknown sampler kind '" + spec.kind() + "' (expected pc, ode, ald or langevin)");
      };
    } catch (IllegalArgumentException e) {
      throw invalid(e.getMessage());
    }
  }

  private static SamplerProgram pc(SamplerSpec s, Sde sde, CoordinatorSettings limits) {
    int steps = steps(s.steps(), limits, "steps");
    SamplerProgram.PredictorCorrector d = SamplerProgram.PredictorCorrector.defaults(sde, steps);
    Predictor predictor = s.predictor() == null ? d.predictor() : Predictor.named(s.predictor());
    Corrector corrector = s.corrector() == null ? d.corrector() : Corrector.named(s.corrector());
    int correctorSteps = s.correctorSteps() != null ? s.correctorSteps()
        : corrector == Corrector.NONE ? 0 : Math.max(1, d.correctorSteps());
    if (correctorSteps < 0 || correctorSteps > 100) {
      throw invalid("correctorSteps must be in [0, 100], got " + correctorSteps);
    }
    if ((long) steps * (correctorSteps + 1) > 2L * limits.maxSteps()) {
      throw invalid("steps x (correctorSteps + 1) = " + (long) steps * (correctorSteps + 1) + " exceeds "
          + 2L * limits.maxSteps());
    }
    double snr = s.snr() == null ? d.snr() : s.snr();
    boolean denoise = s.denoise() == null ? d.denoise() : s.denoise();
    return new SamplerProgram.PredictorCorrector(steps, predictor, corrector, correctorSteps, snr, denoise);
  }

  private static SamplerProgram ode(SamplerSpec s, CoordinatorSettings limits) {
    SamplerProgram.OdeMethod method = s.method() == null ? SamplerProgram.OdeMethod.RK45
        : SamplerProgram.OdeMethod.named(s.method());
    double rtol = s.rtol() == null ? DEFAULT_TOLERANCE : s.rtol();
    double atol = s.atol() == null ? DEFAULT_TOLERANCE : s.atol();
    if (!(rtol >= 1e-12 && rtol <= 1) || !(atol >= 1e-12 && atol <= 1)) {
      throw invalid("rtol and atol must be in [1e-12, 1], got " + rtol + ", " + atol);
    }
    boolean denoise = s.denoise() != null && s.denoise();
    int steps = method == SamplerProgram.OdeMethod.RK45 && s.steps() == null ? 100
        : steps(s.steps(), limits, "steps");
    return new SamplerProgram.ProbabilityFlow(method, steps, rtol, atol, denoise);
  }

  private static SamplerProgram ald(SamplerSpec s, Sde sde, CoordinatorSettings limits) {
    int levels = s.levels() == null ? DEFAULT_ALD_LEVELS : s.levels();
    if (levels < 1) throw invalid("levels must be > 0, got " + levels);
    int perLevel = s.steps() == null ? Math.max(1, limits.defaultSteps() / levels) : s.steps();
    if (perLevel < 1) throw invalid("steps (per level) must be > 0, got " + perLevel);
    if ((long) levels * perLevel > limits.maxSteps()) {
      throw invalid("levels x steps = " + (long) levels * perLevel + " exceeds max-steps " + limits.maxSteps());
    }
    SamplerProgram.AnnealedLangevin d = SamplerProgram.AnnealedLangevin.defaults(sde, levels, perLevel);
    double eps = s.stepSize() == null ? DEFAULT_ALD_EPS : s.stepSize();
    requireFinitePositive(eps, "stepSize");
    boolean denoise = s.denoise() == null ? d.denoise() : s.denoise();
    return new SamplerProgram.AnnealedLangevin(d.sigmaMax(), d.sigmaMin(), levels, perLevel, eps, denoise, true);
  }

  private static SamplerProgram langevin(SamplerSpec s, Sde sde, CoordinatorSettings limits) {
    int steps = steps(s.steps(), limits, "steps");
    double t = s.t() == null ? sde.tEps() : s.t();
    if (!(t >= sde.tEps() && t <= 1)) throw invalid("t must be in [" + sde.tEps() + ", 1], got " + t);
    double std = sde.std(t);
    double eps = s.stepSize() == null ? DEFAULT_LANGEVIN_FRACTION * std * std : s.stepSize();
    requireFinitePositive(eps, "stepSize");
    return new SamplerProgram.Langevin(t, steps, eps, true);
  }

  private static int steps(Integer requested, CoordinatorSettings limits, String name) {
    int steps = requested == null ? limits.defaultSteps() : requested;
    if (steps < 1 || steps > limits.maxSteps()) {
      throw invalid(name + " must be in [1, " + limits.maxSteps() + "], got " + steps);
    }
    return steps;
  }

  private static void requireFinitePositive(double v, String name) {
    if (!(v > 0) || !Double.isFinite(v)) throw invalid(name + " must be a finite number > 0, got " + v);
  }

  private static ScoreStreamException invalid(String message) {
    return new ScoreStreamException(ErrorCode.INVALID_ARGUMENT, message);
  }
}
