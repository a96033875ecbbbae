package io.scorestream.model.score;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The parameters of the reference MLP by name (see {@link MlpConfig} for the names). The Fourier frequencies are
 * fixed at initialisation and never trained. A value object: {@link #copy()} before handing it to another thread;
 * holders never mutate arrays they did not create.
 */
public final class MlpWeights {
  private final MlpConfig config;
  private final LinkedHashMap<String, INDArray> params;

  public MlpWeights(MlpConfig config, Map<String, INDArray> params) {
    this.config = config;
    this.params = new LinkedHashMap<>(params);
    for (String name : names(config)) {
      if (!this.params.containsKey(name)) throw new IllegalArgumentException("missing parameter " + name);
    }
    checkShape(FOURIER_SHAPE(config), MlpConfig.FOURIER);
    for (int l = 0; l < config.depth(); l++) {
      long in = l == 0 ? config.inputWidth() : config.width();
      checkShape(new long[] {in, config.width()}, config.weightName(l));
      checkShape(new long[] {1, config.width()}, config.biasName(l));
    }
    checkShape(new long[] {config.width(), config.dim()}, MlpConfig.OUT_W);
    checkShape(new long[] {1, config.dim()}, MlpConfig.OUT_B);
  }

  private static long[] FOURIER_SHAPE(MlpConfig c) {
    return new long[] {1, c.fourierHalf()};
  }

  private void checkShape(long[] expected, String name) {
    long[] got = params.get(name).shape();
    if (!java.util.Arrays.equals(expected, got)) {
      throw new IllegalArgumentException("parameter " + name + " has shape " + java.util.Arrays.toString(got)
          + ", expected " + java.util.Arrays.toString(expected));
    }
  }

  /** All parameter names in order, the Fourier frequencies first. */
  public static java.util.List<String> names(MlpConfig c) {
    java.util.List<String> n = new java.util.ArrayList<>();
    n.add(MlpConfig.FOURIER);
    for (int l = 0; l < c.depth(); l++) {
      n.add(c.weightName(l));
      n.add(c.biasName(l));
    }
    n.add(MlpConfig.OUT_W);
    n.add(MlpConfig.OUT_B);
    return n;
  }

  /** The trainable parameter names (all but the Fourier frequencies). */
  public static java.util.List<String> trainableNames(MlpConfig c) {
    java.util.List<String> n = names(c);
    n.remove(MlpConfig.FOURIER);
    return n;
  }

  /**
   * Fresh weights: Fourier frequencies ~ N(0, scale^2); layers ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as in PyTorch's
   * default; the output layer scaled by 0.1 so training starts near s = 0. Deterministic in the seed.
   */
  public static MlpWeights initialize(MlpConfig c, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    Map<String, INDArray> p = new LinkedHashMap<>();
    double[] f = new double[c.fourierHalf()];
    for (int i = 0; i < f.length; i++) {
      double u1 = 1.0 - rng.nextDouble();
      double u2 = rng.nextDouble();
      f[i] = c.fourierScale() * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
    p.put(MlpConfig.FOURIER, Nd4j.createFromArray(f).castTo(DataType.FLOAT).reshape(1, c.fourierHalf()));
    for (int l = 0; l < c.depth(); l++) {
      int in = l == 0 ? c.inputWidth() : c.width();
      p.put(c.weightName(l), uniform(rng, in, c.width(), 1.0 / Math.sqrt(in)));
      p.put(c.biasName(l), uniform(rng, 1, c.width(), 1.0 / Math.sqrt(in)));
    }
    p.put(MlpConfig.OUT_W, uniform(rng, c.width(), c.dim(), 0.1 / Math.sqrt(c.width())));
    p.put(MlpConfig.OUT_B, Nd4j.zeros(DataType.FLOAT, 1, c.dim()));
    return new MlpWeights(c, p);
  }

  private static INDArray uniform(SplittableRandom rng, int rows, int cols, double bound) {
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
    return Nd4j.createFromArray(v).reshape(rows, cols);
  }

  public MlpConfig config() { return config; }

  public INDArray get(String name) { return params.get(name); }

  /** An unmodifiable view of the parameters in order. */
  public Map<String, INDArray> asMap() { return Collections.unmodifiableMap(params); }

  /** A deep copy; safe to hand to another thread. */
  public MlpWeights copy() {
    Map<String, INDArray> p = new LinkedHashMap<>();
    params.forEach((k, v) -> p.put(k, v.dup()));
    return new MlpWeights(config, p);
  }

  /**
   * Frees the parameters' native arrays now rather than when the garbage collector finds them; for weights this
   * holder created or was handed (a model that owns its weights, a checkpoint written and dropped).
   */
  public void close() {
    for (INDArray a : params.values()) a.close();
  }

  /** Total number of scalar parameters. */
  public long parameterCount() {
    return params.values().stream().mapToLong(INDArray::length).sum();
  }
}
