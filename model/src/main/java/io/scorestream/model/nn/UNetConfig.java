package io.scorestream.model.nn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scorestream.model.score.NetworkConfig;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.Objective;
import io.scorestream.model.train.TrainingGraph;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The architecture of the toy U-Net score network for C x H x W images ({@link UNetGraph} builds it): base channels
 * at full resolution, 2 x base at half, group norm with {@code groups} groups, optional self-attention at the half
 * resolution, and an optional class embedding over {@code classes} labels plus the null label (a learned row of the
 * embedding, used for unconditional scores and classifier-free guidance).
 *
 * @param channels  C
 * @param height    H (even)
 * @param width     W (even)
 * @param base      channels of the full-resolution blocks (a multiple of groups)
 * @param groups    group-norm groups
 * @param attention self-attention after the middle block
 * @param classes   number of class labels (0: unconditional)
 */
public record UNetConfig(int channels, int height, int width, int base, int groups, boolean attention, int classes)
    implements NetworkConfig {

  /** The Fourier frequencies' name (a constant of the graph, never trained). */
  public static final String FOURIER = "temb/fourier/w";
  private static final Map<UNetConfig, LinkedHashMap<String, long[]>> SHAPES = new ConcurrentHashMap<>();

  public UNetConfig {
    if (channels < 1) throw new IllegalArgumentException("channels must be >= 1, got " + channels);
    if (height < 2 || width < 2 || height % 2 != 0 || width % 2 != 0) {
      throw new IllegalArgumentException("H and W must be even and >= 2, got " + height + " x " + width);
    }
    if (groups < 1 || base < groups || base % groups != 0) {
      throw new IllegalArgumentException("base channels " + base + " must be a positive multiple of " + groups
          + " groups");
    }
    if (base % 2 != 0) throw new IllegalArgumentException("base channels must be even, got " + base);
    if (classes < 0) throw new IllegalArgumentException("classes must be >= 0, got " + classes);
  }

  /** The MNIST network of the README and BENCHMARKS: 1 x 28 x 28, base 16, 4 groups, no attention, 10 classes. */
  public static UNetConfig mnist(boolean conditional) {
    return new UNetConfig(1, 28, 28, 16, 4, false, conditional ? 10 : 0);
  }

  @Override public String kind() { return "unet"; }

  @Override public long[] shape() { return new long[] {channels, height, width}; }

  @Override
  public LinkedHashMap<String, long[]> parameterShapes() {
    return new LinkedHashMap<>(SHAPES.computeIfAbsent(this, c -> {
      try (UNetGraph g = UNetGraph.build(c, 0)) {
        LinkedHashMap<String, long[]> s = new LinkedHashMap<>();
        g.parameterArrays().forEach((name, a) -> s.put(name, a.shape()));
        return s;
      }
    }));
  }

  @Override public Set<String> frozen() { return Set.of(FOURIER); }

  /**
   * Fresh parameters: He-normal convolutions (each block's second at gain 0.1, the head at 0.1), uniform dense
   * layers, zero biases, Fourier frequencies ~ N(0, 16^2), class embedding ~ N(0, 1); deterministic in the seed.
   */
  @Override
  public NetworkWeights initialize(long seed) {
    try (UNetGraph g = UNetGraph.build(this, seed)) {
      Map<String, INDArray> p = new LinkedHashMap<>();
      g.parameterArrays().forEach((name, a) -> p.put(name, a.dup()));
      return new NetworkWeights(this, p);
    }
  }

  @Override
  public TrainingGraph trainingGraph(NetworkWeights init, Objective objective, boolean varianceReduced) {
    switch (objective) {
      case DSM, SMLD, DDPM -> { }
      default -> throw new IllegalArgumentException("the U-Net trains with the regression losses (dsm, smld, ddpm); "
          + objective.name().toLowerCase(java.util.Locale.ROOT) + " needs Jacobian-vector products through the "
          + "network, which only the MLP builds");
    }
    UNetGraph g = UNetGraph.build(this, 0);
    g.load(init);
    g.createGradients();
    return g;
  }

  @Override
  public ScoreModel scoreModel(NetworkWeights weights, Sde sde, boolean owning) {
    return new UNetScoreModel(weights, sde, owning);
  }

  @Override
  public String describe() {
    return "unet(" + channels + "x" + height + "x" + width + ", base " + base + (attention ? ", attention" : "")
        + (classes > 0 ? ", " + classes + " classes" : "") + ")";
  }

  @Override
  public ObjectNode toJson(ObjectNode net) {
    net.put("kind", kind());
    net.put("channels", channels);
    net.put("height", height);
    net.put("width", width);
    net.put("base", base);
    net.put("groups", groups);
    net.put("attention", attention);
    net.put("classes", classes);
    return net;
  }

  /** Reads the fields {@link #toJson} writes. */
  public static UNetConfig fromJson(JsonNode net) {
    JsonNode attn = net.get("attention");
    if (attn == null || !attn.isBoolean()) throw new IllegalArgumentException("network.attention missing or not a boolean");
    return new UNetConfig(NetworkConfig.requireInt(net, "channels"), NetworkConfig.requireInt(net, "height"),
        NetworkConfig.requireInt(net, "width"), NetworkConfig.requireInt(net, "base"),
        NetworkConfig.requireInt(net, "groups"), attn.asBoolean(), NetworkConfig.requireInt(net, "classes"));
  }
}
