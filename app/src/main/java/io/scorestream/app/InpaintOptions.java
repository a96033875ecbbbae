package io.scorestream.app;

import io.scorestream.model.data.ImageData;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The inpainting options shared by {@code sample} (offline) and {@code client} (over Aeron): a held-out MNIST digit
 * with one half kept, the rest generated (Song et al. 2021, appendix I.2).
 */
final class InpaintOptions {
  @Option(names = "--inpaint", paramLabel = "INDEX",
      description = "inpaint the held-out MNIST digit with this index: its known pixels are kept (see --mask)")
  Integer index;

  @Option(names = "--mask", defaultValue = "top",
      description = "with --inpaint: the known part, top, bottom, left or right half (default: ${DEFAULT-VALUE})")
  String half = "top";

  /**
   * A held-out digit with the half of it that is kept.
   *
   * @param digits the held-out digits (their shape and normalisation, to check against a model)
   * @param known  the digit, in the data's scale ([-1, 1])
   * @param mask   true on the kept half
   */
  record Digit(ImageData digits, double[] known, boolean[] mask) {}

  /** Whether --inpaint was given. */
  boolean requested() {
    return index != null;
  }

  /** The digit --inpaint names with its --mask half kept; a clear error for an index outside the held-out set. */
  Digit digit() {
    ImageData held = ImageData.mnist(ImageData.mnistDir(), "heldout");
    if (index < 0 || index >= held.images().size()) {
      throw new IllegalArgumentException("--inpaint " + index + " outside the " + held.images().size()
          + " held-out digits");
    }
    long[] shape = held.shape();
    return new Digit(held, held.row(index), halfMask(half, (int) shape[0], (int) shape[1], (int) shape[2]));
  }

  /** True on the known half of a C x H x W image. */
  static boolean[] halfMask(String which, int c, int h, int w) {
    boolean[] m = new boolean[c * h * w];
    for (int ch = 0; ch < c; ch++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          m[ch * h * w + y * w + x] = switch (which.toLowerCase(Locale.ROOT)) {
            case "top" -> y < h / 2;
            case "bottom" -> y >= h / 2;
            case "left" -> x < w / 2;
            case "right" -> x >= w / 2;
            default -> throw new IllegalArgumentException("unknown --mask '" + which
                + "' (expected top, bottom, left or right)");
          };
        }
      }
    }
    return m;
  }
}
