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

  @Option(names = "--sampler", description = "pc, ode, ald, langevin, ddim, dpmpp-2m, dpmpp-2m-sde or edm "
      + "(default: pc)")
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
      + "langevin: steps (default for these: the node's scorestream.coordinator.default-steps, 500); ald: steps per "
      + "noise level (default: NCSN's 100); ddim 50, dpmpp-2m 20, dpmpp-2m-sde 50, edm 18 by default")
  Integer steps;

  @Option(names = "--no-denoise", description = "skip the final Tweedie denoising step")
  boolean noDenoise;

  @Option(names = "--ode-method", description = "rk45, euler or heun (default: rk45)")
  String odeMethod;

  @Option(names = "--rtol", description = "RK45 relative tolerance (default: 1e-5)")
  Double rtol;

  @Option(names = "--atol", description = "RK45 absolute tolerance (default: 1e-5)")
  Double atol;

  @Option(names = "--schedule", description = "ddim, dpmpp-*, edm: uniform (in t), karras (rho 7 in sigma) or "
      + "logsnr (default: uniform for ddim, karras otherwise)")
  String schedule;

  @Option(names = "--eta", description = "ddim: 0 deterministic .. 1 DDPM-like (default 0); dpmpp-2m-sde: noise "
      + "(default 1)")
  Double eta;

  @Option(names = "--churn", description = "edm: S_churn, the noise re-injected per step (default 0)")
  Double churn;

  @Option(names = "--levels", description = "ald: noise levels (default: 10)")
  Integer levels;

  @Option(names = "--sigma-max", description = "ald: largest sigma = std/m (default: the model's paper ladder, "
      + "20 for analytic:ncsn-gmm, else the SDE's sigma(1))")
  Double sigmaMax;

  @Option(names = "--sigma-min", description = "ald: smallest sigma (default: 1 for analytic:ncsn-gmm, else "
      + "max(sigma(eps), 0.05))")
  Double sigmaMin;

  @Option(names = "--step-scale", description = "ald: eps in alpha_i = eps sigma_i^2 / sigma_L^2 (default: "
      + "0.1 sigma_L^2)")
  Double stepScale;

  @Option(names = "--langevin-step", description = "langevin: the step eps (default: 0.1 std(t)^2)")
  Double langevinStep;

  /** The spec these options state. */
  SamplerSpec spec() {
    String kind = sampler == null ? null : sampler.trim().toLowerCase(java.util.Locale.ROOT);
    Double stepSize = "ald".equals(kind) ? stepScale : "langevin".equals(kind) ? langevinStep : null;
    String method = "ode".equals(kind) ? odeMethod : null;
    return new SamplerSpec(kind, steps, lower(predictor), lower(corrector), correctorSteps, snr,
        noDenoise ? Boolean.FALSE : null, lower(method), rtol, atol, levels, stepSize, null, sigmaMax, sigmaMin, eta,
        lower(schedule), churn);
  }

  private static String lower(String s) {
    return s == null ? null : s.trim().toLowerCase(java.util.Locale.ROOT);
  }

  /** The wire form of a spec, field for field (the Aeron client sends what sample would run). */
  static io.scorestream.protocol.SamplerParams toWire(SamplerSpec s) {
    return new io.scorestream.protocol.SamplerParams(s.kind(), s.steps(), s.predictor(), s.corrector(),
        s.correctorSteps(), s.snr(), s.denoise(), s.method(), s.rtol(), s.atol(), s.levels(), s.stepSize(), s.t(),
        s.eta(), s.schedule(), s.churn(), s.sigmaMax(), s.sigmaMin());
  }

  /** The program under sde with the SDE's ALD ladder (see {@link #program(Sde, double[])}). */
  SamplerProgram program(Sde sde) {
    return program(sde, null);
  }

  /**
   * The program under sde, with the model's ALD ladder (null: the SDE's), and a bad parameter reported under its
   * option's name (e.g. "--steps must be ...").
   */
  SamplerProgram program(Sde sde, double[] aldSigmaRange) {
    try {
      return SamplerPrograms.build(spec(), sde, new SamplerPrograms.Limits(DEFAULT_STEPS, MAX_STEPS, aldSigmaRange));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(optionNames(e.getMessage()), e);
    }
  }

  private static final java.util.Map<String, String> OPTION_OF = java.util.Map.of(
      "steps", "--steps", "correctorSteps", "--corrector-steps", "levels", "--levels", "snr", "--snr",
      "stepSize", "--step-scale / --langevin-step", "rtol", "--rtol", "atol", "--atol", "sigmaMax", "--sigma-max",
      "sigmaMin", "--sigma-min");

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
