package io.scorestream.model.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scorestream.model.data.Normalization;
import io.scorestream.model.score.NetworkConfig;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.sde.SdeJson;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A training checkpoint: a directory {@code ckpt-NNNNNNNN} holding {@code checkpoint.json} (format version, step,
 * network (its kind and architecture, see {@link NetworkConfig#toJson}), SDE, data spec and normalisation, training settings), {@code weights.bin}, {@code ema.bin} and
 * {@code optimizer.bin}. It is written into a temporary sibling and renamed into place, so a crash never leaves a
 * half-written checkpoint under the final name. Immutable.
 */
public record Checkpoint(long step, NetworkWeights weights, NetworkWeights ema, ScoreTrainer.TrainerState state, Sde sde,
                         TrainConfig train, String dataSpec, Normalization normalization) {

  public static final int FORMAT_VERSION = 1;
  public static final String DESCRIPTION = "checkpoint.json";
  private static final String PREFIX = "ckpt-";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Captures the trainer's state now. */
  public static Checkpoint of(ScoreTrainer trainer, String dataSpec) {
    return new Checkpoint(trainer.step(), trainer.weights(), trainer.emaWeights(), trainer.state(), trainer.sde(),
        trainer.trainConfig(), dataSpec, trainer.data().normalization());
  }

  /**
   * Frees the native arrays of this checkpoint's copies (weights, EMA, optimizer state); for a checkpoint taken
   * with {@link #of} and written, or read and no longer needed.
   */
  public void close() {
    weights.close();
    ema.close();
    for (Map<String, org.nd4j.linalg.api.ndarray.INDArray> m : List.of(state.adamM(), state.adamV(), state.ema())) {
      m.values().forEach(org.nd4j.linalg.api.ndarray.INDArray::close);
    }
  }

  /** Writes this checkpoint under parent as ckpt-NNNNNNNN (atomically) and returns its directory. */
  public Path write(Path parent) {
    try {
      Files.createDirectories(parent);
      Path target = parent.resolve(String.format("%s%08d", PREFIX, step));
      Path tmp = Files.createTempDirectory(parent, ".tmp-" + PREFIX);
      Files.writeString(tmp.resolve(DESCRIPTION), JSON.writeValueAsString(describe()));
      TensorFile.write(tmp.resolve("weights.bin"), weights.asMap());
      TensorFile.write(tmp.resolve("ema.bin"), ema.asMap());
      Map<String, org.nd4j.linalg.api.ndarray.INDArray> opt = new LinkedHashMap<>();
      state.adamM().forEach((k, v) -> opt.put("m/" + k, v));
      state.adamV().forEach((k, v) -> opt.put("v/" + k, v));
      TensorFile.write(tmp.resolve("optimizer.bin"), opt);
      if (Files.exists(target)) deleteTree(target);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target);
      }
      return target;
    } catch (IOException e) {
      throw new CheckpointException("cannot write checkpoint under " + parent + ": " + e.getMessage(), e);
    }
  }

  private ObjectNode describe() {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", "scorestream-checkpoint");
    root.put("version", FORMAT_VERSION);
    root.put("step", step);
    NetworkConfig c = weights.config();
    c.toJson(root.putObject("network"));
    SdeJson.write(root.putObject("sde"), sde);
    ObjectNode d = root.putObject("data");
    d.put("spec", dataSpec);
    d.put("dim", c.dim());
    d.set("shape", JSON.valueToTree(c.shape()));
    ObjectNode norm = d.putObject("normalization");
    norm.put("kind", normalization.kind());
    norm.set("mean", JSON.valueToTree(normalization.mean()));
    norm.set("std", JSON.valueToTree(normalization.std()));
    root.set("training", JSON.valueToTree(train));
    return root;
  }

  /** The newest complete checkpoint under parent, if any. */
  public static Optional<Path> latest(Path parent) {
    if (!Files.isDirectory(parent)) return Optional.empty();
    try (Stream<Path> s = Files.list(parent)) {
      return s.filter(p -> p.getFileName().toString().startsWith(PREFIX))
          .filter(p -> Files.isRegularFile(p.resolve(DESCRIPTION)))
          .max(Comparator.comparing(p -> p.getFileName().toString()));
    } catch (IOException e) {
      throw new CheckpointException("cannot list " + parent + ": " + e.getMessage(), e);
    }
  }

  /**
   * Deletes all but the newest {@code keep} complete checkpoints under parent (keep <= 0: deletes nothing), oldest
   * first, so that a long run's disk use stays bounded. Only directories named ckpt-NNNNNNNN with their description
   * file are touched; temporary directories of a write in progress are not.
   *
   * @return the checkpoints deleted
   */
  public static java.util.List<Path> prune(Path parent, int keep) {
    if (keep <= 0 || !Files.isDirectory(parent)) return java.util.List.of();
    java.util.List<Path> all;
    try (Stream<Path> s = Files.list(parent)) {
      all = s.filter(p -> p.getFileName().toString().matches(PREFIX + "\\d{8,}"))
          .filter(p -> Files.isRegularFile(p.resolve(DESCRIPTION)))
          .sorted(Comparator.comparing(p -> p.getFileName().toString()))
          .toList();
    } catch (IOException e) {
      throw new CheckpointException("cannot list " + parent + ": " + e.getMessage(), e);
    }
    java.util.List<Path> old = all.subList(0, Math.max(0, all.size() - keep));
    for (Path dir : old) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path f : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(f);
      } catch (IOException e) {
        throw new CheckpointException("cannot delete old checkpoint " + dir + ": " + e.getMessage(), e);
      }
    }
    return java.util.List.copyOf(old);
  }

  /** Reads a checkpoint directory, or the newest checkpoint under a training output directory. */
  public static Checkpoint read(Path path) {
    if (!Files.exists(path)) throw new CheckpointException("no such checkpoint: " + path);
    Path dir = Files.isRegularFile(path.resolve(DESCRIPTION)) ? path
        : latest(path).orElseThrow(() -> new CheckpointException("no checkpoint in " + path
            + " (expected " + DESCRIPTION + " or ckpt-* directories)"));
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(dir.resolve(DESCRIPTION)));
    } catch (IOException e) {
      throw new CheckpointException(dir.resolve(DESCRIPTION) + ": not valid JSON: " + e.getMessage(), e);
    }
    try {
      if (!"scorestream-checkpoint".equals(root.path("format").asText())) {
        throw new CheckpointException(dir.resolve(DESCRIPTION) + ": not a scorestream checkpoint");
      }
      int version = root.path("version").asInt(-1);
      if (version != FORMAT_VERSION) {
        throw new CheckpointException(dir + ": checkpoint format version " + version + " (this build reads "
            + FORMAT_VERSION + ")");
      }
      JsonNode net = root.get("network");
      if (net == null) throw new CheckpointException(dir.resolve(DESCRIPTION) + ": no network description");
      NetworkConfig config = NetworkConfig.fromJson(net);
      Sde sde = SdeJson.read(root.get("sde"));
      JsonNode d = root.get("data");
      JsonNode n = d.get("normalization");
      Normalization norm = new Normalization(n.get("kind").asText(), JSON.treeToValue(n.get("mean"), double[].class),
          JSON.treeToValue(n.get("std"), double[].class));
      TrainConfig train = JSON.treeToValue(root.get("training"), TrainConfig.class);
      NetworkWeights weights = new NetworkWeights(config, TensorFile.read(dir.resolve("weights.bin")));
      NetworkWeights ema = new NetworkWeights(config, TensorFile.read(dir.resolve("ema.bin")));
      Map<String, org.nd4j.linalg.api.ndarray.INDArray> opt = TensorFile.read(dir.resolve("optimizer.bin"));
      Map<String, org.nd4j.linalg.api.ndarray.INDArray> m = new LinkedHashMap<>();
      Map<String, org.nd4j.linalg.api.ndarray.INDArray> v = new LinkedHashMap<>();
      Map<String, org.nd4j.linalg.api.ndarray.INDArray> e = new LinkedHashMap<>();
      for (String name : NetworkWeights.trainableNames(config)) {
        m.put(name, require(opt, "m/" + name, dir));
        v.put(name, require(opt, "v/" + name, dir));
        e.put(name, ema.get(name));
      }
      return new Checkpoint(root.get("step").asLong(), weights, ema, new ScoreTrainer.TrainerState(m, v, e), sde,
          train, d.get("spec").asText(), norm);
    } catch (CheckpointException e) {
      throw e;
    } catch (RuntimeException | IOException e) {
      throw new CheckpointException(dir + ": corrupt checkpoint description: " + e.getMessage(), e);
    }
  }

  private static org.nd4j.linalg.api.ndarray.INDArray require(Map<String, org.nd4j.linalg.api.ndarray.INDArray> m,
                                                                String name, Path dir) {
    org.nd4j.linalg.api.ndarray.INDArray a = m.get(name);
    if (a == null) throw new CheckpointException(dir + "/optimizer.bin: missing " + name);
    return a;
  }

  private static void deleteTree(Path p) throws IOException {
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) Files.delete(q);
    }
  }
}
