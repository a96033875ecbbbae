package io.scorestream.config;

import com.typesafe.config.Config;
import java.util.Locale;
import java.util.Set;

/**
 * {@code scorestream.model}: the score model served at start-up. Immutable.
 *
 * @param source {@code analytic:NAME}, {@code init:SEED} or {@code checkpoint:DIR}
 * @param sde    {@code ve}, {@code vp} or {@code subvp}
 * @param dim    data dimension of an {@code init:} model, >= 1
 */
public record ModelSettings(String source, String sde, int dim) {

  /** The SDE names the model module understands. */
  public static final Set<String> SDES = Set.of("ve", "vp", "subvp");

  /** The kind of a model source. */
  public enum SourceKind { ANALYTIC, INIT, CHECKPOINT }

  public ModelSettings {
    if (source == null || source.isBlank()) throw new IllegalArgumentException("model.source is required");
    source = source.trim();
    kindOf(source);
    if (argumentOf(source).isEmpty()) {
      throw new IllegalArgumentException("model.source '" + source + "' names no " + switch (kindOf(source)) {
        case ANALYTIC -> "mixture";
        case INIT -> "seed";
        case CHECKPOINT -> "directory";
      });
    }
    if (kindOf(source) == SourceKind.INIT) {
      try {
        Long.parseLong(argumentOf(source));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("model.source init:SEED needs an integer seed, got '" + source + "'");
      }
    }
    sde = sde == null ? "" : sde.trim().toLowerCase(Locale.ROOT);
    if (!SDES.contains(sde)) throw new IllegalArgumentException("model.sde must be ve, vp or subvp, got '" + sde + "'");
    if (dim < 1) throw new IllegalArgumentException("model.dim must be >= 1, got " + dim);
  }

  /** Reads the {@code scorestream.model} section. */
  public static ModelSettings from(Config c) {
    return new ModelSettings(c.getString("source"), c.getString("sde"), c.getInt("dim"));
  }

  /** The kind of {@link #source()}. */
  public SourceKind sourceKind() {
    return kindOf(source);
  }

  /** What follows the scheme: the mixture name, the seed or the directory. */
  public String sourceArgument() {
    return argumentOf(source);
  }

  private static SourceKind kindOf(String source) {
    int colon = source.indexOf(':');
    String scheme = colon < 0 ? "" : source.substring(0, colon).toLowerCase(Locale.ROOT);
    return switch (scheme) {
      case "analytic" -> SourceKind.ANALYTIC;
      case "init" -> SourceKind.INIT;
      case "checkpoint" -> SourceKind.CHECKPOINT;
      default -> throw new IllegalArgumentException(
          "model.source must be analytic:NAME, init:SEED or checkpoint:DIR, got '" + source + "'");
    };
  }

  private static String argumentOf(String source) {
    return source.substring(source.indexOf(':') + 1).trim();
  }
}
