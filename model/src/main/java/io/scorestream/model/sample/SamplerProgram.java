package io.scorestream.model.sample;

import io.scorestream.model.sde.Sde;

/**
 * The immutable recipe of one request's chains: which sampler, how many steps, which predictor and corrector.
 * {@link #start(Sde)} makes a fresh {@link ChainCursor} per chain. Programs that use the same model can share a
 * network call in one {@link ChainBatch}, whatever their kind.
 */
public sealed interface SamplerProgram
    permits SamplerProgram.PredictorCorrector, SamplerProgram.ProbabilityFlow, SamplerProgram.AnnealedLangevin,
        SamplerProgram.Langevin {

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

    /** The per-SDE defaults: VE reverse-diffusion + Langevin (snr 0.16); VP and sub-VP Euler-Maruyama alone. */
    public static PredictorCorrector defaults(Sde sde, int steps) {
      return sde.kind() == Sde.Kind.VE
          ? new PredictorCorrector(steps, Predictor.REVERSE_DIFFUSION, Corrector.LANGEVIN, 1, 0.16, true)
          : new PredictorCorrector(steps, Predictor.EULER_MARUYAMA, Corrector.NONE, 0, 0.16, true);
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
   * x += alpha_i s + sqrt(2 alpha_i) z with alpha_i = eps sigma_i^2 / sigma_L^2; optionally the final denoising
   * step x + sigma_L^2 s (Tweedie; Song and Ermon 2020, section 4.1).
   */
  record AnnealedLangevin(double sigmaMax, double sigmaMin, int levels, int stepsPerLevel, double stepScale,
                          boolean denoise, boolean fromPrior) implements SamplerProgram {
    public AnnealedLangevin {
      if (levels < 1) throw new IllegalArgumentException("levels must be > 0, got " + levels);
      if (stepsPerLevel < 1) throw new IllegalArgumentException("steps per level must be > 0, got " + stepsPerLevel);
      if (!(sigmaMin > 0) || !(sigmaMax >= sigmaMin)) {
        throw new IllegalArgumentException("need 0 < sigma-min <= sigma-max, got " + sigmaMin + ", " + sigmaMax);
      }
      if (!(stepScale > 0)) throw new IllegalArgumentException("step scale eps must be > 0, got " + stepScale);
    }

    /** Ladder from the prior's std down to a level where the data is barely perturbed. */
    public static AnnealedLangevin defaults(Sde sde, int levels, int stepsPerLevel) {
      double top = sde.kind() == Sde.Kind.VE ? sde.priorStd() : sde.std(1.0);
      return new AnnealedLangevin(top, 0.05, levels, stepsPerLevel, 0.003, true, true);
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
}
