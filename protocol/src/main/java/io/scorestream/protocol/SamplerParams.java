package io.scorestream.protocol;

import java.util.List;

/**
 * The sampler fields of a {@link GenerateRequest}, as the node's SamplerSpec names them: each null means "the node's
 * default". Names are checked here against the values the wire can carry; the node validates the combination.
 *
 * <ul>
 *   <li>kind: pc | ode | ald | langevin | ddim | dpmpp-2m | dpmpp-2m-sde | edm</li>
 *   <li>schedule (ddim, dpmpp-*, edm): uniform | karras | logsnr</li>
 *   <li>predictor: euler-maruyama | reverse-diffusion | ancestral | none; corrector: langevin | ald | none</li>
 *   <li>method (ode): rk45 | euler | heun</li>
 * </ul>
 */
public record SamplerParams(String kind, Integer steps, String predictor, String corrector, Integer correctorSteps,
                            Double snr, Boolean denoise, String method, Double rtol, Double atol, Integer levels,
                            Double stepSize, Double t, Double eta, String schedule, Double churn, Double sigmaMax,
                            Double sigmaMin) {

  /** Sampler kinds (the wire maps each by name to the schema's constant). */
  public static final List<String> KINDS = List.of("pc", "ode", "ald", "langevin", "ddim", "dpmpp-2m", "dpmpp-2m-sde",
      "edm");
  /** Time-step schedules of the few-step samplers. */
  public static final List<String> SCHEDULES = List.of("uniform", "karras", "logsnr");
  /** Predictors in wire order. */
  public static final List<String> PREDICTORS = List.of("euler-maruyama", "reverse-diffusion", "ancestral", "none");
  /** Correctors in wire order. */
  public static final List<String> CORRECTORS = List.of("langevin", "ald", "none");
  /** ODE methods in wire order. */
  public static final List<String> METHODS = List.of("rk45", "euler", "heun");

  public SamplerParams {
    check(kind, KINDS, "kind");
    check(predictor, PREDICTORS, "predictor");
    check(corrector, CORRECTORS, "corrector");
    check(method, METHODS, "method");
    check(schedule, SCHEDULES, "schedule");
    // Integer.MIN_VALUE and NaN are the wire's "absent"; a present value must not collide with them.
    if (steps != null && steps == Integer.MIN_VALUE) steps = null;
    if (correctorSteps != null && correctorSteps == Integer.MIN_VALUE) correctorSteps = null;
    if (levels != null && levels == Integer.MIN_VALUE) levels = null;
    if (snr != null && snr.isNaN()) snr = null;
    if (rtol != null && rtol.isNaN()) rtol = null;
    if (atol != null && atol.isNaN()) atol = null;
    if (stepSize != null && stepSize.isNaN()) stepSize = null;
    if (t != null && t.isNaN()) t = null;
    if (eta != null && eta.isNaN()) eta = null;
    if (churn != null && churn.isNaN()) churn = null;
    if (sigmaMax != null && sigmaMax.isNaN()) sigmaMax = null;
    if (sigmaMin != null && sigmaMin.isNaN()) sigmaMin = null;
  }

  /** The fields of schema version 1 (the rest: the node's defaults). */
  public SamplerParams(String kind, Integer steps, String predictor, String corrector, Integer correctorSteps,
                       Double snr, Boolean denoise, String method, Double rtol, Double atol, Integer levels,
                       Double stepSize, Double t) {
    this(kind, steps, predictor, corrector, correctorSteps, snr, denoise, method, rtol, atol, levels, stepSize, t,
        null, null, null, null, null);
  }

  /** A few-step solver (ddim | dpmpp-2m | dpmpp-2m-sde | edm) with its defaults apart from steps. */
  public static SamplerParams fewStep(String kind, Integer steps) {
    return new SamplerParams(kind, steps, null, null, null, null, null, null, null, null, null, null, null);
  }

  /** A copy with these few-step fields (null: the solver's default). */
  public SamplerParams withFewStep(Double eta, String schedule, Double churn) {
    return new SamplerParams(kind, steps, predictor, corrector, correctorSteps, snr, denoise, method, rtol, atol, levels,
        stepSize, t, eta, schedule, churn, sigmaMax, sigmaMin);
  }

  /** A copy with these ALD ladder ends (null: the model's default). */
  public SamplerParams withLadder(Double sigmaMax, Double sigmaMin) {
    return new SamplerParams(kind, steps, predictor, corrector, correctorSteps, snr, denoise, method, rtol, atol, levels,
        stepSize, t, eta, schedule, churn, sigmaMax, sigmaMin);
  }

  /** The node's default sampler with its default steps. */
  public static SamplerParams defaults() {
    return new SamplerParams(null, null, null, null, null, null, null, null, null, null, null, null, null);
  }

  /** The per-SDE predictor-corrector default with this many steps. */
  public static SamplerParams pc(int steps) {
    return new SamplerParams("pc", steps, null, null, null, null, null, null, null, null, null, null, null);
  }

  /** An explicit predictor-corrector sampler. */
  public static SamplerParams pc(int steps, String predictor, String corrector, int correctorSteps, double snr) {
    return new SamplerParams("pc", steps, predictor, corrector, correctorSteps, snr, null, null, null, null, null,
        null, null);
  }

  /** The probability-flow ODE with adaptive RK45. */
  public static SamplerParams rk45(double rtol, double atol) {
    return new SamplerParams("ode", null, null, null, null, null, null, "rk45", rtol, atol, null, null, null);
  }

  /** The probability-flow ODE with a fixed-step method (euler | heun). */
  public static SamplerParams ode(String method, int steps) {
    return new SamplerParams("ode", steps, null, null, null, null, null, method, null, null, null, null, null);
  }

  /** Annealed Langevin dynamics. */
  public static SamplerParams ald(int levels, int stepsPerLevel, double stepSize) {
    return new SamplerParams("ald", stepsPerLevel, null, null, null, null, null, null, null, null, levels, stepSize,
        null);
  }

  /** Langevin dynamics at a fixed noise level t. */
  public static SamplerParams langevin(double t, int steps, double stepSize) {
    return new SamplerParams("langevin", steps, null, null, null, null, null, null, null, null, null, stepSize, t);
  }

  /** A copy with the final denoising step on or off. */
  public SamplerParams withDenoise(boolean on) {
    return new SamplerParams(kind, steps, predictor, corrector, correctorSteps, snr, on, method, rtol, atol, levels,
        stepSize, t, eta, schedule, churn, sigmaMax, sigmaMin);
  }

  private static void check(String value, List<String> allowed, String what) {
    if (value != null && !allowed.contains(value)) {
      throw new IllegalArgumentException(what + " must be one of " + allowed + ", got '" + value + "'");
    }
  }
}
