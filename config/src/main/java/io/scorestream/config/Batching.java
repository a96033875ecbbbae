package io.scorestream.config;

import java.util.Locale;

/**
 * How a sampler admits new chains: {@link #CONTINUOUS} at every step boundary (step-level batching), {@link #STATIC}
 * only once the running batch has finished (the baseline the benchmarks compare against). Immutable.
 */
public enum Batching {
  CONTINUOUS, STATIC;

  /** Parses {@code continuous} or {@code static} (case-insensitive). */
  public static Batching named(String name) {
    return switch (name.trim().toLowerCase(Locale.ROOT)) {
      case "continuous" -> CONTINUOUS;
      case "static" -> STATIC;
      default -> throw new IllegalArgumentException("batching must be continuous or static, got '" + name + "'");
    };
  }
}
