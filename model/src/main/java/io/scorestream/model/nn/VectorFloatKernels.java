package io.scorestream.model.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatKernels} in the Vector API's preferred float species (16 lanes under AVX-512, 8 under AVX2); loaded by
 * name only when {@code jdk.incubator.vector} is resolved. Sums accumulate in float lanes over blocks of
 * {@link #BLOCK} vectors, and each block's lanes are added in lane order in double (not reduceLanes, whose order
 * differs between the interpreter and compiled code); exp is {@link FloatKernels#exp} lane-wise.
 */
final class VectorFloatKernels extends FloatKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  private static final int BLOCK = 64;

  /** The lanes of v added in lane order, in double. */
  private static double lanes(FloatVector v) {
    float[] l = LANES.get();
    v.intoArray(l, 0);
    double s = 0;
    for (float x : l) s += x;
    return s;
  }

  private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

  /** {@link FloatKernels#exp} in every lane. */
  private static FloatVector exp(FloatVector x) {
    x = x.max(EXP_MIN).min(EXP_MAX);
    FloatVector t = x.fma(LOG2E, ROUNDER);
    FloatVector n = t.sub(ROUNDER);
    FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
    r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
    FloatVector p = FloatVector.broadcast(S, P0).fma(r, FloatVector.broadcast(S, P1));
    p = p.fma(r, FloatVector.broadcast(S, P2));
    p = p.fma(r, FloatVector.broadcast(S, P3));
    p = p.fma(r, FloatVector.broadcast(S, P4));
    p = p.fma(r, FloatVector.broadcast(S, P5));
    FloatVector er = p.fma(r.mul(r), r.add(1f));
    IntVector bits = ((IntVector) t.reinterpretAsInts()).sub(ROUNDER_BITS - 127).lanewise(VectorOperators.LSHL, 23);
    return er.mul(bits.reinterpretAsFloats());
  }

  @Override
  double sum(float[] a, int from, int len) {
    int end = from + len;
    int bound = from + S.loopBound(len);
    double total = 0;
    int i = from;
    while (i < bound) {
      int stop = Math.min(bound, i + BLOCK * L);
      FloatVector acc = FloatVector.zero(S);
      for (; i < stop; i += L) acc = acc.add(FloatVector.fromArray(S, a, i));
      total += lanes(acc);
    }
    for (; i < end; i++) total += a[i];
    return total;
  }

  @Override
  double sumSquaredDeviations(float[] a, int from, int len, float mu) {
    int end = from + len;
    int bound = from + S.loopBound(len);
    FloatVector m = FloatVector.broadcast(S, mu);
    double total = 0;
    int i = from;
    while (i < bound) {
      int stop = Math.min(bound, i + BLOCK * L);
      FloatVector acc = FloatVector.zero(S);
      for (; i < stop; i += L) {
        FloatVector d = FloatVector.fromArray(S, a, i).sub(m);
        acc = d.fma(d, acc);
      }
      total += lanes(acc);
    }
    for (; i < end; i++) {
      float d = a[i] - mu;
      total += d * d;
    }
    return total;
  }

  @Override
  void add(float[] a, int from, int len, float v) {
    int end = from + len;
    int bound = from + S.loopBound(len);
    FloatVector b = FloatVector.broadcast(S, v);
    int i = from;
    for (; i < bound; i += L) FloatVector.fromArray(S, a, i).add(b).intoArray(a, i);
    for (; i < end; i++) a[i] += v;
  }

  /**
   * Eight output channels at a time over one vector of pixels (then four, then one): each input vector is loaded
   * once for eight fused multiply-adds into accumulators held in registers. Measured single-threaded on a 16 -> 16
   * 3x3 layer at 28 x 28: 95 GFLOP/s with four channels a block, 113 with eight, 108 with eight over two vectors
   * (sixteen accumulators spill). The taps are one flat
   * loop over their offsets (loops over ci, ky and kx carrying the accumulators kept C2 from holding them in
   * registers: 2.6 GFLOP/s, against 77 with one loop, single-threaded on a 16 -> 16 3x3 layer at 28 x 28).
   */
  @Override
  void conv(float[] in, int[] off, int taps, float[] w, float[] bias, int cout, float[] acc, int accStride,
            int len) {
    int co = 0;
    for (; co + 8 <= cout; co += 8) {
      int w0 = co * taps;
      for (int p = 0; p < len; p += L) {
        FloatVector a0 = FloatVector.broadcast(S, bias[co + 0]);
        FloatVector a1 = FloatVector.broadcast(S, bias[co + 1]);
        FloatVector a2 = FloatVector.broadcast(S, bias[co + 2]);
        FloatVector a3 = FloatVector.broadcast(S, bias[co + 3]);
        FloatVector a4 = FloatVector.broadcast(S, bias[co + 4]);
        FloatVector a5 = FloatVector.broadcast(S, bias[co + 5]);
        FloatVector a6 = FloatVector.broadcast(S, bias[co + 6]);
        FloatVector a7 = FloatVector.broadcast(S, bias[co + 7]);
        for (int t = 0; t < taps; t++) {
          FloatVector x = FloatVector.fromArray(S, in, p + off[t]);
          a0 = x.fma(FloatVector.broadcast(S, w[w0 + 0 * taps + t]), a0);
          a1 = x.fma(FloatVector.broadcast(S, w[w0 + 1 * taps + t]), a1);
          a2 = x.fma(FloatVector.broadcast(S, w[w0 + 2 * taps + t]), a2);
          a3 = x.fma(FloatVector.broadcast(S, w[w0 + 3 * taps + t]), a3);
          a4 = x.fma(FloatVector.broadcast(S, w[w0 + 4 * taps + t]), a4);
          a5 = x.fma(FloatVector.broadcast(S, w[w0 + 5 * taps + t]), a5);
          a6 = x.fma(FloatVector.broadcast(S, w[w0 + 6 * taps + t]), a6);
          a7 = x.fma(FloatVector.broadcast(S, w[w0 + 7 * taps + t]), a7);
        }
        a0.intoArray(acc, (co + 0) * accStride + p);
        a1.intoArray(acc, (co + 1) * accStride + p);
        a2.intoArray(acc, (co + 2) * accStride + p);
        a3.intoArray(acc, (co + 3) * accStride + p);
        a4.intoArray(acc, (co + 4) * accStride + p);
        a5.intoArray(acc, (co + 5) * accStride + p);
        a6.intoArray(acc, (co + 6) * accStride + p);
        a7.intoArray(acc, (co + 7) * accStride + p);
      }
    }
    for (; co + 4 <= cout; co += 4) {
      int w0 = co * taps;
      for (int p = 0; p < len; p += L) {
        FloatVector a0 = FloatVector.broadcast(S, bias[co]);
        FloatVector a1 = FloatVector.broadcast(S, bias[co + 1]);
        FloatVector a2 = FloatVector.broadcast(S, bias[co + 2]);
        FloatVector a3 = FloatVector.broadcast(S, bias[co + 3]);
        for (int t = 0; t < taps; t++) {
          FloatVector x = FloatVector.fromArray(S, in, p + off[t]);
          a0 = x.fma(FloatVector.broadcast(S, w[w0 + t]), a0);
          a1 = x.fma(FloatVector.broadcast(S, w[w0 + taps + t]), a1);
          a2 = x.fma(FloatVector.broadcast(S, w[w0 + 2 * taps + t]), a2);
          a3 = x.fma(FloatVector.broadcast(S, w[w0 + 3 * taps + t]), a3);
        }
        a0.intoArray(acc, co * accStride + p);
        a1.intoArray(acc, (co + 1) * accStride + p);
        a2.intoArray(acc, (co + 2) * accStride + p);
        a3.intoArray(acc, (co + 3) * accStride + p);
      }
    }
    for (; co < cout; co++) {
      int w0 = co * taps;
      for (int p = 0; p < len; p += L) {
        FloatVector a0 = FloatVector.broadcast(S, bias[co]);
        for (int t = 0; t < taps; t++) a0 = FloatVector.fromArray(S, in, p + off[t]).fma(FloatVector.broadcast(S, w[w0 + t]), a0);
        a0.intoArray(acc, co * accStride + p);
      }
    }
  }

  @Override
  void axpy(float[] y, int yFrom, float a, float[] x, int xFrom, int len) {
    FloatVector av = FloatVector.broadcast(S, a);
    int bound = S.loopBound(len);
    int i = 0;
    for (; i < bound; i += L) {
      av.fma(FloatVector.fromArray(S, x, xFrom + i), FloatVector.fromArray(S, y, yFrom + i)).intoArray(y, yFrom + i);
    }
    for (; i < len; i++) y[yFrom + i] = Math.fma(a, x[xFrom + i], y[yFrom + i]);
  }

  @Override
  void affine(float[] a, int from, int len, float scale, float shift, boolean silu) {
    int end = from + len;
    int bound = from + S.loopBound(len);
    FloatVector sc = FloatVector.broadcast(S, scale);
    FloatVector sh = FloatVector.broadcast(S, shift);
    FloatVector one = FloatVector.broadcast(S, 1f);
    int i = from;
    if (silu) {
      for (; i < bound; i += L) {
        FloatVector y = FloatVector.fromArray(S, a, i).fma(sc, sh);
        y.div(exp(y.neg()).add(one)).intoArray(a, i);
      }
    } else {
      for (; i < bound; i += L) FloatVector.fromArray(S, a, i).fma(sc, sh).intoArray(a, i);
    }
    for (; i < end; i++) {
      float y = Math.fma(a[i], scale, shift);
      a[i] = silu ? y / (1f + FloatKernels.exp(-y)) : y;
    }
  }
}
