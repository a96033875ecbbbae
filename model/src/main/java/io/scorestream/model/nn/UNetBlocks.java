package io.scorestream.model.nn;

import java.util.SplittableRandom;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The building blocks of the U-Net score network (issue 11) as SameDiff subgraphs over NCHW activations:
 * <ul>
 *   <li>{@link #fourierEmbedding}: the Gaussian Fourier features of the noise condition, [sin 2 pi W c, cos 2 pi W c]
 *       with fixed W ~ N(0, scale^2) (Tancik et al. 2020; Song et al. 2021, NCSN++);</li>
 *   <li>{@link #resBlock}: the DDPM / NCSN++ residual block, h = conv(SiLU(GN(x))) + Dense(emb),
 *       h = conv(SiLU(GN(h))), out = h + skip(x) with a 1 x 1 convolution when the channels change;</li>
 *   <li>{@link #attention}: DDPM's self-attention block over the H W positions, x + proj(V softmax(K^T Q / sqrt C))
 *       with Q, K, V 1 x 1 convolutions of GN(x), for the lowest resolution.</li>
 * </ul>
 * Parameters are variables named under the block's name, initialised from a seed (He-normal convolutions, the
 * second one scaled by 0.1 so that a fresh block is close to its skip path). Not thread-safe (a SameDiff graph).
 */
public final class UNetBlocks {
  private UNetBlocks() {}

  /** SiLU(x) = x sigma(x). */
  public static SDVariable silu(SameDiff sd, SDVariable x) {
    return x.mul(sd.nn().sigmoid(x));
  }

  /**
   * Gaussian Fourier features of cond [B, 1]: [B, 2 k] = [sin(2 pi cond W), cos(2 pi cond W)], W [1, k] a constant
   * drawn from N(0, scale^2) with the seed (not trained).
   */
  public static SDVariable fourierEmbedding(SameDiff sd, String name, SDVariable cond, int k, double scale, long seed) {
    if (k < 1) throw new IllegalArgumentException("need k >= 1 Fourier frequencies, got " + k);
    SplittableRandom rng = new SplittableRandom(seed);
    double[] w = new double[k];
    for (int i = 0; i < k; i++) w[i] = 2 * Math.PI * scale * gaussian(rng);
    SDVariable freq = sd.constant(name + "/w", Nd4j.createFromArray(w).reshape(1, k).castTo(cond.dataType()));
    SDVariable angle = cond.mmul(freq);
    return sd.concat(1, sd.math().sin(angle), sd.math().cos(angle));
  }

  /** A 3 x 3 (or k x k) convolution with SAME padding, weights [k, k, in, out] and bias [out]. */
  public static SDVariable conv(SameDiff sd, String name, SDVariable x, int in, int out, int k, double gain,
                                long seed, DataType type) {
    return conv(sd, name, x, in, out, k, 1, gain, seed, type);
  }

  /** A k x k convolution with the given stride (2 halves H and W) and SAME padding. */
  public static SDVariable conv(SameDiff sd, String name, SDVariable x, int in, int out, int k, int stride,
                                double gain, long seed, DataType type) {
    double std = gain * Math.sqrt(2.0 / (in * k * k));
    SDVariable w = sd.var(name + "/w", normal(type, std, seed, k, k, in, out));
    SDVariable b = sd.var(name + "/b", Nd4j.zeros(type, out));
    Conv2DConfig c = Conv2DConfig.builder().kH(k).kW(k).sH(stride).sW(stride).paddingMode(PaddingMode.SAME)
        .dataFormat("NCHW").build();
    return sd.cnn().conv2d(x, w, b, c);
  }

  /**
   * The residual block of x [B, in, H, W] conditioned on emb [B, embDim]: [B, out, H, W].
   *
   * @param groups the group norm's groups (in and out must be multiples of it)
   */
  public static SDVariable resBlock(SameDiff sd, String name, SDVariable x, int in, int out, SDVariable emb,
                                    int embDim, int groups, long seed) {
    DataType type = x.dataType();
    SDVariable h = conv(sd, name + "/conv1", silu(sd, GroupNorm.build(sd, name + "/gn1", x, in, groups)), in, out, 3,
        1.0, seed, type);
    SDVariable dw = sd.var(name + "/emb/w", normal(type, Math.sqrt(1.0 / embDim), seed + 1, embDim, out));
    SDVariable db = sd.var(name + "/emb/b", Nd4j.zeros(type, 1, out));
    h = h.add(silu(sd, emb).mmul(dw).add(db).reshape(-1, out, 1, 1));
    h = conv(sd, name + "/conv2", silu(sd, GroupNorm.build(sd, name + "/gn2", h, out, groups)), out, out, 3, 0.1,
        seed + 2, type);
    SDVariable skip = in == out ? x : conv(sd, name + "/skip", x, in, out, 1, 1.0, seed + 3, type);
    return h.add(skip);
  }

  /**
   * Self-attention of x [B, C, H, W] over its H W positions (Ho et al. 2020's AttnBlock; Vaswani et al. 2017):
   * h = GN(x); q, k, v = 1 x 1 convolutions of h, as [B, C, HW]; a = softmax over keys of k^T q / sqrt(C),
   * [B, HW(keys), HW(queries)]; out = x + proj(v a), proj a 1 x 1 convolution at gain 0.1.
   */
  public static SDVariable attention(SameDiff sd, String name, SDVariable x, int channels, int height, int width,
                                     int groups, long seed) {
    DataType type = x.dataType();
    SDVariable h = GroupNorm.build(sd, name + "/gn", x, channels, groups);
    int hw = height * width;
    SDVariable q = conv(sd, name + "/q", h, channels, channels, 1, 1.0, seed, type).reshape(-1, channels, hw);
    SDVariable k = conv(sd, name + "/k", h, channels, channels, 1, 1.0, seed + 1, type).reshape(-1, channels, hw);
    SDVariable v = conv(sd, name + "/v", h, channels, channels, 1, 1.0, seed + 2, type).reshape(-1, channels, hw);
    // logits[b, j, i] = k_j . q_i / sqrt(C): keys along dimension 1, normalised by the softmax over it.
    SDVariable logits = sd.mmul(k, q, true, false, false).div(Math.sqrt(channels));
    SDVariable a = sd.nn().softmax(logits, 1);
    SDVariable out = sd.mmul(v, a, false, false, false).reshape(-1, channels, height, width);
    return x.add(conv(sd, name + "/proj", out, channels, channels, 1, 0.1, seed + 3, type));
  }

  /** Values ~ N(0, std^2) of the given shape, deterministic in the seed (the blocks' initialiser). */
  static INDArray normal(DataType type, double std, long seed, long... shape) {
    SplittableRandom rng = new SplittableRandom(seed);
    long n = 1;
    for (long s : shape) n *= s;
    double[] v = new double[(int) n];
    for (int i = 0; i < v.length; i++) v[i] = std * gaussian(rng);
    return Nd4j.createFromArray(v).reshape(shape).castTo(type);
  }

  private static double gaussian(SplittableRandom rng) {
    double u = 1 - rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
  }
}
