package io.scorestream.config;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code scorestream.session}: request sessions. Immutable.
 *
 * @param linger how long a session that has its terminal event waits for the subscriber to take it, > 0
 */
public record SessionSettings(Duration linger) {

  public SessionSettings {
    if (linger == null || linger.isZero() || linger.isNegative()) {
      throw new IllegalArgumentException("session.linger must be > 0, got " + linger);
    }
  }

  /** Reads the {@code scorestream.session} section. */
  public static SessionSettings from(Config c) {
    return new SessionSettings(c.getDuration("linger"));
  }
}
