package io.scorestream.model.data;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Parses data-source specs into {@link DataSource}s: vectors {@code toy:NAME}, {@code csv:PATH}, {@code npy:PATH};
 * images {@code mnist} (the installed training digits), {@code mnist:heldout}, {@code mnist:SPLIT@DIR},
 * {@code idx:IMAGES[,LABELS]} and {@code png:DIR} (a folder per class).
 */
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
      throw new DataException("no data source given (expected toy:NAME, csv:PATH, npy:PATH, mnist[:SPLIT], idx:IMAGES[,LABELS], npy-images:IMAGES[,LABELS] or png:DIR)");
    }
    String s = spec.trim();
    int colon = s.indexOf(':');
    String scheme = colon < 0 ? s.toLowerCase(Locale.ROOT) : s.substring(0, colon).toLowerCase(Locale.ROOT);
    String rest = colon < 0 ? "" : s.substring(colon + 1).trim();
    switch (scheme) {
      case "toy":
        return new ToyData(rest);
      case "csv":
        return FileData.csv(path(s, rest), kind);
      case "npy":
        return FileData.npy(path(s, rest), kind);
      case "mnist": {
        // mnist, mnist:heldout, mnist:train@DIR
        String split = rest.isEmpty() ? "train" : rest;
        Path dir = ImageData.mnistDir();
        int at = split.indexOf('@');
        if (at >= 0) {
          dir = path(s, split.substring(at + 1));
          split = split.substring(0, at);
        }
        if (!split.equals("train") && !split.equals("heldout")) {
          throw new DataException("unknown MNIST split '" + split + "' (expected train or heldout)");
        }
        return ImageData.mnist(dir, split);
      }
      case "idx": {
        String[] parts = rest.split(",", 2);
        Path labels = parts.length > 1 ? path(s, parts[1].trim()) : null;
        return new ImageData(LabelledImages.idx(path(s, parts[0].trim()), labels), s);
      }
      case "png":
        return new ImageData(LabelledImages.pngFolder(path(s, rest)), s);
      case "npy-images": {
        String[] parts = rest.split(",", 2);
        Path labels = parts.length > 1 ? path(s, parts[1].trim()) : null;
        return new ImageData(LabelledImages.npy(path(s, parts[0].trim()), labels), s);
      }
      default:
        throw new DataException("unknown data source '" + spec + "' (expected toy:NAME, csv:PATH, npy:PATH, mnist[:SPLIT], idx:IMAGES[,LABELS], npy-images:IMAGES[,LABELS] or png:DIR)");
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
