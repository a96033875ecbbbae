package io.scorestream.model.nn;

import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.train.TrainingGraph;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The toy U-Net score network of a {@link UNetConfig} and its denoising score matching loss as a SameDiff graph
 * (Ronneberger et al. 2015; the DDPM / NCSN++ layout of Ho et al. 2020 and Song et al. 2021, at toy width): Gaussian
 * Fourier features of the noise condition through a two-layer MLP, plus a class embedding for conditional networks;
 * a 3 x 3 stem; a residual block at full resolution, a stride-2 convolution, a residual block at half resolution with
 * twice the channels, a middle block (optionally followed by self-attention), nearest-neighbour upsampling, the
 * full-resolution skip concatenated, a residual block and a GN-SiLU-conv head. The output times a per-row scale is
 * the score (1 / sigma for VE, -1 / std for VP, as the MLP's).
 *
 * <p>Placeholders as {@link TrainingGraph} says (x flat, reshaped to [B, C, H, W] inside); {@code label} [B, K + 1]
 * one-hot when the network is conditional. The loss is mean_b weight_b (1/2) mean_d (s - target)^2: per pixel, so
 * that its value reads the same at any image size (DSM with weight std^2 is (1/2) mean ||std s + z||^2 / D).
 * Owned by one thread.
 */
public final class UNetGraph implements TrainingGraph {
  private final UNetConfig config;
  private final SameDiff sd;

  private UNetGraph(UNetConfig config, SameDiff sd) {
    this.config = config;
    this.sd = sd;
  }

  public UNetConfig config() { return config; }

  @Override public SameDiff sameDiff() { return sd; }

  /** Builds the graph with parameters initialised from seed (no gradient function yet). */
  public static UNetGraph build(UNetConfig c, long seed) {
    DataType t = DataType.FLOAT;
    int d = c.dim();
    int base = c.base();
    int groups = c.groups();
    SameDiff sd = SameDiff.create();
    SDVariable xFlat = sd.placeHolder("x", t, -1, d);
    SDVariable cond = sd.placeHolder("cond", t, -1, 1);
    SDVariable scale = sd.placeHolder("scale", t, -1, 1);
    SDVariable weight = sd.placeHolder("weight", t, -1, 1);
    SDVariable target = sd.placeHolder("target", t, -1, d);
    SDVariable x = xFlat.reshape(-1, c.channels(), c.height(), c.width());
    int emb = 4 * base;
    SDVariable f = UNetBlocks.fourierEmbedding(sd, "temb/fourier", cond, base / 2, 16.0, seed);
    SDVariable e = dense(sd, "temb/d1", f, 2 * (base / 2), emb, seed + 1);
    e = dense(sd, "temb/d2", UNetBlocks.silu(sd, e), emb, emb, seed + 2);
    if (c.classes() > 0) {
      SDVariable label = sd.placeHolder("label", t, -1, c.classes() + 1);
      SDVariable table = sd.var("cemb/w", UNetBlocks.normal(t, 1.0, seed + 5, c.classes() + 1, emb));
      e = e.add(label.mmul(table));
    }
    SDVariable h0 = UNetBlocks.conv(sd, "stem", x, c.channels(), base, 3, 1.0, seed + 3, t);
    SDVariable h1 = UNetBlocks.resBlock(sd, "down1", h0, base, base, e, emb, groups, seed + 10);
    SDVariable dn = UNetBlocks.conv(sd, "downsample", h1, base, base, 3, 2, 1.0, seed + 20, t);
    SDVariable h2 = UNetBlocks.resBlock(sd, "down2", dn, base, 2 * base, e, emb, groups, seed + 30);
    SDVariable m = UNetBlocks.resBlock(sd, "mid", h2, 2 * base, 2 * base, e, emb, groups, seed + 40);
    if (c.attention()) {
      m = UNetBlocks.attention(sd, "mid/attn", m, 2 * base, c.height() / 2, c.width() / 2, groups, seed + 45);
    }
    SDVariable u = sd.cnn().upsampling2d(m, 2, 2, true);
    SDVariable cat = sd.concat(1, u, h1);
    SDVariable h3 = UNetBlocks.resBlock(sd, "up1", cat, 3 * base, base, e, emb, groups, seed + 50);
    SDVariable out = UNetBlocks.conv(sd, "head", UNetBlocks.silu(sd, GroupNorm.build(sd, "head/gn", h3, base, groups)),
        base, c.channels(), 3, 0.1, seed + 60, t);
    SDVariable score = out.reshape(-1, d).mul(scale);
    score.rename(SCORE);
    SDVariable diff = score.sub(target);
    SDVariable perRow = diff.mul(diff).mean(true, 1).mul(0.5);
    sd.identity(LOSS, perRow.mul(weight).mean());
    sd.setLossVariables(LOSS);
    return new UNetGraph(c, sd);
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

  /** The trainable parameters and the Fourier frequencies, by name, in graph order (the graph's own arrays). */
  Map<String, INDArray> parameterArrays() {
    Map<String, INDArray> p = new LinkedHashMap<>();
    p.put(UNetConfig.FOURIER, sd.getVariable(UNetConfig.FOURIER).getArr());
    for (SDVariable v : sd.variables()) {
      if (v.getVariableType() == VariableType.VARIABLE) p.put(v.name(), v.getArr());
    }
    return p;
  }

  /** Copies w's values into the graph's parameters and frequencies. */
  void load(NetworkWeights w) {
    if (!w.config().equals(config)) {
      throw new IllegalArgumentException("weights of " + w.config().describe() + " for " + config.describe());
    }
    parameterArrays().forEach((name, a) -> a.assign(w.get(name)));
  }

  /** Builds the backward graph (quietly; see {@link TrainingGraph#createGradientsQuietly}). */
  void createGradients() {
    TrainingGraph.createGradientsQuietly(sd);
  }

  @Override
  public INDArray param(String name) {
    return sd.getVariable(name).getArr();
  }

  @Override
  public Set<String> placeholders() {
    return config.classes() > 0 ? Set.of("x", "cond", "scale", "weight", "target", "label")
        : Set.of("x", "cond", "scale", "weight", "target");
  }

  /** The names of the trainable parameters. */
  public List<String> parameters() {
    return config.trainableNames();
  }

  /** The number of trainable weights. */
  public long parameterCount() {
    long n = 0;
    for (String p : parameters()) n += sd.getVariable(p).getArr().length();
    return n;
  }

  @Override
  public void close() {
    TrainingGraph.closeArrays(sd);
  }
}
