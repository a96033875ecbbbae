package io.scorestream.model.score;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scorestream.model.nn.UNetConfig;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.Objective;
import io.scorestream.model.train.TrainingGraph;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/**
 * The plug-in seam for score networks: a network is this config (its architecture, recorded in checkpoints), the
 * SameDiff {@link TrainingGraph} the trainer differentiates, a fast inference {@link ScoreModel} the samplers call,
 * and its parameters by name ({@link NetworkWeights}, copied to the heap as a {@link WeightsSnapshot} when a version
 * is published). The trainer, checkpoints, the registry and the samplers see only this interface.
 *
 * <p>Every network maps a flat state x of {@link #dim()} = prod(shape) values per row (the chains are [B, D]
 * row-major) and reads {@link #shape()} to see it as an image. Class-conditional networks take a label per row in
 * [0, classes) or {@link ScoreModel#NULL_LABEL}, the learned "no label" of classifier-free guidance.
 */
public interface NetworkConfig {

  /** The architecture's name in checkpoints and on the command line: {@code mlp} or {@code unet}. */
  String kind();

  /** The shape of one sample: [D] for vectors, [C, H, W] for images. */
  long[] shape();

  /** D = the product of {@link #shape()}. */
  default int dim() {
    long d = 1;
    for (long s : shape()) d *= s;
    return Math.toIntExact(d);
  }

  /** The number of class labels the network is conditioned on (0: unconditional). */
  default int classes() {
    return 0;
  }

  /** Every parameter with its shape, in a fixed order. */
  LinkedHashMap<String, long[]> parameterShapes();

  /** Parameters fixed at initialisation and never trained (random Fourier frequencies). */
  Set<String> frozen();

  /** The parameter names in order. */
  default List<String> parameterNames() {
    return new ArrayList<>(parameterShapes().keySet());
  }

  /** The trained parameter names in order (all but {@link #frozen()}). */
  default List<String> trainableNames() {
    List<String> n = parameterNames();
    n.removeAll(frozen());
    return n;
  }

  /** Fresh parameters, deterministic in the seed. */
  NetworkWeights initialize(long seed);

  /**
   * The training graph over a copy of init's parameters, for an objective. Networks refuse the objectives they cannot
   * express (sliced and exact score matching need Jacobian-vector products through the network) with a message.
   */
  TrainingGraph trainingGraph(NetworkWeights init, Objective objective, boolean varianceReduced);

  /** The inference path over weights; owning: {@link ScoreModel#close()} frees them too. */
  ScoreModel scoreModel(NetworkWeights weights, Sde sde, boolean owning);

  /** A short description, e.g. {@code mlp(256x3)}. */
  String describe();

  /** The architecture as the "network" object of a checkpoint's description (with "kind"). */
  ObjectNode toJson(ObjectNode into);

  /** Reads a checkpoint's "network" object; unknown kinds and missing fields throw IllegalArgumentException. */
  static NetworkConfig fromJson(JsonNode net) {
    String kind = net.path("kind").asText("mlp");
    return switch (kind) {
      case "mlp" -> MlpConfig.fromJson(net);
      case "unet" -> UNetConfig.fromJson(net);
      default -> throw new IllegalArgumentException("unknown network kind '" + kind + "' (this build knows mlp, unet)");
    };
  }

  /**
   * The per-row output scale of the networks here: the score is the output times 1 / sigma(t) for VE (Song and Ermon
   * 2020, technique 3) and -1 / std(t) for VP and sub-VP (the network predicts the noise, Ho et al. 2020).
   */
  static double outputScale(Sde sde, double t) {
    return sde.kind() == Sde.Kind.VE ? 1.0 / sde.std(t) : -1.0 / sde.std(t);
  }

  /** A required integer field of a network description. */
  static int requireInt(JsonNode net, String field) {
    JsonNode v = net.get(field);
    if (v == null || !v.canConvertToInt()) throw new IllegalArgumentException("network." + field + " missing or not an integer");
    return v.asInt();
  }

  /** A required number field of a network description. */
  static double requireDouble(JsonNode net, String field) {
    JsonNode v = net.get(field);
    if (v == null || !v.isNumber()) throw new IllegalArgumentException("network." + field + " missing or not a number");
    return v.asDouble();
  }
}
