package io.scorestream.model.score;

import io.scorestream.model.sde.Sde;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Classifier guidance (Song et al. 2021, section 5, eq. 14; Dhariwal and Nichol 2021): the score of p_t(x | y) as
 * grad_x log p_t(x) + scale grad_x log p_t(y | x), the unconditional score of a base model plus the gradient of a
 * time-dependent classifier trained on perturbed data. Rows with the null label get the base score alone. With a
 * conditional base ({@link #withConditionalBase}), labelled rows start from the base's class-conditional score
 * s(x | y) instead, so classifier-free guidance at scale w on top gives s(x) + w (s(x | y) + scale grad log p_t(y |
 * x) - s(x)): both guidances at once. Owns neither the base model nor the classifier.
 */
public final class ClassifierGuidedModel implements ScoreModel {

  /** A classifier of perturbed samples that can differentiate its log-probabilities with respect to x. */
  public interface Classifier {
    int classes();

    /** grad_x log p_t(y_i | x_i) per row, [B, D]. */
    INDArray gradLogProb(INDArray x, double[] t, int[] labels);
  }

  private final ScoreModel base;
  private final Classifier classifier;
  private final double scale;
  private final boolean conditionalBase;

  public ClassifierGuidedModel(ScoreModel base, Classifier classifier, double scale) {
    this(base, classifier, scale, false);
  }

  private ClassifierGuidedModel(ScoreModel base, Classifier classifier, double scale, boolean conditionalBase) {
    if (!(scale >= 0) || !Double.isFinite(scale)) {
      throw new IllegalArgumentException("classifier scale must be finite and >= 0, got " + scale);
    }
    this.base = base;
    this.classifier = classifier;
    this.scale = scale;
    this.conditionalBase = conditionalBase;
    if (conditionalBase && base.classes() <= 0) {
      throw new IllegalArgumentException("a conditional base needs a class-conditional model, got " + base.describe());
    }
    if (conditionalBase && base.classes() != classifier.classes()) {
      throw new IllegalArgumentException("the classifier has " + classifier.classes() + " classes and the model "
          + base.classes() + ": a conditional base needs the same labels");
    }
  }

  /** The same guidance over the base's class-conditional score s(x | y) (a base with classes). */
  public ClassifierGuidedModel withConditionalBase() {
    return new ClassifierGuidedModel(base, classifier, scale, true);
  }

  @Override public Sde sde() { return base.sde(); }

  @Override public int dim() { return base.dim(); }

  @Override public long[] shape() { return base.shape(); }

  @Override public DataType dataType() { return base.dataType(); }

  @Override public int classes() { return classifier.classes(); }

  @Override
  public INDArray score(INDArray x, double[] t) {
    return base.score(x, t);
  }

  @Override
  public INDArray score(INDArray x, double[] t, int[] labels) {
    INDArray s = conditionalBase && labels != null ? base.score(x, t, labels) : base.score(x, t);
    if (labels == null || scale == 0) return s;
    int rows = t.length;
    int[] y = labels.clone();
    boolean any = false;
    for (int i = 0; i < rows; i++) {
      if (y[i] == NULL_LABEL) {
        y[i] = 0;   // a placeholder; its row's gradient is not added
      } else if (y[i] < 0 || y[i] >= classes()) {
        throw new IllegalArgumentException("label " + y[i] + " outside [0, " + classes() + ")");
      } else {
        any = true;
      }
    }
    if (!any) return s;
    INDArray g = classifier.gradLogProb(x, t, y);
    for (int i = 0; i < rows; i++) {
      if (labels[i] != NULL_LABEL) s.getRow(i).addi(g.getRow(i).mul(scale));
    }
    g.close();
    return s;
  }

  @Override
  public ScoreJvp scoreJvp(INDArray x, double[] t, INDArray v) {
    return base.scoreJvp(x, t, v);
  }

  @Override
  public String describe() {
    return base.describe() + (conditionalBase ? " (class-conditional)" : "") + " + " + scale + " x classifier guidance";
  }
}
