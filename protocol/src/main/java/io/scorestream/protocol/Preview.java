package io.scorestream.protocol;

import java.util.Arrays;
import java.util.Objects;

/**
 * A progressive preview: the Tweedie estimates E[x0 | x_t] of the request's chains, row-major [chains, dim], in the
 * encoding the request asked for. {@link #of} encodes doubles, {@link #toDoubles} decodes them. NaN marks a chain
 * that has not reported yet. Immutable: arrays are copied in and out.
 *
 * @param step       the step of the least advanced reporting chain
 * @param totalSteps the request's number of steps (an estimate for adaptive solvers)
 * @param t          the diffusion time of the estimate, NaN when unknown
 * @param sigma      the noise level of the estimate, NaN when unknown
 * @param encoding   {@link PreviewEncoding#QUANTIZED_8}: {@code data} holds one byte a value and {@code min}/{@code
 *                   max} the range of each of the dim dimensions; {@link PreviewEncoding#FLOAT_32}: {@code data}
 *                   holds float32 little-endian and min/max are empty
 */
public record Preview(long sessionId, long requestId, int step, int totalSteps, double t, double sigma, int chains,
                      int dim, PreviewEncoding encoding, float[] min, float[] max, byte[] data)
    implements RequestEvent {

  /** The quantised byte that stands for NaN. */
  public static final int NAN_LEVEL = Quantized8.NAN_LEVEL;

  public Preview {
    if (encoding == null) throw new IllegalArgumentException("encoding must not be null");
    if (chains < 0 || dim < 0) throw new IllegalArgumentException("chains and dim must be >= 0");
    long values = (long) chains * dim;
    min = min.clone();
    max = max.clone();
    data = data.clone();
    if (encoding == PreviewEncoding.QUANTIZED_8) {
      if (dim > Protocol.MAX_QUANTIZED_DIM) {
        throw new IllegalArgumentException("QUANTIZED_8 carries at most " + Protocol.MAX_QUANTIZED_DIM + " dims");
      }
      if (min.length != dim || max.length != dim) {
        throw new IllegalArgumentException("QUANTIZED_8 needs " + dim + " ranges, got " + min.length);
      }
      if (data.length != values) throw new IllegalArgumentException("expected " + values + " bytes, got " + data.length);
    } else {
      if (min.length != 0 || max.length != 0) throw new IllegalArgumentException("FLOAT_32 carries no ranges");
      if (data.length != values * Float.BYTES) {
        throw new IllegalArgumentException("expected " + values * Float.BYTES + " bytes, got " + data.length);
      }
    }
  }

  /** Encodes values (row-major [values.length / dim, dim]) as a preview. */
  public static Preview of(long sessionId, long requestId, int step, int totalSteps, double t, double sigma, int dim,
                           double[] values, PreviewEncoding encoding) {
    return of(sessionId, requestId, step, totalSteps, t, sigma, dim, java.nio.DoubleBuffer.wrap(values), encoding);
  }

  /**
   * Encodes the values from 0 to the limit of a buffer (row-major [limit / dim, dim]) as a preview, reading them in
   * place: a node hands its shared, read-only estimates, and the encoding is the only copy.
   */
  public static Preview of(long sessionId, long requestId, int step, int totalSteps, double t, double sigma, int dim,
                           java.nio.DoubleBuffer values, PreviewEncoding encoding) {
    int length = values.limit();
    if (dim <= 0 || length % dim != 0) {
      throw new IllegalArgumentException(length + " values are not rows of " + dim);
    }
    int chains = length / dim;
    if (encoding == PreviewEncoding.FLOAT_32) {
      byte[] data = new byte[length * Float.BYTES];
      for (int i = 0; i < length; i++) {
        int bits = Float.floatToRawIntBits((float) values.get(i));
        int o = i * Float.BYTES;
        data[o] = (byte) bits;
        data[o + 1] = (byte) (bits >>> 8);
        data[o + 2] = (byte) (bits >>> 16);
        data[o + 3] = (byte) (bits >>> 24);
      }
      return new Preview(sessionId, requestId, step, totalSteps, t, sigma, chains, dim, encoding, new float[0],
          new float[0], data);
    }
    float[] lo = new float[dim];
    float[] hi = new float[dim];
    for (int d = 0; d < dim; d++) {
      double a = Double.POSITIVE_INFINITY;
      double b = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < chains; c++) {
        double v = values.get(c * dim + d);
        if (Double.isFinite(v)) {
          a = Math.min(a, v);
          b = Math.max(b, v);
        }
      }
      lo[d] = a <= b ? (float) a : 0f;
      hi[d] = a <= b ? (float) b : 0f;
    }
    byte[] data = new byte[length];
    for (int i = 0; i < length; i++) {
      int d = i % dim;
      data[i] = (byte) Quantized8.level(values.get(i), lo[d], hi[d]);
    }
    return new Preview(sessionId, requestId, step, totalSteps, t, sigma, chains, dim, encoding, lo, hi, data);
  }

  /** The values as doubles, row-major [chains, dim] (dequantised for QUANTIZED_8: error at most range / 508). */
  public double[] toDoubles() {
    double[] out = new double[chains * dim];
    if (encoding == PreviewEncoding.FLOAT_32) {
      for (int i = 0; i < out.length; i++) {
        int o = i * Float.BYTES;
        int bits = (data[o] & 0xFF) | (data[o + 1] & 0xFF) << 8 | (data[o + 2] & 0xFF) << 16 | (data[o + 3] & 0xFF) << 24;
        out[i] = Float.intBitsToFloat(bits);
      }
    } else {
      for (int i = 0; i < out.length; i++) {
        int q = data[i] & 0xFF;
        int d = i % dim;
        out[i] = Quantized8.value(q, min[d], max[d]);
      }
    }
    return out;
  }

  @Override
  public float[] min() {
    return min.clone();
  }

  @Override
  public float[] max() {
    return max.clone();
  }

  @Override
  public byte[] data() {
    return data.clone();
  }

  /** Bytes of {@link #data()}, without copying it. */
  public int dataLength() {
    return data.length;
  }

  /** The range of dimension d (QUANTIZED_8). */
  float minAt(int d) {
    return min[d];
  }

  float maxAt(int d) {
    return max[d];
  }

  byte[] dataUnsafe() {
    return data;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Preview p && sessionId == p.sessionId && requestId == p.requestId && step == p.step
        && totalSteps == p.totalSteps && Double.compare(t, p.t) == 0 && Double.compare(sigma, p.sigma) == 0
        && chains == p.chains && dim == p.dim && encoding == p.encoding && Arrays.equals(min, p.min)
        && Arrays.equals(max, p.max) && Arrays.equals(data, p.data);
  }

  @Override
  public int hashCode() {
    return Objects.hash(sessionId, requestId, step, totalSteps, chains, dim, encoding, Arrays.hashCode(data));
  }

  @Override
  public String toString() {
    return "Preview[sessionId=" + sessionId + ", requestId=" + requestId + ", step=" + step + "/" + totalSteps
        + ", t=" + t + ", sigma=" + sigma + ", shape=" + chains + "x" + dim + ", " + encoding + ", "
        + data.length + " bytes]";
  }
}
