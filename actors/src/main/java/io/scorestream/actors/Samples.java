package io.scorestream.actors;

import java.util.Arrays;

/**
 * The samples (or the Tweedie estimates E[x0 | x_t] of a preview) of {@code count} chains of one shape, row-major
 * [count, D] with D the product of the shape: [D] for vectors, [C, H, W] for images. An immutable value that travels
 * from the sampler to the gateways without being copied again: the sampler gathers its rows into a fresh array once
 * and hands it over ({@link #adopt}); a request spread over several samplers is merged once by its session; readers
 * take values, rows or ranges ({@link #get}, {@link #row}, {@link #copyRows}) and never the array. Thread-safe.
 */
public final class Samples {
  private final long[] shape;
  private final int count;
  private final int dim;
  private final double[] values;

  private Samples(long[] shape, int count, double[] values) {
    if (count < 0) throw new IllegalArgumentException("count must be >= 0, got " + count);
    long d = 1;
    for (long s : shape) {
      if (s < 1) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a dimension < 1");
      d *= s;
    }
    if (shape.length == 0 || d > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("bad sample shape " + Arrays.toString(shape));
    }
    if (values.length != (long) count * d) {
      throw new IllegalArgumentException("expected " + count + " x " + d + " values, got " + values.length);
    }
    this.shape = shape.clone();
    this.count = count;
    this.dim = (int) d;
    this.values = values;
  }

  /**
   * Takes values as they are: the caller hands the array over and never writes it again (the sampler's one copy,
   * the session's merge). Package-private: outside the node a value is always {@link #copyOf copied} in.
   */
  static Samples adopt(long[] shape, int count, double[] values) {
    return new Samples(shape, count, values);
  }

  /** A value holding a copy of values. */
  public static Samples copyOf(long[] shape, int count, double[] values) {
    return new Samples(shape, count, values.clone());
  }

  /** count vectors of dimension values.length / count (a copy). */
  public static Samples vectors(int count, double[] values) {
    if (count < 1 || values.length % count != 0) {
      throw new IllegalArgumentException(values.length + " values are not " + count + " rows");
    }
    return copyOf(new long[] {values.length / count}, count, values);
  }

  /** The shape of one sample (a copy). */
  public long[] shape() {
    return shape.clone();
  }

  /** The number of chains. */
  public int count() {
    return count;
  }

  /** The values per chain: the product of the shape. */
  public int dim() {
    return dim;
  }

  /** Value i of the row-major [count, D] layout. */
  public double get(int i) {
    return values[i];
  }

  /** Value k of chain c. */
  public double get(int chain, int k) {
    return values[chain * dim + k];
  }

  /** A copy of chain c's values. */
  public double[] row(int chain) {
    return Arrays.copyOfRange(values, chain * dim, (chain + 1) * dim);
  }

  /** Whether every value of chain c is finite (a preview's chain that has not reported yet is NaN). */
  public boolean rowFinite(int chain) {
    for (int k = chain * dim; k < (chain + 1) * dim; k++) {
      if (!Double.isFinite(values[k])) return false;
    }
    return true;
  }

  /** Copies chains [from, from + chains) into dst from dst[at * D]. */
  public void copyRows(int from, int chains, double[] dst, int at) {
    System.arraycopy(values, from * dim, dst, at * dim, chains * dim);
  }

  /** A read-only view of all values, row-major (no copy: for encoders that read every value once). */
  public java.nio.DoubleBuffer buffer() {
    return java.nio.DoubleBuffer.wrap(values).asReadOnlyBuffer();
  }

  /** A copy of all values, row-major. */
  public double[] toArray() {
    return values.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Samples s && count == s.count && Arrays.equals(shape, s.shape)
        && Arrays.equals(values, s.values);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    return count + " x " + Arrays.toString(shape);
  }
}
