package io.scorestream.config;

import java.util.Locale;

/**
 * How a sampler with a full batch makes room for chains of higher priority (their running chains keep their states
 * and resume later, bit-identically):
 * <ul>
 *   <li>{@link #EXCLUSIVE}: while chains of a higher priority wait or run, every chain of lower priority is set aside,
 *       so the urgent chains run in a batch of their own and take about their idle latency (a full batch's tick
 *       costs many small ones'); the lower ones resume when they end.</li>
 *   <li>{@link #ROOM}: only as many lower-priority rows as the urgent slice needs are set aside; it runs at the full
 *       batch's tick time, and the node's throughput does not drop.</li>
 *   <li>{@link #OFF}: nothing is set aside; priority only orders the waiting slices.</li>
 * </ul>
 */
public enum Preemption {
  EXCLUSIVE, ROOM, OFF;

  /** Parses {@code exclusive}, {@code room} or {@code off} (case-insensitive). */
  public static Preemption named(String name) {
    return switch (name.trim().toLowerCase(Locale.ROOT)) {
      case "exclusive" -> EXCLUSIVE;
      case "room" -> ROOM;
      case "off" -> OFF;
      default -> throw new IllegalArgumentException("sampler.preemption must be exclusive, room or off, got '"
          + name + "'");
    };
  }
}
