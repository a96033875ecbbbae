package io.scorestream.config;

import java.util.Locale;

/**
 * One entry of {@code scorestream.samplers}: a CPU slot ({@code cpu:N}) or a CUDA device ({@code gpu:N}). Each entry
 * becomes one Sampler actor on its own pinned thread. Immutable.
 *
 * @param kind  CPU or GPU
 * @param index the slot or device number, >= 0
 */
public record SamplerDevice(Kind kind, int index) {

  /** The kind of device a sampler computes on. */
  public enum Kind { CPU, GPU }

  public SamplerDevice {
    if (kind == null) throw new IllegalArgumentException("sampler device kind is required");
    if (index < 0) throw new IllegalArgumentException("sampler device index must be >= 0, got " + index);
  }

  /** Parses {@code cpu:N} or {@code gpu:N}. */
  public static SamplerDevice parse(String text) {
    String s = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    int colon = s.indexOf(':');
    if (colon < 0) throw new IllegalArgumentException("sampler device must be cpu:N or gpu:N, got '" + text + "'");
    Kind kind = switch (s.substring(0, colon)) {
      case "cpu" -> Kind.CPU;
      case "gpu" -> Kind.GPU;
      default -> throw new IllegalArgumentException("sampler device must be cpu:N or gpu:N, got '" + text + "'");
    };
    try {
      return new SamplerDevice(kind, Integer.parseInt(s.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("sampler device must be cpu:N or gpu:N, got '" + text + "'", e);
    }
  }

  /** The entry as written in the configuration, e.g. {@code cpu:0}; also the sampler's actor-name suffix. */
  public String label() {
    return kind.name().toLowerCase(Locale.ROOT) + "-" + index;
  }

  @Override
  public String toString() {
    return kind.name().toLowerCase(Locale.ROOT) + ":" + index;
  }
}
