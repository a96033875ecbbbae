package io.scorestream.model.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A small U-Net score network for C x H x W images (H and W even) and its denoising score matching loss, as a
 * SameDiff graph (Ronneberger et al. 2015; the DDPM / NCSN++ layout of Ho et al. 2020 and Song et al. 2021, at toy
 * width): Gaussian Fourier features of the noise condition through a two-layer MLP; a 3 x 3 stem; a residual block
 * at full resolution, a stride-2 convolution, a residual block at half resolution with twice the channels, a middle
 * block (optionally followed by self-attention over the half-resolution positions), nearest-neighbour upsampling, the full-resolution skip concatenated, a residual block and a 3 x 3 head;
 * the output times a per-row scale is the score (as the MLP's: 1 / sigma for VE, -1 / std for VP).
 *
 * <p>Placeholders: {@code x} [B, C, H, W], {@code cond} [B, 1], {@code scale} [B, 1], {@code z} [B, C, H, W] (the
 * noise that made x from x0) and {@code std} [B, 1]. The loss is DSM with lambda = std^2:
 * mean_b ||std s(x) + z||^2 / (C H W). Not yet wired to the trainer, checkpoints or samplers (issue 11's network
 * seam); owned by one thread.
 *
 * @param channels image channels C
 * @param height   H (even)
 * @param width    W (even)
 * @param base     channels of the full-resolution blocks (a multiple of groups)
 * @param groups   group norm groups
 */
public record UNetGraph(int channels, int height, int width, int base, int groups, SameDiff sd) {
  public static final String LOSS = "loss";
  public static final String SCORE = "score";

  /** Builds the graph, without attention, with parameters initialised from seed. */
  public static UNetGraph create(int channels, int height, int width, int base, int groups, long seed) {
    return create(channels, height, width, base, groups, false, seed);
  }

  /** Builds the graph with parameters initialised from seed; attention adds self-attention after the middle block. */
  public static UNetGraph create(int channels, int height, int width, int base, int groups, boolean attention,
                                 long seed) {
    if (height % 2 != 0 || width % 2 != 0) throw new IllegalArgumentException("H and W must be even, got " + height
        + " x " + width);
    if (base % groups != 0) throw new IllegalArgumentException("base channels " + base + " not a multiple of "
        + groups + " groups");
    DataType t = DataType.FLOAT;
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", t, -1, channels, height, width);
    SDVariable cond = sd.placeHolder("cond", t, -1, 1);
    SDVariable scale = sd.placeHolder("scale", t, -1, 1);
    SDVariable z = sd.placeHolder("z", t, -1, channels, height, width);
    SDVariable std = sd.placeHolder("std", t, -1, 1);
    int emb = 4 * base;
    SDVariable f = UNetBlocks.fourierEmbedding(sd, "temb/fourier", cond, base / 2, 16.0, seed);
    SDVariable e = dense(sd, "temb/d1", f, 2 * (base / 2), emb, seed + 1);
    e = dense(sd, "temb/d2", UNetBlocks.silu(sd, e), emb, emb, seed + 2);
    SDVariable h0 = UNetBlocks.conv(sd, "stem", x, channels, base, 3, 1.0, seed + 3, t);
    SDVariable h1 = UNetBlocks.resBlock(sd, "down1", h0, base, base, e, emb, groups, seed + 10);
    SDVariable d = UNetBlocks.conv(sd, "downsample", h1, base, base, 3, 2, 1.0, seed + 20, t);
    SDVariable h2 = UNetBlocks.resBlock(sd, "down2", d, base, 2 * base, e, emb, groups, seed + 30);
    SDVariable m = UNetBlocks.resBlock(sd, "mid", h2, 2 * base, 2 * base, e, emb, groups, seed + 40);
    if (attention) m = UNetBlocks.attention(sd, "mid/attn", m, 2 * base, height / 2, width / 2, groups, seed + 45);
    SDVariable u = sd.cnn().upsampling2d(m, 2, 2, true);
    SDVariable cat = sd.concat(1, u, h1);
    SDVariable h3 = UNetBlocks.resBlock(sd, "up1", cat, 3 * base, base, e, emb, groups, seed + 50);
    SDVariable out = UNetBlocks.conv(sd, "head", UNetBlocks.silu(sd, GroupNorm.build(sd, "head/gn", h3, base, groups)),
        base, channels, 3, 0.1, seed + 60, t);
    SDVariable score = out.mul(scale.reshape(-1, 1, 1, 1));
    score.rename(SCORE);
    SDVariable resid = score.mul(std.reshape(-1, 1, 1, 1)).add(z);
    resid.mul(resid).mean().rename(LOSS);
    sd.setLossVariables(LOSS);
    return new UNetGraph(channels, height, width, base, groups, sd);
  }

  private static SDVariable dense(SameDiff sd, String name, SDVariable x, int in, int out, long seed) {
    java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
    double[] w = new double[in * out];
    for (int i = 0; i < w.length; i++) w[i] = Math.sqrt(1.0 / in) * (rng.nextDouble() * 2 - 1) * Math.sqrt(3);
    SDVariable wv = sd.var(name + "/w", org.nd4j.linalg.factory.Nd4j.createFromArray(w).reshape(in, out)
        .castTo(x.dataType()));
    SDVariable b = sd.var(name + "/b", org.nd4j.linalg.factory.Nd4j.zeros(x.dataType(), 1, out));
    return x.mmul(wv).add(b);
  }

  /** The names of the trainable parameters. */
  public List<String> parameters() {
    List<String> out = new ArrayList<>();
    for (SDVariable v : sd.variables()) if (v.getVariableType() == VariableType.VARIABLE) out.add(v.name());
    return out;
  }

  /** The number of trainable weights. */
  public long parameterCount() {
    long n = 0;
    for (String p : parameters()) n += sd.getVariable(p).getArr().length();
    return n;
  }

  /** The loss of a batch. */
  public double loss(Map<String, INDArray> batch) {
    return sd.outputSingle(batch, LOSS).getDouble(0);
  }

  /** The gradients of the loss of a batch with respect to every parameter. */
  public Map<String, INDArray> gradients(Map<String, INDArray> batch) {
    return sd.calculateGradients(batch, parameters().toArray(String[]::new));
  }
}
