package io.scorestream.config;

import com.typesafe.config.Config;
import java.nio.file.InvalidPathException;
import java.time.Duration;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * {@code scorestream.trainer}: online training on the node. Immutable.
 *
 * @param enabled         whether the node runs a Trainer actor
 * @param data            data spec: toy:NAME, csv:PATH or npy:PATH
 * @param normalization   standard | none
 * @param objective       dsm | smld | ddpm | ssm | esm
 * @param batchSize       rows per optimizer step, >= 1
 * @param learningRate    Adam's peak learning rate, > 0
 * @param seed            seed of every draw of training
 * @param publishEvery    optimizer steps between published versions, >= 1
 * @param checkpointEvery optimizer steps between checkpoints, >= 0 (0: never)
 * @param checkpointDir   where checkpoints go and resume reads from
 * @param keepCheckpoints how many of the newest checkpoints to keep, >= 0 (0: all)
 * @param resume          resume from the newest checkpoint on start
 * @param maxSteps        total optimizer steps, >= 0 (0: unbounded)
 * @param maxRestarts     restarts allowed within {@code restartWindow} before the trainer stops, >= 0
 * @param restartWindow   the window of {@code maxRestarts}, > 0
 */
public record TrainerSettings(boolean enabled, String data, String normalization, String objective, int batchSize,
                              double learningRate, long seed, int publishEvery, int checkpointEvery,
                              Path checkpointDir, int keepCheckpoints, boolean resume, long maxSteps, int maxRestarts,
                              Duration restartWindow) {

  /** The objective names the model module understands. */
  public static final Set<String> OBJECTIVES = Set.of("dsm", "smld", "ddpm", "ssm", "esm");

  public TrainerSettings {
    if (data == null || data.isBlank()) throw new IllegalArgumentException("trainer.data is required");
    normalization = normalization == null ? "" : normalization.trim().toLowerCase(Locale.ROOT);
    if (!normalization.equals("standard") && !normalization.equals("none")) {
      throw new IllegalArgumentException("trainer.normalization must be standard or none, got '" + normalization + "'");
    }
    objective = objective == null ? "" : objective.trim().toLowerCase(Locale.ROOT);
    if (!OBJECTIVES.contains(objective)) {
      throw new IllegalArgumentException("trainer.objective must be one of dsm, smld, ddpm, ssm, esm, got '"
          + objective + "'");
    }
    if (batchSize < 1) throw new IllegalArgumentException("trainer.batch-size must be > 0, got " + batchSize);
    if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
      throw new IllegalArgumentException("trainer.learning-rate must be > 0, got " + learningRate);
    }
    if (publishEvery < 1) throw new IllegalArgumentException("trainer.publish-every must be > 0, got " + publishEvery);
    if (checkpointEvery < 0) {
      throw new IllegalArgumentException("trainer.checkpoint-every must be >= 0, got " + checkpointEvery);
    }
    if (checkpointDir == null) throw new IllegalArgumentException("trainer.checkpoint-dir is required");
    if (keepCheckpoints < 0) {
      throw new IllegalArgumentException("trainer.keep-checkpoints must be >= 0, got " + keepCheckpoints);
    }
    if (maxSteps < 0) throw new IllegalArgumentException("trainer.max-steps must be >= 0, got " + maxSteps);
    if (maxRestarts < 0) throw new IllegalArgumentException("trainer.max-restarts must be >= 0, got " + maxRestarts);
    if (restartWindow == null || restartWindow.isZero() || restartWindow.isNegative()) {
      throw new IllegalArgumentException("trainer.restart-window must be > 0, got " + restartWindow);
    }
  }

  /** Reads the {@code scorestream.trainer} section. */
  public static TrainerSettings from(Config c) {
    Path dir;
    try {
      dir = Path.of(c.getString("checkpoint-dir"));
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException("trainer.checkpoint-dir is not a path: " + e.getMessage(), e);
    }
    return new TrainerSettings(c.getBoolean("enabled"), c.getString("data"), c.getString("normalization"),
        c.getString("objective"), c.getInt("batch-size"), c.getDouble("learning-rate"), c.getLong("seed"),
        c.getInt("publish-every"), c.getInt("checkpoint-every"), dir, c.getInt("keep-checkpoints"),
        c.getBoolean("resume"), c.getLong("max-steps"),
        c.getInt("max-restarts"), c.getDuration("restart-window"));
  }

  /** A copy that is enabled or not. */
  public TrainerSettings withEnabled(boolean on) {
    return new TrainerSettings(on, data, normalization, objective, batchSize, learningRate, seed, publishEvery,
        checkpointEvery, checkpointDir, keepCheckpoints, resume, maxSteps, maxRestarts, restartWindow);
  }

  /** A copy with other step counts: batch size, publication and checkpoint periods, and the total. */
  public TrainerSettings withSteps(int batch, int publish, int checkpoint, long max) {
    return new TrainerSettings(enabled, data, normalization, objective, batch, learningRate, seed, publish,
        checkpoint, checkpointDir, keepCheckpoints, resume, max, maxRestarts, restartWindow);
  }

  /** A copy that checkpoints into another directory. */
  public TrainerSettings withCheckpointDir(Path dir) {
    return new TrainerSettings(enabled, data, normalization, objective, batchSize, learningRate, seed, publishEvery,
        checkpointEvery, dir, keepCheckpoints, resume, maxSteps, maxRestarts, restartWindow);
  }
}
