package io.scorestream.config;

import com.typesafe.config.Config;

/**
 * {@code scorestream.registry}: the model registry. Immutable.
 *
 * @param keepVersions recent versions kept, the current one included, >= 1
 */
public record RegistrySettings(int keepVersions) {

  public RegistrySettings {
    if (keepVersions < 1) throw new IllegalArgumentException("registry.keep-versions must be > 0, got " + keepVersions);
  }

  /** Reads the {@code scorestream.registry} section. */
  public static RegistrySettings from(Config c) {
    return new RegistrySettings(c.getInt("keep-versions"));
  }
}
