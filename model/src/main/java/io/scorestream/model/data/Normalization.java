package io.scorestream.model.data;

import java.util.Arrays;
import java.util.Locale;

/**
 * A per-column affine normalisation x -> (x - mean) / std: kind {@code none} (identity), {@code standard}
 * (mean and std fitted on the data, std floored at {@link #STD_FLOOR}) or {@code image} (pixels in [0, 1] to [-1, 1]). Immutable; arrays are copied in and out.
 *
 * @param kind "none" or "standard"
 * @param mean per-column mean subtracted by {@link #apply(double[])}
 * @param std  per-column (population) standard deviation divided by {@link #apply(double[])}; all > 0
 */
public record Normalization(String kind, double[] mean, double[] std) {

  /** Kind name of the identity normalisation. */
  public static final String NONE = "none";
  /** Kind name of the fitted per-column standardisation. */
  public static final String STANDARD = "standard";
  /** Kind name of the fixed image scaling [0, 1] -> [-1, 1] (mean 0.5, std 0.5 for every pixel; DDPM's). */
  public static final String IMAGE = "image";
  /** Smallest std a fitted column gets (constant columns would otherwise divide by zero). */
  public static final double STD_FLOOR = 1e-8;

  public Normalization {
    if (kind == null || !(kind.equals(NONE) || kind.equals(STANDARD) || kind.equals(IMAGE))) {
      throw new IllegalArgumentException("unknown normalization '" + kind + "' (expected standard, none or image)");
    }
    if (mean == null || std == null) throw new IllegalArgumentException("normalization mean and std must be non-null");
    if (mean.length == 0 || mean.length != std.length) {
      throw new IllegalArgumentException(
          "normalization needs mean and std of equal length >= 1, got " + mean.length + " and " + std.length);
    }
    for (int j = 0; j < mean.length; j++) {
      if (!Double.isFinite(mean[j])) throw new IllegalArgumentException("normalization mean[" + j + "] is " + mean[j]);
      if (!(std[j] > 0) || !Double.isFinite(std[j])) {
        throw new IllegalArgumentException("normalization std[" + j + "] must be finite and > 0, got " + std[j]);
      }
      if (kind.equals(NONE) && (mean[j] != 0 || std[j] != 1)) {
        throw new IllegalArgumentException("normalization 'none' must have mean 0 and std 1 (column " + j + ")");
      }
    }
    mean = mean.clone();
    std = std.clone();
  }

  /** The identity normalisation of the given dimension. */
  public static Normalization none(int dim) {
    if (dim < 1) throw new IllegalArgumentException("dimension must be >= 1, got " + dim);
    double[] s = new double[dim];
    Arrays.fill(s, 1.0);
    return new Normalization(NONE, new double[dim], s);
  }

  /** The image scaling of D pixels: x -> (x - 0.5) / 0.5. */
  public static Normalization image(int dim) {
    double[] m = new double[dim];
    double[] s = new double[dim];
    Arrays.fill(m, 0.5);
    Arrays.fill(s, 0.5);
    return new Normalization(IMAGE, m, s);
  }

  /** A {@code standard} normalisation fitted on the rows: per-column mean and population std (floored). */
  public static Normalization fit(double[][] rows) {
    if (rows == null || rows.length == 0) throw new IllegalArgumentException("cannot fit a normalization on no rows");
    int d = rows[0].length;
    double[] m = new double[d];
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].length != d) {
        throw new IllegalArgumentException("row " + i + " has " + rows[i].length + " columns, expected " + d);
      }
      for (int j = 0; j < d; j++) m[j] += rows[i][j];
    }
    for (int j = 0; j < d; j++) m[j] /= rows.length;
    double[] s = new double[d];
    for (double[] row : rows) {
      for (int j = 0; j < d; j++) {
        double e = row[j] - m[j];
        s[j] += e * e;
      }
    }
    for (int j = 0; j < d; j++) s[j] = Math.max(Math.sqrt(s[j] / rows.length), STD_FLOOR);
    return new Normalization(STANDARD, m, s);
  }

  /**
   * The normalisation of the given kind for these rows: {@code none}, or {@code standard} fitted on them.
   * A null or blank kind means {@code standard}. Throws {@link DataException} for an unknown kind.
   */
  public static Normalization of(String kind, double[][] rows) {
    String k = canonicalKind(kind);
    if (k.equals(NONE)) {
      if (rows == null || rows.length == 0) throw new IllegalArgumentException("no rows");
      return none(rows[0].length);
    }
    return fit(rows);
  }

  /** The canonical kind name for user input (null or blank means standard); DataException when unknown. */
  public static String canonicalKind(String kind) {
    if (kind == null || kind.isBlank()) return STANDARD;
    String k = kind.trim().toLowerCase(Locale.ROOT);
    if (k.equals(NONE) || k.equals(STANDARD) || k.equals(IMAGE)) return k;
    throw new DataException("unknown normalization '" + kind + "' (expected standard or none; images are always scaled to [-1, 1])");
  }

  /** Number of columns. */
  public int dim() {
    return mean.length;
  }

  @Override
  public double[] mean() {
    return mean.clone();
  }

  @Override
  public double[] std() {
    return std.clone();
  }

  /** (x - mean) / std, as a new array. */
  public double[] apply(double[] x) {
    checkLength(x);
    double[] y = new double[x.length];
    for (int j = 0; j < x.length; j++) y[j] = (x[j] - mean[j]) / std[j];
    return y;
  }

  /** y * std + mean, the inverse of {@link #apply(double[])}, as a new array. */
  public double[] invert(double[] y) {
    checkLength(y);
    double[] x = new double[y.length];
    for (int j = 0; j < y.length; j++) x[j] = y[j] * std[j] + mean[j];
    return x;
  }

  /** {@link #apply(double[])} on every row. */
  public double[][] apply(double[][] rows) {
    double[][] out = new double[rows.length][];
    for (int i = 0; i < rows.length; i++) out[i] = apply(rows[i]);
    return out;
  }

  /** {@link #invert(double[])} on every row. */
  public double[][] invert(double[][] rows) {
    double[][] out = new double[rows.length][];
    for (int i = 0; i < rows.length; i++) out[i] = invert(rows[i]);
    return out;
  }

  /**
   * log |det d apply(x)/dx| = -sum_j log std_j, so that log p_data(x) = log p_normalised(apply(x)) + this.
   */
  public double logDetJacobian() {
    double acc = 0;
    for (double s : std) acc -= Math.log(s);
    return acc;
  }

  private void checkLength(double[] x) {
    if (x.length != mean.length) {
      throw new IllegalArgumentException("expected a vector of length " + mean.length + ", got " + x.length);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Normalization n && kind.equals(n.kind) && Arrays.equals(mean, n.mean)
        && Arrays.equals(std, n.std);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * kind.hashCode() + Arrays.hashCode(mean)) + Arrays.hashCode(std);
  }

  @Override
  public String toString() {
    return "Normalization[" + kind + ", mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
  }
}
