package io.scorestream.app;

import io.scorestream.model.sample.Corrector;
import io.scorestream.model.sample.Predictor;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sde.Sde;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The sampler options shared by {@code sample} and {@code eval}, turned into a {@link SamplerProgram}. */
final class SamplerOptions {
  @Option(names = "--sampler", defaultValue = "pc", description = "pc, ode, ald or langevin (default: ${DEFAULT-VALUE})")
  String sampler;

  @Option(names = "--predictor", description = "euler-maruyama, reverse-diffusion, ancestral or none "
      + "(default: reverse-diffusion for VE, euler-maruyama for VP and sub-VP)")
  String predictor;

  @Option(names = "--corrector", description = "langevin, ald or none (default: langevin for VE, none otherwise)")
  String corrector;

  @Option(names = "--corrector-steps", defaultValue = "1", description = "corrector steps per step (default: ${DEFAULT-VALUE})")
  int correctorSteps;

  @Option(names = "--snr", defaultValue = "0.16", description = "corrector signal-to-noise ratio (default: ${DEFAULT-VALUE})")
  double snr;

  @Option(names = "--steps", defaultValue = "1000",
      description = "steps (pc, fixed-step ode, langevin); levels x steps-per-level for ald (default: ${DEFAULT-VALUE})")
  int steps;

  @Option(names = "--no-denoise", description = "skip the final Tweedie denoising step")
  boolean noDenoise;

  @Option(names = "--ode-method", defaultValue = "rk45", description = "rk45, euler or heun (default: ${DEFAULT-VALUE})")
  String odeMethod;

  @Option(names = "--rtol", defaultValue = "1e-5", description = "RK45 relative tolerance (default: ${DEFAULT-VALUE})")
  double rtol;

  @Option(names = "--atol", defaultValue = "1e-5", description = "RK45 absolute tolerance (default: ${DEFAULT-VALUE})")
  double atol;

  @Option(names = "--levels", defaultValue = "10", description = "ald: noise levels (default: ${DEFAULT-VALUE})")
  int levels;

  @Option(names = "--sigma-max", description = "ald: largest sigma (default: the SDE's prior std)")
  Double sigmaMax;

  @Option(names = "--sigma-min", defaultValue = "0.05", description = "ald: smallest sigma (default: ${DEFAULT-VALUE})")
  double sigmaMin;

  @Option(names = "--step-scale", defaultValue = "0.003", description = "ald: eps in alpha_i = eps sigma_i^2 / sigma_L^2 (default: ${DEFAULT-VALUE})")
  double stepScale;

  @Option(names = "--langevin-step", defaultValue = "0.01", description = "langevin: fixed step eps (default: ${DEFAULT-VALUE})")
  double langevinStep;

  SamplerProgram program(Sde sde) {
    if (steps <= 0) throw new IllegalArgumentException("--steps must be > 0, got " + steps);
    boolean denoise = !noDenoise;
    switch (sampler.toLowerCase(Locale.ROOT)) {
      case "pc": {
        SamplerProgram.PredictorCorrector d = SamplerProgram.PredictorCorrector.defaults(sde, steps);
        Predictor p = predictor == null ? d.predictor() : Predictor.named(predictor);
        Corrector c = corrector == null ? d.corrector() : Corrector.named(corrector);
        return new SamplerProgram.PredictorCorrector(steps, p, c, c == Corrector.NONE ? 0 : correctorSteps, snr, denoise);
      }
      case "ode":
        return new SamplerProgram.ProbabilityFlow(SamplerProgram.OdeMethod.named(odeMethod), steps, rtol, atol, denoise);
      case "ald": {
        if (levels <= 0) throw new IllegalArgumentException("--levels must be > 0, got " + levels);
        double top = sigmaMax != null ? sigmaMax : sde.kind() == Sde.Kind.VE ? sde.priorStd() : sde.std(1.0);
        return new SamplerProgram.AnnealedLangevin(top, sigmaMin, levels, Math.max(1, steps / levels), stepScale,
            denoise, true);
      }
      case "langevin":
        return new SamplerProgram.Langevin(sde.tEps(), steps, langevinStep, true);
      default:
        throw new IllegalArgumentException("unknown sampler '" + sampler + "' (expected pc, ode, ald or langevin)");
    }
  }
}
