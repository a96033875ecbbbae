package io.scorestream.model.nn;

/**
 * The float loops of the U-Net's host stages (the convolutions' sums over taps, Winograd's transforms, group norm's statistics and affine map,
 * SiLU x / (1 + e^-x)): SIMD through the incubating Vector API when the JVM resolved {@code jdk.incubator.vector}
 * (the launcher, the tests and the benchmarks pass {@code --add-modules jdk.incubator.vector}), plain loops
 * otherwise.
 *
 * <p>Every kernel is built from IEEE operations alone (add, multiply, fused multiply-add, divide, bit casts), so its
 * result does not depend on whether the JIT has compiled it: the Vector API's own exp and lane reductions are not
 * (interpreted they run {@link Math#exp} lane by lane and reduce in lane order, compiled they run SVML's exp and a
 * tree), and a served chain must equal its offline run bit for bit. exp is Cephes' expf (a degree-5 polynomial on
 * [-ln 2 / 2, ln 2 / 2] after a two-part ln 2 reduction, within 2 ulp of {@link Math#exp}), the same in both
 * implementations, so SiLU and the affine map agree bit for bit between them; the sums differ in order only.
 * Measured at batch 128 of the MNIST U-Net (BENCHMARKS.md): libnd4j's swish cost 33 ms of a 138 ms pass and the
 * scalar group norm about 30.
 */
abstract class FloatKernels {
  /** The kernels this JVM runs. */
  static final FloatKernels INSTANCE = choose();

  /** Whether {@link #INSTANCE} is the Vector API's. */
  static boolean vectorised() {
    return !(INSTANCE instanceof Scalar);
  }

  /** The sum of a[from, from + len), accumulated in double over blocks. */
  abstract double sum(float[] a, int from, int len);

  /** The sum of (a[i] - mu)^2 over [from, from + len). */
  abstract double sumSquaredDeviations(float[] a, int from, int len, float mu);

  /** a[i] += v over [from, from + len). */
  abstract void add(float[] a, int from, int len, float v);

  /** a[i] = a[i] * scale + shift over [from, from + len), then SiLU when silu. */
  abstract void affine(float[] a, int from, int len, float scale, float shift, boolean silu);

  /**
   * out[outFrom + i] = fma(b[bFrom + i], s, a[aFrom + i]) for i in [0, len): with s = 1 or -1 the exact sum or
   * difference, rounded once. out may be a or b (same places).
   */
  abstract void addScaled(float[] out, int outFrom, float[] a, int aFrom, float[] b, int bFrom, float s, int len);

  /** y[yFrom + i] = fma(a, x[xFrom + i], y[yFrom + i]) for i in [0, len): the same bits in both implementations. */
  abstract void axpy(float[] y, int yFrom, float a, float[] x, int xFrom, int len);

  /**
   * One image's convolution as a sum over taps (the U-Net's direct convolutions, and the four products of its
   * Winograd ones): for co in [0, cout) and p in [0, len), acc[co * accStride + p] = bias[co] + the sum over taps t,
   * in order, of w[co * taps + t] * in[off[t] + p], each term one fused multiply-add. A tap is an (input channel, ky, kx) and off[t] its place in a zero-padded
   * input laid out so that every tap reads one contiguous run (UNetForward's padded-width, phase-split layout). The
   * vector kernel computes whole vectors past len: accStride must be at least len rounded up to {@link #ROUND}, and
   * in must hold off[t] + that.
   */
  abstract void conv(float[] in, int[] off, int taps, float[] w, float[] bias, int cout, float[] acc, int accStride,
                     int len);

  /** What the padded lengths of {@link #conv} are rounded up to (a multiple of twice every vector length). */
  static final int ROUND = 64;

  /** a[i] = SiLU(a[i]) = a[i] / (1 + exp(-a[i])) over [from, from + len). */
  final void silu(float[] a, int from, int len) {
    affine(a, from, len, 1f, 0f, true);
  }

