package io.scorestream.model.sample;

import io.scorestream.model.score.ScoreModel;
import java.util.Arrays;

/**
 * What a request's chains are conditioned on, all optional:
 * <ul>
 *   <li>class labels, cycled over the chains (chain i gets {@code labels[i % labels.length]});</li>
 *   <li>the classifier-free guidance scale w (Ho and Salimans 2021): the chain follows
 *       s = s(x, t) + w (s(x, t | y) - s(x, t)), so w = 0 is the unconditional score, w = 1 the conditional one, and
 *       w > 1 sharpens toward the class;</li>
 *   <li>an inpainting mask (Song et al. 2021, appendix I.2): the known pixels (mask true) are reset to their
 *       forward-noised values m(t) x0 + std(t) z before every network call, and to x0 itself when the chain ends,
 *       so only the unknown pixels are generated.</li>
 * </ul>
 * Immutable (the arrays are copied).
 *
 * @param labels   class labels in [0, classes), {@link ScoreModel#NULL_LABEL} entries allowed; null: none
 * @param guidance the guidance scale w >= 0 (used when labels are given)
 * @param mask     D flags, true where the pixel is known; null: no inpainting
 * @param known    D values of the known image (read where mask is true); null iff mask is
 */
public record Conditioning(int[] labels, double guidance, boolean[] mask, double[] known) {

  /** No labels, no mask. */
  public static final Conditioning NONE = new Conditioning(null, 1.0, null, null);

  public Conditioning {
    if (labels != null && labels.length == 0) labels = null;
    labels = labels == null ? null : labels.clone();
    if (!(guidance >= 0) || !Double.isFinite(guidance)) {
      throw new IllegalArgumentException("guidance scale must be finite and >= 0, got " + guidance);
    }
    if ((mask == null) != (known == null)) throw new IllegalArgumentException("a mask needs the known image and back");
    if (mask != null && mask.length != known.length) {
      throw new IllegalArgumentException("mask of " + mask.length + " pixels, known image of " + known.length);
    }
    if (known != null) {
      for (double v : known) if (!Double.isFinite(v)) throw new IllegalArgumentException("known image has " + v);
    }
    mask = mask == null ? null : mask.clone();
    known = known == null ? null : known.clone();
  }

  /** Class labels with a guidance scale. */
  public static Conditioning labels(double guidance, int... labels) {
    return new Conditioning(labels, guidance, null, null);
  }

  /**
   * The conditioning of a request's wire fields: its labels (none or empty: unconditional, whatever the guidance)
   * and guidance scale (null: 1).
   */
  public static Conditioning ofRequest(java.util.List<Integer> labels, Double guidance) {
    if (labels == null || labels.isEmpty()) return NONE;
    return labels(guidance == null ? 1.0 : guidance, labels.stream().mapToInt(Integer::intValue).toArray());
  }

  /** The same labels and guidance, inpainting the pixels where mask is false from known elsewhere. */
  public Conditioning withMask(boolean[] mask, double[] known) {
    return new Conditioning(labels, guidance, mask, known);
  }

  /** The label of chain i. */
  public int label(long chain) {
    return labels == null ? ScoreModel.NULL_LABEL : labels[(int) Math.floorMod(chain, (long) labels.length)];
  }

  public boolean inpaints() {
    return mask != null;
  }

  /** Refuses conditioning that the model cannot honour, with a message that says why. */
  public void checkFor(ScoreModel model) {
    if (labels != null) {
      for (int y : labels) {
        if (y == ScoreModel.NULL_LABEL) continue;
        if (model.classes() == 0) {
          throw new IllegalArgumentException(model.describe() + " is not class-conditional; it takes no labels");
        }
        if (y < 0 || y >= model.classes()) {
          throw new IllegalArgumentException("label " + y + " outside [0, " + model.classes() + ") of "
              + model.describe());
        }
      }
    }
    if (mask != null && mask.length != model.dim()) {
      throw new IllegalArgumentException("inpainting mask of " + mask.length + " pixels for samples of "
          + model.dim());
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Conditioning c && Arrays.equals(labels, c.labels) && guidance == c.guidance
        && Arrays.equals(mask, c.mask) && Arrays.equals(known, c.known);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(labels) * 31 + Double.hashCode(guidance) + Arrays.hashCode(mask) * 7;
  }

  @Override
  public String toString() {
    return "Conditioning[labels=" + Arrays.toString(labels) + ", guidance=" + guidance
        + (mask == null ? "" : ", inpainting") + "]";
  }
}
