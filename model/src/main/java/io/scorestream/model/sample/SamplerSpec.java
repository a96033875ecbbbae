package io.scorestream.model.sample;

/**
 * The sampler parameters of a request, as a client states them: every field may be null, meaning "the node's
 * default" ({@link SamplerPrograms} fills the per-SDE defaults and validates; the command line, the node and both gateways all build their programs there). Immutable.
 *
 * <p>Kinds and the fields they read:
 * <ul>
 *   <li>{@code pc} (default): steps, predictor (euler-maruyama | reverse-diffusion | ancestral | none), corrector
 *       (langevin | ald | none), correctorSteps, snr, denoise. Without predictor and corrector: the per-SDE default
 *       (VE: reverse-diffusion + Langevin, snr 0.16; VP and sub-VP: Euler-Maruyama, no corrector).</li>
 *   <li>{@code ode}: method (rk45 | euler | heun), steps (fixed-step methods), rtol, atol, denoise.</li>
 *   <li>{@code ald}: levels (default 10), steps (per level, default 100), stepSize (eps of alpha_i = eps sigma_i^2 /
 *       sigma_L^2, default 0.1 sigma_L^2), sigmaMax and sigmaMin (the ladder's ends in sigma = std / m; default the
 *       model's paper ladder or the SDE's range), denoise.</li>
 *   <li>{@code langevin}: t, steps, stepSize.</li>
 *   <li>{@code ddim} (eta, default 0), {@code dpmpp-2m}, {@code dpmpp-2m-sde} (eta, default 1), {@code edm} (churn,
 *       default 0): steps (default: the solver's paper's), schedule (uniform | karras | logsnr), denoise
 *       ({@link SamplerProgram.Solver}).</li>
 * </ul>
 */
public record SamplerSpec(String kind, Integer steps, String predictor, String corrector, Integer correctorSteps,
                          Double snr, Boolean denoise, String method, Double rtol, Double atol, Integer levels,
                          Double stepSize, Double t, Double sigmaMax, Double sigmaMin, Double eta, String schedule,
                          Double churn) {

  /** The node's default sampler (per-SDE predictor-corrector) with its default step count. */
  public static SamplerSpec defaults() {
    return new SamplerSpec(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
  }

  /** The per-SDE predictor-corrector default with this many steps. */
  public static SamplerSpec pc(int steps) {
    return new SamplerSpec("pc", steps, null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null);
  }

  /** An explicit predictor-corrector sampler. */
  public static SamplerSpec pc(int steps, String predictor, String corrector, int correctorSteps, double snr) {
    return new SamplerSpec("pc", steps, predictor, corrector, correctorSteps, snr, null, null, null, null, null, null,
        null, null, null, null, null, null);
  }

  /** The probability-flow ODE with adaptive RK45 at these tolerances. */
  public static SamplerSpec rk45(double rtol, double atol) {
    return new SamplerSpec("ode", null, null, null, null, null, null, "rk45", rtol, atol, null, null, null, null, null,
        null, null, null);
  }

  /** The probability-flow ODE with a fixed-step method (euler or heun). */
  public static SamplerSpec ode(String method, int steps) {
    return new SamplerSpec("ode", steps, null, null, null, null, null, method, null, null, null, null, null, null, null,
        null, null, null);
  }

  /** Annealed Langevin dynamics over the default sigma ladder. */
  public static SamplerSpec ald(int levels, int stepsPerLevel, double stepSize) {
    return new SamplerSpec("ald", stepsPerLevel, null, null, null, null, null, null, null, null, levels, stepSize,
        null, null, null, null, null, null);
  }

  /** Langevin dynamics at a fixed noise level t. */
  public static SamplerSpec langevin(double t, int steps, double stepSize) {
    return new SamplerSpec("langevin", steps, null, null, null, null, null, null, null, null, null, stepSize, t, null,
        null, null, null, null);
  }

  /** A few-step solver ({@code ddim}, {@code dpmpp-2m}, {@code dpmpp-2m-sde} or {@code edm}) with its defaults. */
  public static SamplerSpec fewStep(String kind, Integer steps) {
    return new SamplerSpec(kind, steps, null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null);
  }

  /** A copy with the final Tweedie denoising step on or off. */
  public SamplerSpec withDenoise(boolean on) {
    return new SamplerSpec(kind, steps, predictor, corrector, correctorSteps, snr, on, method, rtol, atol, levels,
        stepSize, t, sigmaMax, sigmaMin, eta, schedule, churn);
  }

  /** A copy with these few-step fields (null: the solver's default). */
  public SamplerSpec withFewStep(Double eta, String schedule, Double churn) {
    return new SamplerSpec(kind, steps, predictor, corrector, correctorSteps, snr, denoise, method, rtol, atol, levels,
        stepSize, t, sigmaMax, sigmaMin, eta, schedule, churn);
  }
}
