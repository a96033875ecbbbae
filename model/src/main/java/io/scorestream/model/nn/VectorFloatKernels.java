package io.scorestream.model.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatKernels} in the Vector API's preferred float species (16 lanes under AVX-512, 8 under AVX2); loaded by
 * name only when {@code jdk.incubator.vector} is resolved. Sums accumulate in float lanes over blocks of
 * {@link #BLOCK} vectors, and each block's lanes are added in lane order in double (not reduceLanes, whose order
 * differs between the interpreter and compiled code); exp is {@link FloatKernels#exp} lane-wise. No vector crosses a
 * method boundary: a helper taking or returning vectors is inlined or not depending on the order in which the JIT
 * compiled things, and when it is not, each vector is boxed (measured: group norm's statistics 4x slower when batch
 * 1 ran before batch 16, with the lane sums in a helper).
 */
final class VectorFloatKernels extends FloatKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  private static final int BLOCK = 64;

  @Override
  double sum(float[] a, int from, int len) {
    int end = from + len;
    int bound = from + S.loopBound(len);
    double total = 0;
    float[] lanes = new float[L];
    int i = from;
    while (i < bound) {
      int stop = Math.min(bound, i + BLOCK * L);
      FloatVector acc = FloatVector.zero(S);
      for (; i < stop; i += L) acc = acc.add(FloatVector.fromArray(S, a, i));
      acc.intoArray(lanes, 0);
      for (float x : lanes) total += x;
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
    float[] lanes = new float[L];
    int i = from;
    while (i < bound) {
      int stop = Math.min(bound, i + BLOCK * L);
      FloatVector acc = FloatVector.zero(S);
      for (; i < stop; i += L) {
        FloatVector d = FloatVector.fromArray(S, a, i).sub(m);
        acc = d.fma(d, acc);
      }
      acc.intoArray(lanes, 0);
      for (float x : lanes) total += x;
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
   * Four output channels at a time over two vectors of pixels (then one channel over two vectors): per tap, two
   * input loads and four weight broadcasts feed eight fused multiply-adds into accumulators held in registers.
   * Single-threaded on a 16 -> 16 3x3 layer at 28 x 28 on an AMD EPYC (AVX-512): 47.7 us with eight channels over
   * one vector (one input load and eight broadcasts per eight multiply-adds: the loads bound it), 38.2 us four over
   * two, 37.0 eight over two (sixteen accumulators, which AVX2's sixteen registers cannot hold), 38.0 four over
   * four; on an Intel Xeon four channels over one vector ran 95 GFLOP/s and eight over one 113. The taps are one
   * flat loop over their offsets (loops over ci, ky and kx carrying the accumulators kept C2 from holding them in
   * registers: 2.6 GFLOP/s, against 77 with one loop, single-threaded on a 16 -> 16 3x3 layer at 28 x 28).
   */
  @Override
  void conv(float[] in, int[] off, int taps, float[] w, float[] bias, int cout, float[] acc, int accStride,
            int len) {
    int co = 0;
    for (; co + 4 <= cout; co += 4) {
      int w0 = co * taps;
      int w1 = w0 + taps;
      int w2 = w1 + taps;
      int w3 = w2 + taps;
      for (int p = 0; p < len; p += 2 * L) {
        FloatVector a0 = FloatVector.broadcast(S, bias[co]);
        FloatVector a1 = FloatVector.broadcast(S, bias[co + 1]);
        FloatVector a2 = FloatVector.broadcast(S, bias[co + 2]);
        FloatVector a3 = FloatVector.broadcast(S, bias[co + 3]);
        FloatVector b0 = a0;
        FloatVector b1 = a1;
        FloatVector b2 = a2;
        FloatVector b3 = a3;
        for (int t = 0; t < taps; t++) {
          int at = p + off[t];
          FloatVector x = FloatVector.fromArray(S, in, at);
          FloatVector y = FloatVector.fromArray(S, in, at + L);
          FloatVector k0 = FloatVector.broadcast(S, w[w0 + t]);
          FloatVector k1 = FloatVector.broadcast(S, w[w1 + t]);
          FloatVector k2 = FloatVector.broadcast(S, w[w2 + t]);
          FloatVector k3 = FloatVector.broadcast(S, w[w3 + t]);
          a0 = x.fma(k0, a0);
          a1 = x.fma(k1, a1);
          a2 = x.fma(k2, a2);
          a3 = x.fma(k3, a3);
          b0 = y.fma(k0, b0);
          b1 = y.fma(k1, b1);
          b2 = y.fma(k2, b2);
          b3 = y.fma(k3, b3);
        }
        int o = co * accStride + p;
        a0.intoArray(acc, o);
        a1.intoArray(acc, o + accStride);
        a2.intoArray(acc, o + 2 * accStride);
        a3.intoArray(acc, o + 3 * accStride);
        b0.intoArray(acc, o + L);
        b1.intoArray(acc, o + accStride + L);
        b2.intoArray(acc, o + 2 * accStride + L);
        b3.intoArray(acc, o + 3 * accStride + L);
      }
    }
    for (; co < cout; co++) {
      int w0 = co * taps;
      for (int p = 0; p < len; p += 2 * L) {
        FloatVector a0 = FloatVector.broadcast(S, bias[co]);
        FloatVector b0 = a0;
        for (int t = 0; t < taps; t++) {
          int at = p + off[t];
          FloatVector k0 = FloatVector.broadcast(S, w[w0 + t]);
          a0 = FloatVector.fromArray(S, in, at).fma(k0, a0);
          b0 = FloatVector.fromArray(S, in, at + L).fma(k0, b0);
        }
        a0.intoArray(acc, co * accStride + p);
        b0.intoArray(acc, co * accStride + p + L);
      }
    }
  }

  @Override
  void addScaled(float[] out, int outFrom, float[] a, int aFrom, float[] b, int bFrom, float s, int len) {
    FloatVector sv = FloatVector.broadcast(S, s);
    int bound = S.loopBound(len);
    int i = 0;
    for (; i < bound; i += L) {
      FloatVector.fromArray(S, b, bFrom + i).fma(sv, FloatVector.fromArray(S, a, aFrom + i)).intoArray(out, outFrom + i);
    }
    for (; i < len; i++) out[outFrom + i] = Math.fma(b[bFrom + i], s, a[aFrom + i]);
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
      // exp(-y) is FloatKernels.exp lane-wise, written out here: a helper taking and returning vectors is inlined
      // or not as the JIT's order of compilation falls, and when not, every vector crosses it boxed.
      FloatVector lo = FloatVector.broadcast(S, EXP_MIN);
      FloatVector hi = FloatVector.broadcast(S, EXP_MAX);
      FloatVector log2e = FloatVector.broadcast(S, LOG2E);
      FloatVector rounder = FloatVector.broadcast(S, ROUNDER);
      FloatVector ln2Hi = FloatVector.broadcast(S, -LN2_HI);
      FloatVector ln2Lo = FloatVector.broadcast(S, -LN2_LO);
      FloatVector p0 = FloatVector.broadcast(S, P0);
      FloatVector p1 = FloatVector.broadcast(S, P1);
      FloatVector p2 = FloatVector.broadcast(S, P2);
      FloatVector p3 = FloatVector.broadcast(S, P3);
      FloatVector p4 = FloatVector.broadcast(S, P4);
      FloatVector p5 = FloatVector.broadcast(S, P5);
      for (; i < bound; i += L) {
        FloatVector y = FloatVector.fromArray(S, a, i).fma(sc, sh);
        FloatVector x = y.neg().max(lo).min(hi);
        FloatVector t = x.fma(log2e, rounder);
        FloatVector n = t.sub(rounder);
        FloatVector r = n.fma(ln2Hi, x);
        r = n.fma(ln2Lo, r);
        FloatVector p = p0.fma(r, p1);
        p = p.fma(r, p2);
        p = p.fma(r, p3);
        p = p.fma(r, p4);
        p = p.fma(r, p5);
        FloatVector er = p.fma(r.mul(r), r.add(one));
        IntVector bits = ((IntVector) t.reinterpretAsInts()).sub(ROUNDER_BITS - 127).lanewise(VectorOperators.LSHL, 23);
        FloatVector e = er.mul(bits.reinterpretAsFloats());
        y.div(e.add(one)).intoArray(a, i);
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
