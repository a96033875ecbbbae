package io.scorestream.protocol;

import java.util.Arrays;

/**
 * An inpainting (imputation) request's condition, as it travels in a {@link GenerateRequest}: the known values of
 * one sample and the mask of which of them are kept (Song et al. 2021, appendix I.2: after each update the kept
 * values are reset to their forward-noised values, so the chains generate the rest consistent with them).
 *
 * @param known one finite value per dimension, in the data's scale (for images, pixels in [-1, 1]); read where mask
 *              is true
 * @param mask  one flag per dimension: true where known is kept, false where it is generated
 */
public record Inpainting(double[] known, boolean[] mask) {
  /**
   * The most values an inpainting condition may hold: a 3 x 256 x 256 image, 1.8 MB in a frame (nine bytes a value),
   * within the 2 MB message of Aeron's default 16 MB term. (HTTP bodies may hold more: SampleRequest.MAX_PIXELS.)
   */
  public static final int MAX_VALUES = 3 * 256 * 256;

  public Inpainting {
    if (known == null || mask == null) throw new IllegalArgumentException("inpainting needs known values and a mask");
    if (known.length != mask.length) {
      throw new IllegalArgumentException("mask of " + mask.length + " values for " + known.length + " known values");
    }
    if (known.length == 0 || known.length > MAX_VALUES) {
      throw new IllegalArgumentException(known.length + " inpainting values (1 to " + MAX_VALUES + ")");
    }
    for (int i = 0; i < known.length; i++) {
      if (!Double.isFinite(known[i])) throw new IllegalArgumentException("known value " + i + " is " + known[i]);
    }
    known = known.clone();
    mask = mask.clone();
  }

  /** The number of dimensions. */
  public int dim() {
    return known.length;
  }

  @Override
  public double[] known() {
    return known.clone();
  }

  @Override
  public boolean[] mask() {
    return mask.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Inpainting other && Arrays.equals(known, other.known) && Arrays.equals(mask, other.mask);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(known) + Arrays.hashCode(mask);
  }

  @Override
  public String toString() {
    int kept = 0;
    for (boolean m : mask) if (m) kept++;
    return "Inpainting[" + kept + " of " + known.length + " values kept]";
  }
}
