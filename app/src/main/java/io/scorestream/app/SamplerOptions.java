package io.scorestream.app;

import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.SamplerPrograms;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.sde.Sde;
import picocli.CommandLine.Option;

/**
 * The sampler options shared by {@code sample} and {@code eval}: a {@link SamplerSpec}, built into a program by
 * {@link SamplerPrograms} exactly as the node builds a request's. An option left out means the same default as a
 * request that leaves the field out.
 */
final class SamplerOptions {
  /**
   * The node's default step count ({@code scorestream.coordinator.default-steps}, read from the same configuration
   * the node reads), so that leaving out --steps means what leaving out {@code steps} means in a request.
   */
  static final int DEFAULT_STEPS = com.typesafe.config.ConfigFactory.load().getInt("scorestream.coordinator.default-steps");
  /** The command line's ceiling on steps (an offline run has no queue to protect). */
  static final int MAX_STEPS = 10_000_000;

  @Option(names = "--sampler", description = "pc, ode, ald or langevin (default: pc)")
  String sampler;

  @Option(names = "--predictor", description = "euler-maruyama, reverse-diffusion, ancestral or none "
      + "(default: reverse-diffusion for VE, euler-maruyama for VP and sub-VP)")
  String predictor;

  @Option(names = "--corrector", description = "langevin, ald or none (default: langevin for VE, none otherwise)")
  String corrector;

  @Option(names = "--corrector-steps", description = "corrector steps per step (default: 1 with a corrector)")
  Integer correctorSteps;

  @Option(names = "--snr", description = "corrector signal-to-noise ratio (default: 0.16)")
  Double snr;

  @Option(names = "--steps", description = "pc: predictor steps; ode: fixed solver steps (rk45: the initial 100); "
      + "ald: steps per noise level (default: default-steps / levels); langevin: steps (default: the node's "
      + "scorestream.coordinator.default-steps, 500)")
  Integer steps;

  @Option(names = "--no-denoise", description = "skip the final Tweedie denoising step")
  boolean noDenoise;

  @Option(names = "--ode-method", description = "rk45, euler or heun (default: rk45)")
  String odeMethod;

  @Option(names = "--rtol", description = "RK45 relative tolerance (default: 1e-5)")
  Double rtol;

  @Option(names = "--atol", description = "RK45 absolute tolerance (default: 1e-5)")
  Double atol;

  @Option(names = "--levels", description = "ald: noise levels (default: 10)")
  Integer levels;

  @Option(names = "--sigma-max", description = "ald: largest sigma (default: the SDE's prior std)")
  Double sigmaMax;

  @Option(names = "--sigma-min", description = "ald: smallest sigma (default: 0.05)")
  Double sigmaMin;

  @Option(names = "--step-scale", description = "ald: eps in alpha_i = eps sigma_i^2 / sigma_L^2 (default: 0.003)")
  Double stepScale;

  @Option(names = "--langevin-step", description = "langevin: the step eps (default: 0.1 std(t)^2)")
  Double langevinStep;

  /** The spec these options state. */
  SamplerSpec spec() {
    String kind = sampler == null ? null : sampler.trim().toLowerCase(java.util.Locale.ROOT);
    Double stepSize = "ald".equals(kind) ? stepScale : "langevin".equals(kind) ? langevinStep : null;
    String method = "ode".equals(kind) ? odeMethod : null;
    return new SamplerSpec(kind, steps, predictor, corrector, correctorSteps, snr, noDenoise ? Boolean.FALSE : null,
        method, rtol, atol, levels, stepSize, null, sigmaMax, sigmaMin);
  }

  /** The program, with a bad parameter reported under its option's name (e.g. "--steps must be ..."). */
  SamplerProgram program(Sde sde) {
    try {
      return SamplerPrograms.build(spec(), sde, new SamplerPrograms.Limits(DEFAULT_STEPS, MAX_STEPS));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(optionNames(e.getMessage()), e);
    }
  }

  private static final java.util.Map<String, String> OPTION_OF = java.util.Map.of(
      "steps", "--steps", "correctorSteps", "--corrector-steps", "levels", "--levels", "snr", "--snr",
      "stepSize", "--step-scale / --langevin-step", "rtol", "--rtol", "atol", "--atol");

  /** The builder's field names at the start of a message as the command line's options. */
  static String optionNames(String message) {
    if (message == null) return null;
    String out = message;
    for (var e : OPTION_OF.entrySet()) {
      out = out.replaceAll("(^|[ (])" + e.getKey() + "(?=[ ,)])", "$1" + java.util.regex.Matcher.quoteReplacement(e.getValue()));
    }
    return out;
  }
}
