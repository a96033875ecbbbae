package io.scorestream.model.sample;

/**
 * The Butcher tableau of Dormand-Prince 5(4) with first-same-as-last (Dormand and Prince 1980; Hairer, Norsett and
 * Wanner, "Solving ODEs I", II.5, table 5.2) and its step-size controller (II.4, eq. 4.13). Pure constants.
 */
public final class DormandPrinceTableau {
  private DormandPrinceTableau() {}

  public static final int STAGES = 7;
  public static final double[] C = {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1};
  public static final double[][] A = {
      {},
      {1.0 / 5},
      {3.0 / 40, 9.0 / 40},
      {44.0 / 45, -56.0 / 15, 32.0 / 9},
      {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
      {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
      {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84}};
  /** b - b*: the fifth-order weights minus the embedded fourth-order ones (the local error estimate). */
  public static final double[] E = {
      35.0 / 384 - 5179.0 / 57600, 0, 500.0 / 1113 - 7571.0 / 16695, 125.0 / 192 - 393.0 / 640,
      -2187.0 / 6784 + 92097.0 / 339200, 11.0 / 84 - 187.0 / 2100, -1.0 / 40};

  /** The next step size from the scaled RMS error: h 0.9 err^(-1/5), clamped to [0.2 h, 10 h], never up on reject. */
  public static double nextStep(double h, double err, boolean accepted) {
    double factor = err == 0 ? 10 : 0.9 * Math.pow(err, -0.2);
    factor = Math.min(10, Math.max(0.2, factor));
    if (!accepted) factor = Math.min(1, factor);
    return h * factor;
  }
}
