package io.scorestream.model.score;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.MlpGraph;
import io.scorestream.model.train.Objective;
import io.scorestream.model.train.TrainingGraph;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The shape of the reference score network for vectors: input [x, Gaussian Fourier features of the noise
 * condition] (Tancik et al. 2020; Song et al. 2021, appendix H), {@code depth} hidden layers of {@code width} with
 * SiLU, and a linear output of width D. Its training graph is {@link MlpGraph}, its inference path
 * {@link MlpScoreModel}.
 *
 * @param dim            data dimension D
 * @param width          hidden width (default 256)
 * @param depth          number of hidden layers (default 3)
 * @param fourierHalf    number of random frequencies; the embedding has 2 x fourierHalf features (sin, cos)
 * @param fourierScale   standard deviation of the random frequencies (default 16)
 */
public record MlpConfig(int dim, int width, int depth, int fourierHalf, double fourierScale) implements NetworkConfig {

  public MlpConfig {
    if (dim < 1) throw new IllegalArgumentException("dim must be >= 1, got " + dim);
    if (width < 1) throw new IllegalArgumentException("width must be >= 1, got " + width);
    if (depth < 1) throw new IllegalArgumentException("depth must be >= 1, got " + depth);
    if (fourierHalf < 1) throw new IllegalArgumentException("fourier features must be >= 1, got " + fourierHalf);
    if (!(fourierScale > 0)) throw new IllegalArgumentException("fourier scale must be > 0, got " + fourierScale);
  }

  /** The reference network: 3 x 256 SiLU, 32 + 32 Fourier features at scale 16. */
  public static MlpConfig reference(int dim) {
    return new MlpConfig(dim, 256, 3, 32, 16.0);
  }

  public int inputWidth() {
    return dim + 2 * fourierHalf;
  }

  /** Multiply-adds x 2 of one forward pass for one row (the GEMMs; activations not counted). */
  public long flopsPerRow() {
    long f = 2L * inputWidth() * width + 2L * (depth - 1) * width * width + 2L * width * dim;
    f += 2L * fourierHalf;
    return f;
  }

  /** Names of the layer weights, in order: w0, b0, ..., w_out, b_out. */
  public String weightName(int layer) { return "w" + layer; }

  public String biasName(int layer) { return "b" + layer; }

  public static final String FOURIER = "fourier_W";
  public static final String OUT_W = "w_out";
  public static final String OUT_B = "b_out";

  @Override public String kind() { return "mlp"; }

  @Override public long[] shape() { return new long[] {dim}; }

  @Override public int dim() { return dim; }

  @Override
  public LinkedHashMap<String, long[]> parameterShapes() {
    LinkedHashMap<String, long[]> s = new LinkedHashMap<>();
    s.put(FOURIER, new long[] {1, fourierHalf});
    for (int l = 0; l < depth; l++) {
      s.put(weightName(l), new long[] {l == 0 ? inputWidth() : width, width});
      s.put(biasName(l), new long[] {1, width});
    }
    s.put(OUT_W, new long[] {width, dim});
    s.put(OUT_B, new long[] {1, dim});
    return s;
  }

  @Override public Set<String> frozen() { return Set.of(FOURIER); }

  /**
   * Fresh weights: Fourier frequencies ~ N(0, scale^2); layers ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as in PyTorch's
   * default; the output layer scaled by 0.1 so training starts near s = 0. Deterministic in the seed.
   */
  @Override
  public NetworkWeights initialize(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    Map<String, INDArray> p = new LinkedHashMap<>();
    double[] f = new double[fourierHalf];
    for (int i = 0; i < f.length; i++) {
      double u1 = 1.0 - rng.nextDouble();
      double u2 = rng.nextDouble();
      f[i] = fourierScale * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
    p.put(FOURIER, Nd4j.createFromArray(f).castTo(DataType.FLOAT).reshape(1, fourierHalf));
    for (int l = 0; l < depth; l++) {
      int in = l == 0 ? inputWidth() : width;
      p.put(weightName(l), uniform(rng, in, width, 1.0 / Math.sqrt(in)));
      p.put(biasName(l), uniform(rng, 1, width, 1.0 / Math.sqrt(in)));
    }
    p.put(OUT_W, uniform(rng, width, dim, 0.1 / Math.sqrt(width)));
    p.put(OUT_B, Nd4j.zeros(DataType.FLOAT, 1, dim));
    return new NetworkWeights(this, p);
  }

  private static INDArray uniform(SplittableRandom rng, int rows, int cols, double bound) {
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
    return Nd4j.createFromArray(v).reshape(rows, cols);
  }

  @Override
  public TrainingGraph trainingGraph(NetworkWeights init, Objective objective, boolean varianceReduced) {
    return new MlpGraph(init, objective, varianceReduced);
  }

  @Override
  public ScoreModel scoreModel(NetworkWeights weights, Sde sde, boolean owning) {
    return owning ? MlpScoreModel.owning(weights, sde) : new MlpScoreModel(weights, sde);
  }

  @Override public String describe() { return "mlp(" + width + "x" + depth + ")"; }

  @Override
  public ObjectNode toJson(ObjectNode net) {
    net.put("kind", kind());
    net.put("dim", dim);
    net.put("width", width);
    net.put("depth", depth);
    net.put("fourierHalf", fourierHalf);
    net.put("fourierScale", fourierScale);
    return net;
  }

  /** Reads the fields {@link #toJson} writes. */
  public static MlpConfig fromJson(JsonNode net) {
    return new MlpConfig(NetworkConfig.requireInt(net, "dim"), NetworkConfig.requireInt(net, "width"),
        NetworkConfig.requireInt(net, "depth"), NetworkConfig.requireInt(net, "fourierHalf"),
        NetworkConfig.requireDouble(net, "fourierScale"));
  }
}
