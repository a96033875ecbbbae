package io.scorestream.config;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code scorestream.sampler}: how every Sampler actor batches its chains and is supervised. Immutable.
 *
 * @param maxBatchRows         most chains advanced per network call, >= 1
 * @param batching             continuous (join at every step boundary) or static (join only an empty batch)
 * @param loadReportEveryTicks load report period in ticks, >= 1
 * @param maxRestarts          restarts allowed within {@code restartWindow} before the sampler stops, >= 0
 * @param restartWindow        the window of {@code maxRestarts}, > 0
 * @param maxMessageValues     most values (chains x dimension) in one preview or result message to a session, >= 1
 * @param preemption           how a full batch makes room for chains of higher priority
 * @param checkpointEvery      in a cluster, how often a sampler sends its slices' states to their coordinators, so
 *                             that a lost member's chains resume elsewhere; zero for never
 */
public record SamplerSettings(int maxBatchRows, Batching batching, int loadReportEveryTicks, int maxRestarts,
                              Duration restartWindow, int maxMessageValues, Preemption preemption,
                              Duration checkpointEvery) {

  public SamplerSettings {
    if (maxBatchRows < 1) throw new IllegalArgumentException("sampler.max-batch-rows must be > 0, got " + maxBatchRows);
    if (batching == null) throw new IllegalArgumentException("sampler.batching is required");
    if (loadReportEveryTicks < 1) {
      throw new IllegalArgumentException("sampler.load-report-every must be > 0, got " + loadReportEveryTicks);
    }
    if (maxRestarts < 0) throw new IllegalArgumentException("sampler.max-restarts must be >= 0, got " + maxRestarts);
    if (restartWindow == null || restartWindow.isZero() || restartWindow.isNegative()) {
      throw new IllegalArgumentException("sampler.restart-window must be > 0, got " + restartWindow);
    }
    if (maxMessageValues < 1) {
      throw new IllegalArgumentException("sampler.max-message-values must be > 0, got " + maxMessageValues);
    }
    if (preemption == null) throw new IllegalArgumentException("sampler.preemption is required");
    if (checkpointEvery == null || checkpointEvery.isNegative()) {
      throw new IllegalArgumentException("sampler.checkpoint-every must be >= 0, got " + checkpointEvery);
    }
  }

  /** Reads the {@code scorestream.sampler} section. */
  public static SamplerSettings from(Config c) {
    return new SamplerSettings(c.getInt("max-batch-rows"), Batching.named(c.getString("batching")),
        c.getInt("load-report-every"), c.getInt("max-restarts"), c.getDuration("restart-window"),
        c.getInt("max-message-values"), Preemption.named(c.getString("preemption")),
        c.getDuration("checkpoint-every"));
  }

  /** A copy with another row cap. */
  public SamplerSettings withMaxBatchRows(int rows) {
    return new SamplerSettings(rows, batching, loadReportEveryTicks, maxRestarts, restartWindow, maxMessageValues,
        preemption, checkpointEvery);
  }

  /** A copy with another batching mode. */
  public SamplerSettings withBatching(Batching mode) {
    return new SamplerSettings(maxBatchRows, mode, loadReportEveryTicks, maxRestarts, restartWindow,
        maxMessageValues, preemption, checkpointEvery);
  }
}
