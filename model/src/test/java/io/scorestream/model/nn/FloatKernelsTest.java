package io.scorestream.model.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Vector API kernels against the plain loops, on lengths with and without a tail and at offsets: the affine map
 * and SiLU bit for bit, the sums within rounding; the shared exp against {@link Math#exp}.
 */
class FloatKernelsTest {
  private final FloatKernels scalar = new FloatKernels.Scalar();
  private final FloatKernels kernels = FloatKernels.INSTANCE;

  @Test
  void theTestJvmRunsTheVectorKernels() {
    // The parent pom's argLine resolves jdk.incubator.vector, as the launcher does: without it the U-Net's host
    // stages fall back to plain loops, which this catches.
    assertTrue(FloatKernels.vectorised(), "jdk.incubator.vector is not resolved: " + kernels.getClass());
  }

  @Test
  void vectorKernelsComputeThePlainLoopsFunctions() {
    Random rnd = new Random(7);
    for (int len : new int[] {0, 1, 7, 16, 17, 100, 784, 3136, 40_000}) {
      for (int from : new int[] {0, 3}) {
        float[] a = new float[from + len + 5];
        for (int i = 0; i < a.length; i++) a[i] = (float) (rnd.nextGaussian() * 4 + 1);
        double ref = scalar.sum(a, from, len);
        assertEquals(ref, kernels.sum(a, from, len), 1e-6 * (1 + Math.abs(ref)) + 1e-4 * Math.sqrt(len), "sum " + len);
        float mu = (float) (ref / Math.max(1, len));
        double sq = scalar.sumSquaredDeviations(a, from, len, mu);
        assertEquals(sq, kernels.sumSquaredDeviations(a, from, len, mu), 1e-5 * (1 + sq), "squares " + len);

        float[] x = a.clone();
        float[] y = a.clone();
        scalar.add(x, from, len, 0.25f);
        kernels.add(y, from, len, 0.25f);
        assertArrayEqualsWithin(x, y, 0, "add " + len);
        for (boolean silu : new boolean[] {false, true}) {
          x = a.clone();
          y = a.clone();
          scalar.affine(x, from, len, 1.5f, -0.75f, silu);
          kernels.affine(y, from, len, 1.5f, -0.75f, silu);
          assertArrayEqualsWithin(x, y, 0f, "affine " + len + " silu " + silu);
        }
        x = a.clone();
        y = a.clone();
        scalar.axpy(x, from, -0.3f, a, a.length - len, len);
        kernels.axpy(y, from, -0.3f, a, a.length - len, len);
        assertArrayEqualsWithin(x, y, 0f, "axpy " + len);
        // Untouched outside [from, from + len).
        for (int i = 0; i < from; i++) assertEquals(a[i], y[i]);
        for (int i = from + len; i < a.length; i++) assertEquals(a[i], y[i]);
        for (float sign : new float[] {1f, -1f}) {
          x = a.clone();
          y = a.clone();
          scalar.addScaled(x, from, a, a.length - len, a, 0, sign, len);
          kernels.addScaled(y, from, a, a.length - len, a, 0, sign, len);
          assertArrayEqualsWithin(x, y, 0f, "addScaled " + len);
          for (int i = 0; i < len; i++) {
            assertEquals(a[a.length - len + i] + sign * a[i], y[from + i], 0f, "a sum or difference, rounded once");
          }
        }
      }
    }
  }

  @Test
  void vectorConvolutionEqualsThePlainLoopBitForBit() {
    Random rnd = new Random(11);
    int pw = 9;
    int plane = 8 * pw;
    for (int k : new int[] {1, 3}) {
      for (int[] ch : new int[][] {{1, 16}, {3, 5}, {16, 1}, {4, 8}}) {
        int cin = ch[0];
        int cout = ch[1];
        int len = 6 * pw + 3;
        int stride = (len + FloatKernels.ROUND - 1) / FloatKernels.ROUND * FloatKernels.ROUND;
        float[] in = new float[cin * plane + 2 * pw + stride];
        float[] w = new float[cout * cin * k * k];
        float[] b = new float[cout];
        for (int i = 0; i < in.length; i++) in[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < cout; i++) b[i] = (float) rnd.nextGaussian();
        float[] want = new float[cout * stride];
        float[] got = new float[cout * stride];
        int taps = cin * k * k;
        int[] off = new int[taps];
        for (int ci = 0, t = 0; ci < cin; ci++) {
          for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) off[t++] = ci * plane + ky * pw + kx;
          }
        }
        scalar.conv(in, off, taps, w, b, cout, want, stride, len);
        kernels.conv(in, off, taps, w, b, cout, got, stride, len);
        for (int co = 0; co < cout; co++) {
          for (int p = 0; p < len; p++) {
            assertEquals(want[co * stride + p], got[co * stride + p], 0f, "k " + k + " " + cin + "->" + cout);
          }
        }
        // One output by hand.
        double ref = b[cout - 1];
        int p = 2 * pw + 1;
        for (int ci = 0; ci < cin; ci++) {
          for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
              ref += w[(((cout - 1) * cin + ci) * k + ky) * k + kx] * in[ci * plane + ky * pw + kx + p];
            }
          }
        }
        assertEquals(ref, got[(cout - 1) * stride + p], 1e-4, "the convolution's definition");
      }
    }
  }

  @Test
  void siluIsXTimesTheLogistic() {
    float[] v = {-100f, -3f, -0.5f, 0f, 0.5f, 3f, 100f, Float.NaN};
    kernels.silu(v, 0, v.length);
    float[] want = {-0f, -0.142278f, -0.188770f, 0f, 0.311230f, 2.857722f, 100f, Float.NaN};
    for (int i = 0; i < v.length; i++) assertEquals(want[i], v[i], 1e-5f, "silu at " + i);
  }

  @Test
  void expIsWithinTwoUlpOfMathExpAndClamped() {
    for (float x = -87f; x <= 88f; x += 0.0137f) {
      float want = (float) Math.exp(x);
      float got = FloatKernels.exp(x);
      assertTrue(Math.abs(got - want) <= 2 * Math.ulp(want), "exp(" + x + ") = " + got + ", Math.exp " + want);
    }
    assertEquals(FloatKernels.exp(88f), FloatKernels.exp(1000f));
    assertEquals(FloatKernels.exp(-87f), FloatKernels.exp(-1000f));
    assertTrue(Float.isNaN(FloatKernels.exp(Float.NaN)));
  }

  private static void assertArrayEqualsWithin(float[] want, float[] got, float relTol, String what) {
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], relTol * (1 + Math.abs(want[i])), what + " at " + i);
    }
  }
}
