package io.scorestream.model.score;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.scorestream.model.sde.Sde;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.junit.jupiter.api.Test;

/** Classifier guidance's sum, over the unconditional and over the class-conditional score of gmm8 (exact). */
class ClassifierGuidedModelTest {
  private static final ScoreModel GMM8 = new AnalyticScoreModel(GaussianMixture.named("gmm8"), Sde.named("vp"));

  /** A classifier whose gradient is (label + 1, -(label + 1)) in every row. */
  private static final ClassifierGuidedModel.Classifier STUB = new ClassifierGuidedModel.Classifier() {
    @Override public int classes() {
      return 8;
    }

    @Override public INDArray gradLogProb(INDArray x, double[] t, int[] labels) {
      double[][] g = new double[labels.length][];
      for (int i = 0; i < g.length; i++) g[i] = new double[] {labels[i] + 1, -(labels[i] + 1)};
      return Nd4j.createFromArray(g).castTo(x.dataType());
    }
  };

  @Test
  void labelledRowsGetTheGradientOnTheUnconditionalOrTheConditionalScore() {
    INDArray x = Nd4j.createFromArray(new double[][] {{0.5, -1.0}, {2.0, 0.3}, {-0.7, 1.1}});
    double[] t = {0.2, 0.5, 0.8};
    int[] labels = {3, ScoreModel.NULL_LABEL, 6};
    double scale = 2.5;
    double[][] plain = GMM8.score(x, t).toDoubleMatrix();
    double[][] conditional = GMM8.score(x, t, labels).toDoubleMatrix();

    double[][] guided = new ClassifierGuidedModel(GMM8, STUB, scale).score(x, t, labels).toDoubleMatrix();
    double[][] both = new ClassifierGuidedModel(GMM8, STUB, scale).withConditionalBase().score(x, t, labels)
        .toDoubleMatrix();
    for (int i = 0; i < 3; i++) {
      double g = labels[i] == ScoreModel.NULL_LABEL ? 0 : scale * (labels[i] + 1);
      assertArrayEquals(new double[] {plain[i][0] + g, plain[i][1] - g}, guided[i], 1e-9, "unconditional base, row " + i);
      assertArrayEquals(new double[] {conditional[i][0] + g, conditional[i][1] - g}, both[i], 1e-9,
          "conditional base, row " + i);
    }
    // The null-label row is the unconditional score either way.
    assertArrayEquals(plain[1], both[1], 1e-12);
  }

  @Test
  void aConditionalBaseNeedsClasses() {
    ScoreModel unconditional = new ScoreModel() {
      @Override public Sde sde() { return GMM8.sde(); }
      @Override public int dim() { return 2; }
      @Override public DataType dataType() { return GMM8.dataType(); }
      @Override public INDArray score(INDArray x, double[] t) { return GMM8.score(x, t); }
      @Override public ScoreJvp scoreJvp(INDArray x, double[] t, INDArray v) { return GMM8.scoreJvp(x, t, v); }
      @Override public String describe() { return "unconditional gmm8"; }
    };
    ClassifierGuidedModel m = new ClassifierGuidedModel(unconditional, STUB, 1.0);
    assertThrows(IllegalArgumentException.class, m::withConditionalBase);
    // A classifier of other labels than the model's: refused, not read as the null label.
    ClassifierGuidedModel.Classifier tenClasses = new ClassifierGuidedModel.Classifier() {
      @Override public int classes() {
        return 10;
      }

      @Override public INDArray gradLogProb(INDArray x, double[] t, int[] labels) {
        return STUB.gradLogProb(x, t, labels);
      }
    };
    assertThrows(IllegalArgumentException.class, new ClassifierGuidedModel(GMM8, tenClasses, 1.0)::withConditionalBase);
  }
}
