package io.scorestream.model.noise;

import io.scorestream.model.score.HostArrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Counter-based noise: every number is a pure function of (seed, chain, step, substream, index), computed with
 * Philox4x32-10 (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3"). The noise a chain sees
 * therefore does not depend on its batch-mates, the batch size or the order of rows. Stateless and thread-safe.
 *
 * <p>Key = the 64-bit seed; counter = (block, substream, step, chain). One block yields four 32-bit uniforms,
 * turned into four standard normals by Box-Muller.
 */
public final class CounterNoise {
  private CounterNoise() {}

  /** Substreams: distinct draws within one step of one chain. */
  public static final int PRIOR = 0;
  public static final int PREDICTOR = 1;
  /** Corrector step k uses CORRECTOR + k. */
  public static final int CORRECTOR = 16;
  /** Hutchinson probe k uses PROBE + k. */
  public static final int PROBE = 1 << 20;
  /** The forward-noised known pixels of inpainting. */
  public static final int INPAINT = 1 << 22;
  /** Training draws (time, noise, projections) use TRAIN + k. */
  public static final int TRAIN = 1 << 24;

  private static final int M0 = 0xD2511F53;
  private static final int M1 = 0xCD9E8D57;
  private static final int W0 = 0x9E3779B9;
  private static final int W1 = 0xBB67AE85;
  private static final double TWO_PI = 2 * Math.PI;
  private static final double INV_2_32 = 1.0 / 4294967296.0;

  /** Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1); writes four words into out. */
  static void philox(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
    for (int r = 0; r < 10; r++) {
      long p0 = (M0 & 0xffffffffL) * (c0 & 0xffffffffL);
      long p1 = (M1 & 0xffffffffL) * (c2 & 0xffffffffL);
      int hi0 = (int) (p0 >>> 32);
      int lo0 = (int) p0;
      int hi1 = (int) (p1 >>> 32);
      int lo1 = (int) p1;
      c0 = hi1 ^ c1 ^ k0;
      c1 = lo1;
      c2 = hi0 ^ c3 ^ k1;
      c3 = lo0;
      k0 += W0;
      k1 += W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
  }

  /** A uniform in the open interval (0, 1) from a 32-bit word. */
  static double uniform(int word) {
    return ((word & 0xffffffffL) + 0.5) * INV_2_32;
  }

  /** Fills out[offset .. offset + n) with standard normals of (seed, chain, step, substream). */
  public static void normals(long seed, long chain, long step, int substream, double[] out, int offset, int n) {
    int[] w = new int[4];
    int k0 = (int) seed;
    int k1 = (int) (seed >>> 32);
    for (int block = 0; block * 4 < n; block++) {
      philox(block, substream, (int) step, (int) chain ^ (int) (chain >>> 32) * 0x27d4eb2d, k0, k1, w);
      for (int pair = 0; pair < 2; pair++) {
        double r = Math.sqrt(-2 * Math.log(uniform(w[2 * pair])));
        double theta = TWO_PI * uniform(w[2 * pair + 1]);
        int i = block * 4 + 2 * pair;
        if (i < n) out[offset + i] = r * Math.cos(theta);
        if (i + 1 < n) out[offset + i + 1] = r * Math.sin(theta);
      }
    }
  }

  /** Fills out[offset .. offset + n) with uniforms in (0, 1) of (seed, chain, step, substream). */
  public static void uniforms(long seed, long chain, long step, int substream, double[] out, int offset, int n) {
    int[] w = new int[4];
    int k0 = (int) seed;
    int k1 = (int) (seed >>> 32);
    for (int block = 0; block * 4 < n; block++) {
      philox(block, substream, (int) step, (int) chain ^ (int) (chain >>> 32) * 0x27d4eb2d, k0, k1, w);
      for (int j = 0; j < 4 && block * 4 + j < n; j++) {
        out[offset + block * 4 + j] = uniform(w[j]);
      }
    }
  }

  /** A [B, dim] array of standard normals; row i is keyed by (keys.seed(i), keys.chain(i), steps[i], substream). */
  public static INDArray normal(RowKeys keys, long[] steps, int substream, int dim, DataType type) {
    int b = keys.size();
    double[] buf = new double[b * dim];
    for (int i = 0; i < b; i++) {
      normals(keys.seed(i), keys.chain(i), steps[i], substream, buf, i * dim, dim);
    }
    return HostArrays.matrix(buf, b, dim, type);
  }

  /** Like {@link #normal(RowKeys, long[], int, int, DataType)} with one step index for every row. */
  public static INDArray normal(RowKeys keys, long step, int substream, int dim, DataType type) {
    long[] steps = new long[keys.size()];
    java.util.Arrays.fill(steps, step);
    return normal(keys, steps, substream, dim, type);
  }

  /** A [B, dim] array of Rademacher signs (+1 or -1 with equal probability). */
  public static INDArray rademacher(RowKeys keys, long step, int substream, int dim, DataType type) {
    int b = keys.size();
    double[] buf = new double[b * dim];
    for (int i = 0; i < b; i++) {
      uniforms(keys.seed(i), keys.chain(i), step, substream, buf, i * dim, dim);
    }
    for (int i = 0; i < buf.length; i++) buf[i] = buf[i] < 0.5 ? -1.0 : 1.0;
    return HostArrays.matrix(buf, b, dim, type);
  }

  /** A [B] array of uniforms in (0, 1), one per row. */
  public static double[] uniformPerRow(RowKeys keys, long step, int substream) {
    int b = keys.size();
    double[] buf = new double[b];
    double[] one = new double[1];
    for (int i = 0; i < b; i++) {
      uniforms(keys.seed(i), keys.chain(i), step, substream, one, 0, 1);
      buf[i] = one[0];
    }
    return buf;
  }
}
