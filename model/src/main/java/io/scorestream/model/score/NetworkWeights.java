package io.scorestream.model.score;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The parameters of a score network by name, in the order and with the shapes its {@link NetworkConfig} declares.
 * A value object: {@link #copy()} before handing it to another thread; holders never mutate arrays they did not
 * create.
 */
public final class NetworkWeights {
  private final NetworkConfig config;
  private final LinkedHashMap<String, INDArray> params;

  /** Checks that params holds exactly the config's parameters, each with its shape. */
  public NetworkWeights(NetworkConfig config, Map<String, INDArray> params) {
    this.config = config;
    this.params = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : config.parameterShapes().entrySet()) {
      INDArray a = params.get(e.getKey());
      if (a == null) throw new IllegalArgumentException("missing parameter " + e.getKey());
      if (!Arrays.equals(e.getValue(), a.shape())) {
        throw new IllegalArgumentException("parameter " + e.getKey() + " has shape " + Arrays.toString(a.shape())
            + ", expected " + Arrays.toString(e.getValue()));
      }
      this.params.put(e.getKey(), a);
    }
    for (String name : params.keySet()) {
      if (!this.params.containsKey(name)) {
        throw new IllegalArgumentException("unexpected parameter " + name + " for " + config.describe());
      }
    }
  }

  /** All parameter names of c in order. */
  public static List<String> names(NetworkConfig c) {
    return c.parameterNames();
  }

  /** The trainable parameter names of c in order. */
  public static List<String> trainableNames(NetworkConfig c) {
    return c.trainableNames();
  }

  /** Fresh weights for c, deterministic in the seed. */
  public static NetworkWeights initialize(NetworkConfig c, long seed) {
    return c.initialize(seed);
  }

  public NetworkConfig config() { return config; }

  public INDArray get(String name) { return params.get(name); }

  /** An unmodifiable view of the parameters in order. */
  public Map<String, INDArray> asMap() { return Collections.unmodifiableMap(params); }

  /** A deep copy; safe to hand to another thread. */
  public NetworkWeights copy() {
    Map<String, INDArray> p = new LinkedHashMap<>();
    params.forEach((k, v) -> p.put(k, v.dup()));
    return new NetworkWeights(config, p);
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

  /** The inference model of these weights (which the caller keeps owning) under sde. */
  public ScoreModel model(io.scorestream.model.sde.Sde sde) {
    return config.scoreModel(this, sde, false);
  }
}
