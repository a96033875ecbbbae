package io.scorestream.model.score;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Host values into ND4J arrays in one allocation. Every INDArray ND4J 1.0.0-M2.1 creates registers its data and
 * shape buffers with its deallocator service (measured: the sampler's tick registered 130 buffers), so the hot loop
 * makes each array directly in its final type and shape rather than through a double array, a cast and a reshape
 * (three arrays). Rounding to float is Java's, the same round-to-nearest as ND4J's cast.
 */
public final class HostArrays {
  private HostArrays() {}

  /** v (row-major, rows x cols values) as a [rows, cols] array of the given type. */
  public static INDArray matrix(double[] v, int rows, int cols, DataType type) {
    if ((long) rows * cols != v.length) {
      throw new IllegalArgumentException(v.length + " values for a [" + rows + ", " + cols + "] array");
    }
    long[] shape = {rows, cols};
    if (type == DataType.FLOAT) {
      float[] f = new float[v.length];
      for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
      return Nd4j.create(f, shape, DataType.FLOAT);
    }
    return Nd4j.create(v, shape, type);
  }

  /** The values of a, row-major, as doubles: one bulk copy (a view or an 'f'-ordered array is made 'c' first). */
  public static double[] values(INDArray a) {
    INDArray c = a.isView() || a.ordering() != 'c' ? a.dup('c') : a;
    double[] v = c.data().asDouble();
    if (v.length != a.length()) v = java.util.Arrays.copyOf(v, (int) a.length());
    return v;
  }

  /** v as a [n, 1] column of the given type. */
  public static INDArray column(double[] v, DataType type) {
    return matrix(v, v.length, 1, type);
  }
}
