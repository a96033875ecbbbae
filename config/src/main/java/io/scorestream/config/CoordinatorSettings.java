package io.scorestream.config;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code scorestream.coordinator}: admission, validation limits, request defaults, routing and retries. Immutable.
 *
 * @param queueBound          requests that may wait for rows; past it OVERLOADED, >= 0
 * @param maxChainsPerRequest largest accepted chain count, >= 1
 * @param maxSteps            largest accepted step count, >= 1
 * @param defaultSteps        steps of a request that names none, in [1, maxSteps]
 * @param defaultPreviewEvery preview period in steps of a request that names none; 0: off
 * @param defaultDeadline     deadline of a request that names none, in (0, maxDeadline]
 * @param maxDeadline         longest accepted deadline, > 0
 * @param splitMinChains      requests of at least this many chains are split across samplers, >= 1
 * @param maxRetries          restarts from the seeds after sampler failures before INTERNAL, >= 0
 * @param retryAfterMin       lower bound of OVERLOADED's retry-after hint, >= 0
 * @param retryAfterMax       upper bound of the hint, >= retryAfterMin
 * @param initialTickEstimate tick time assumed for ETAs before samplers report one, > 0
 * @param rebalanceEvery      how often the coordinator looks for a sampler holding many more of its chains than
 *                            another with free rows, and moves some (with their states); zero for never
 * @param rebalanceMinChains  the difference in chains that makes a move, >= 1
 */
public record CoordinatorSettings(int queueBound, int maxChainsPerRequest, int maxSteps, int defaultSteps,
                                  int defaultPreviewEvery, Duration defaultDeadline, Duration maxDeadline,
                                  int splitMinChains, int maxRetries, Duration retryAfterMin, Duration retryAfterMax,
                                  Duration initialTickEstimate, Duration rebalanceEvery, int rebalanceMinChains) {

  public CoordinatorSettings {
    if (queueBound < 0) throw new IllegalArgumentException("coordinator.queue-bound must be >= 0, got " + queueBound);
    if (maxChainsPerRequest < 1) {
      throw new IllegalArgumentException("coordinator.max-chains-per-request must be > 0, got " + maxChainsPerRequest);
    }
    if (maxSteps < 1) throw new IllegalArgumentException("coordinator.max-steps must be > 0, got " + maxSteps);
    if (defaultSteps < 1 || defaultSteps > maxSteps) {
      throw new IllegalArgumentException("coordinator.default-steps must be in [1, max-steps = " + maxSteps + "], got "
          + defaultSteps);
    }
    if (defaultPreviewEvery < 0) {
      throw new IllegalArgumentException("coordinator.default-preview-every must be >= 0, got " + defaultPreviewEvery);
    }
    requirePositive(maxDeadline, "coordinator.max-deadline");
    requirePositive(defaultDeadline, "coordinator.default-deadline");
    if (defaultDeadline.compareTo(maxDeadline) > 0) {
      throw new IllegalArgumentException("coordinator.default-deadline (" + defaultDeadline
          + ") exceeds coordinator.max-deadline (" + maxDeadline + ")");
    }
    if (splitMinChains < 1) {
      throw new IllegalArgumentException("coordinator.split-min-chains must be > 0, got " + splitMinChains);
    }
    if (maxRetries < 0) throw new IllegalArgumentException("coordinator.max-retries must be >= 0, got " + maxRetries);
    if (retryAfterMin == null || retryAfterMin.isNegative()) {
      throw new IllegalArgumentException("coordinator.retry-after-min must be >= 0, got " + retryAfterMin);
    }
    if (retryAfterMax == null || retryAfterMax.compareTo(retryAfterMin) < 0) {
      throw new IllegalArgumentException("coordinator.retry-after-max must be >= retry-after-min, got " + retryAfterMax);
    }
    requirePositive(initialTickEstimate, "coordinator.initial-tick-estimate");
    if (rebalanceEvery == null || rebalanceEvery.isNegative()) {
      throw new IllegalArgumentException("coordinator.rebalance-every must be >= 0, got " + rebalanceEvery);
    }
    if (rebalanceMinChains < 1) {
      throw new IllegalArgumentException("coordinator.rebalance-min-chains must be > 0, got " + rebalanceMinChains);
    }
  }

  private static void requirePositive(Duration d, String key) {
    if (d == null || d.isZero() || d.isNegative()) throw new IllegalArgumentException(key + " must be > 0, got " + d);
  }

  /** Reads the {@code scorestream.coordinator} section. */
  public static CoordinatorSettings from(Config c) {
    return new CoordinatorSettings(c.getInt("queue-bound"), c.getInt("max-chains-per-request"), c.getInt("max-steps"),
        c.getInt("default-steps"), c.getInt("default-preview-every"), c.getDuration("default-deadline"),
        c.getDuration("max-deadline"), c.getInt("split-min-chains"), c.getInt("max-retries"),
        c.getDuration("retry-after-min"), c.getDuration("retry-after-max"), c.getDuration("initial-tick-estimate"),
        c.getDuration("rebalance-every"), c.getInt("rebalance-min-chains"));
  }

  /** A copy with another queue bound. */
  public CoordinatorSettings withQueueBound(int bound) {
    return new CoordinatorSettings(bound, maxChainsPerRequest, maxSteps, defaultSteps, defaultPreviewEvery,
        defaultDeadline, maxDeadline, splitMinChains, maxRetries, retryAfterMin, retryAfterMax, initialTickEstimate,
        rebalanceEvery, rebalanceMinChains);
  }

  /** A copy with another retry budget. */
  public CoordinatorSettings withMaxRetries(int retries) {
    return new CoordinatorSettings(queueBound, maxChainsPerRequest, maxSteps, defaultSteps, defaultPreviewEvery,
        defaultDeadline, maxDeadline, splitMinChains, retries, retryAfterMin, retryAfterMax, initialTickEstimate,
        rebalanceEvery, rebalanceMinChains);
  }
}
