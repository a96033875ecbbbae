package io.scorestream.model.sample;

/**
 * Where one chain stands in its program, and what it asks of the next network call. A {@link ChainBatch} asks every
 * row's cursor to {@link #plan()} a tick, makes one network call for all rows, then hands each cursor its own norms
 * and lets it {@link #update} the row. Cursors hold host-side scalars only; the chain's state lives in the batch.
 *
 * <p>The tick, per row, over the state x and the derivative registers K_0..K_6 (used by the ODE solvers):
 * <pre>
 *   u  = x + sum_j mix_j K_j                      (mix null: u = x)
 *   s  = s_theta(u, time)                         (one call for the whole batch)
 *   K_store = p u + q s                           (store >= 0)
 *   x' = a x + au u + b s + c z + sum_j gamma_j K_j
 * </pre>
 * Mutable; confined to the thread that owns the batch.
 */
public abstract class ChainCursor {
  /** The number of derivative registers (Dormand-Prince has seven stages). */
  public static final int REGISTERS = 7;

  // ---- The plan of the coming tick, written by plan(). ----
  /** The time at which the score is evaluated. */
  protected double time;
  /** Register weights of the network input, or null for u = x. */
  protected double[] mix;
  /** The register that receives p u + q s, or -1. */
  protected int store = -1;
  protected double p;
  protected double q;
  /** Register weights of the local error estimate, or null. */
  protected double[] errorWeights;
  protected double rtol;
  protected double atol;
  /** Whether the update needs the norms of the score and of the noise. */
  protected boolean needsNorms;
  /** Whether the update draws noise this tick. */
  protected boolean needsNoise;

  // ---- The update, written by update(). ----
  protected double a;
  protected double au;
  protected double b;
  protected double c;
  /** Register weights added to x, or null. */
  protected double[] gamma;
  /** Whether K_0 takes the value of K_6 after the update (first-same-as-last). */
  protected boolean fsal;

  /** The chain's own tick counter: the step index its noise is keyed by. */
  protected long ticks;

  /**
   * This chain's progress at a step boundary (between two ticks), as numbers: its tick counter, its time and the
   * program's own counters. A cursor the same program starts and {@link #restore}s from them continues exactly as
   * this one would: with the chain's state and registers, this is what moves a chain to another batch.
   */
  public final double[] save() {
    double[] own = progress();
    double[] out = new double[2 + own.length];
    out[0] = ticks;
    out[1] = time;
    System.arraycopy(own, 0, out, 2, own.length);
    return out;
  }

  /** Takes up the progress {@link #save} gave (of a cursor of the same program); a fresh cursor only. */
  public final void restore(double[] saved) {
    double[] own = java.util.Arrays.copyOfRange(saved, 2, saved.length);
    if (own.length != progress().length) {
      throw new IllegalArgumentException("saved progress of " + saved.length + " numbers does not fit a "
          + getClass().getSimpleName() + " cursor (" + (progress().length + 2) + ")");
    }
    ticks = (long) saved[0];
    time = saved[1];
    resume(own);
  }

  /** The program's own counters (integers and flags as exact doubles). */
  protected abstract double[] progress();

  /** Sets the program's own counters from {@link #progress}'s numbers. */
  protected abstract void resume(double[] progress);

  /** Prepares the coming tick. Called only while !done(). */
  protected abstract void plan();

  /**
   * Writes the row's update from its own norms (NaN where not asked for) and advances the cursor.
   *
   * @param scoreNorm ||s|| of this row
   * @param noiseNorm ||z|| of this row
   * @param errorNorm the scaled RMS local error of this row
   */
  protected abstract void update(double scoreNorm, double noiseNorm, double errorNorm);

  /** Whether the program has finished. */
  public abstract boolean done();

  /** The user-visible step the chain is on (for previews and progress). */
  public abstract int step();

  /** The user-visible number of steps (an estimate for adaptive solvers). */
  public abstract int totalSteps();

  /** The network calls this chain has taken part in. */
  public long ticks() {
    return ticks;
  }

  /** The time of the most recent plan: the chain's current noise level. */
  public double time() {
    return time;
  }

  protected final void resetPlan() {
    mix = null;
    store = -1;
    errorWeights = null;
    needsNorms = false;
    needsNoise = false;
  }

  protected final void setUpdate(Affine update) {
    a = update.a();
    au = 0;
    b = update.b();
    c = update.c();
    gamma = null;
    fsal = false;
  }
}