  // Cephes expf: x = n ln 2 + r with n = round(x / ln 2), ln 2 = LN2_HI + LN2_LO, e^r by a degree-5 polynomial.
  static final float EXP_MIN = -87f;
  static final float EXP_MAX = 88f;
  static final float LOG2E = 1.44269504088896341f;
  static final float LN2_HI = 0.693359375f;
  static final float LN2_LO = -2.12194440e-4f;
  /** 1.5 * 2^23: adding it rounds a float of magnitude below 2^22 to an integer, held in the low mantissa bits. */
  static final float ROUNDER = 12582912f;
  static final int ROUNDER_BITS = 0x4B400000;
  static final float P0 = 1.9875691500e-4f;
  static final float P1 = 1.3981999507e-3f;
  static final float P2 = 8.3334519073e-3f;
  static final float P3 = 4.1665795894e-2f;
  static final float P4 = 1.6666665459e-1f;
  static final float P5 = 5.0000001201e-1f;

  /**
   * e^x for x clamped to [{@link #EXP_MIN}, {@link #EXP_MAX}] (NaN stays NaN), the scalar twin of the vector kernel's
   * exp, operation for operation.
   */
  static float exp(float x) {
    x = Math.min(Math.max(x, EXP_MIN), EXP_MAX);
    float t = Math.fma(x, LOG2E, ROUNDER);
    float n = t - ROUNDER;
    float r = Math.fma(n, -LN2_HI, x);
    r = Math.fma(n, -LN2_LO, r);
    float p = Math.fma(P0, r, P1);
    p = Math.fma(p, r, P2);
    p = Math.fma(p, r, P3);
    p = Math.fma(p, r, P4);
    p = Math.fma(p, r, P5);
    float er = Math.fma(p, r * r, r + 1f);
    int bits = (Float.floatToRawIntBits(t) - ROUNDER_BITS + 127) << 23;
    return er * Float.intBitsToFloat(bits);
  }

  private static FloatKernels choose() {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) return new Scalar();
    try {
      return (FloatKernels) Class.forName("io.scorestream.model.nn.VectorFloatKernels").getDeclaredConstructor()
          .newInstance();
    } catch (ReflectiveOperationException | LinkageError e) {
      return new Scalar();
    }
  }

  /** Plain loops: what runs without the Vector API. */
  static final class Scalar extends FloatKernels {
    @Override
    double sum(float[] a, int from, int len) {
      double s = 0;
      for (int i = from; i < from + len; i++) s += a[i];
      return s;
    }

    @Override
    double sumSquaredDeviations(float[] a, int from, int len, float mu) {
      double s = 0;
      for (int i = from; i < from + len; i++) {
        float d = a[i] - mu;
        s += d * d;
      }
      return s;
    }

    @Override
    void add(float[] a, int from, int len, float v) {
      for (int i = from; i < from + len; i++) a[i] += v;
    }

    @Override
    void conv(float[] in, int[] off, int taps, float[] w, float[] bias, int cout, float[] acc, int accStride,
              int len) {
      for (int co = 0; co < cout; co++) {
        for (int p = 0; p < len; p++) {
          float a = bias[co];
          for (int t = 0; t < taps; t++) a = Math.fma(w[co * taps + t], in[off[t] + p], a);
          acc[co * accStride + p] = a;
        }
      }
    }

    @Override
    void addScaled(float[] out, int outFrom, float[] a, int aFrom, float[] b, int bFrom, float s, int len) {
      for (int i = 0; i < len; i++) out[outFrom + i] = Math.fma(b[bFrom + i], s, a[aFrom + i]);
    }

    @Override
    void axpy(float[] y, int yFrom, float a, float[] x, int xFrom, int len) {
      for (int i = 0; i < len; i++) y[yFrom + i] = Math.fma(a, x[xFrom + i], y[yFrom + i]);
    }

    @Override
    void affine(float[] a, int from, int len, float scale, float shift, boolean silu) {
      for (int i = from; i < from + len; i++) {
        float y = Math.fma(a[i], scale, shift);
        a[i] = silu ? y / (1f + exp(-y)) : y;
      }
    }
  }
}
