package io.scorestream.model.eval;

/**
 * The energy distance D^2 = 2 E||X - Y|| - E||X - X'|| - E||Y - Y'|| between two samples (Szekely and Rizzo 2013),
 * zero exactly when the distributions agree. O(n m) pairs; callers subsample to a few thousand points.
 */
public final class EnergyDistance {
  private EnergyDistance() {}

  public static double of(double[][] a, double[][] b) {
    return 2 * meanDistance(a, b, false) - meanDistance(a, a, true) - meanDistance(b, b, true);
  }

  private static double meanDistance(double[][] a, double[][] b, boolean same) {
    double acc = 0;
    long n = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = same ? i + 1 : 0; j < b.length; j++) {
        double s = 0;
        for (int k = 0; k < a[i].length; k++) {
          double e = a[i][k] - b[j][k];
          s += e * e;
        }
        acc += Math.sqrt(s);
        n++;
      }
    }
    return n == 0 ? 0 : acc / n;
  }
}
