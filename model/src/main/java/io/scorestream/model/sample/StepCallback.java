package io.scorestream.model.sample;

/**
 * Called after each network call of an offline run, with the Tweedie estimate of x0 of every chain: the natural
 * preview hook (k-diffusion's callback carries the same "denoised" estimate). Called on the sampling thread; the
 * arrays are valid only during the call.
 */
@FunctionalInterface
public interface StepCallback {
  /**
   * @param tick       network calls so far
   * @param step       the user-visible step of the first unfinished chain
   * @param totalSteps its total
   * @param t          the time the first chain was evaluated at
   * @param x          current states, [B x D] row-major
   * @param denoised   Tweedie estimates E[x0 | x_t], [B x D] row-major
   */
  void onStep(long tick, int step, int totalSteps, double t, double[] x, double[] denoised);
}
