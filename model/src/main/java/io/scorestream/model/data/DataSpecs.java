package io.scorestream.model.data;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;

/** Parses data-source specs {@code toy:NAME}, {@code csv:PATH} and {@code npy:PATH} into {@link DataSource}s. */
public final class DataSpecs {

  private DataSpecs() {}

  /**
   * The data source for a spec. {@code normalization} ({@code standard}, the default for null/blank, or
   * {@code none}) applies to files; toys are always at their natural scale ({@code none}), though the argument is
   * still validated. Unknown schemes, toys, normalisations and bad files throw {@link DataException}.
   */
  public static DataSource parse(String spec, String normalization) {
    String kind = Normalization.canonicalKind(normalization);
    if (spec == null || spec.isBlank()) {
      throw new DataException("no data source given (expected toy:NAME, csv:PATH or npy:PATH)");
    }
    String s = spec.trim();
    int colon = s.indexOf(':');
    String scheme = colon < 0 ? "" : s.substring(0, colon).toLowerCase(Locale.ROOT);
    String rest = colon < 0 ? "" : s.substring(colon + 1).trim();
    switch (scheme) {
      case "toy":
        return new ToyData(rest);
      case "csv":
        return FileData.csv(path(s, rest), kind);
      case "npy":
        return FileData.npy(path(s, rest), kind);
      default:
        throw new DataException("unknown data source '" + spec + "' (expected toy:NAME, csv:PATH or npy:PATH)");
    }
  }

  private static Path path(String spec, String text) {
    if (text.isEmpty()) throw new DataException("data source '" + spec + "' has no path");
    try {
      return Path.of(text);
    } catch (InvalidPathException e) {
      throw new DataException("data source '" + spec + "': invalid path: " + e.getMessage(), e);
    }
  }
}
