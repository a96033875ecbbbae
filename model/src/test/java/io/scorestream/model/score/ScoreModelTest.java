package io.scorestream.model.score;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.scorestream.model.sde.Sde;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ScoreModelTest {

  @Test
  void analyticScoreIsTheGradientOfTheLogDensity() {
    GaussianMixture g = GaussianMixture.named("gmm8");
    for (String name : new String[] {"ve", "vp", "subvp"}) {
      Sde sde = Sde.named(name);
      AnalyticScoreModel m = new AnalyticScoreModel(g, sde);
      double[] x = {1.3, -2.1};
      double t = 0.3;
      double[] s = m.score(Nd4j.createFromArray(new double[][] {x}), new double[] {t}).toDoubleVector();
      double h = 1e-5;
      for (int j = 0; j < 2; j++) {
        double[] xp = x.clone();
        double[] xm = x.clone();
        xp[j] += h;
        xm[j] -= h;
        double fd = (g.logDensity(xp, sde.meanCoeff(t), sde.std(t)) - g.logDensity(xm, sde.meanCoeff(t), sde.std(t))) / (2 * h);
        assertEquals(fd, s[j], 1e-6, name);
      }
    }
  }

  @Test
  void jacobianVectorProductsMatchFiniteDifferences() {
    Sde sde = Sde.named("vp");
    ScoreModel[] models = {
        new AnalyticScoreModel(GaussianMixture.named("ncsn-gmm"), sde),
        new MlpScoreModel(NetworkWeights.initialize(MlpConfig.reference(2), 3), sde)};
    INDArray x = Nd4j.createFromArray(new double[][] {{0.3, -0.7}, {2.0, 1.0}});
    INDArray v = Nd4j.createFromArray(new double[][] {{1.0, 0.5}, {-0.2, 0.9}});
    double[] t = {0.2, 0.6};
    for (ScoreModel m : models) {
      double h = m.dataType() == DataType.DOUBLE ? 1e-5 : 1e-2;
      INDArray xd = x.castTo(m.dataType());
      INDArray vd = v.castTo(m.dataType());
      INDArray jvp = m.scoreJvp(xd, t, vd).jvp();
      INDArray fd = m.score(xd.add(vd.mul(h)), t).sub(m.score(xd.sub(vd.mul(h)), t)).div(2 * h);
      assertArrayEquals(fd.castTo(DataType.DOUBLE).ravel().toDoubleVector(), jvp.castTo(DataType.DOUBLE).ravel().toDoubleVector(),
          m.dataType() == DataType.DOUBLE ? 1e-6 : 2e-2 * Math.max(1, jvp.amaxNumber().doubleValue()), m.describe());
      assertArrayEquals(m.score(xd, t).ravel().toDoubleVector(), m.scoreJvp(xd, t, vd).score().ravel().toDoubleVector(), 1e-6);
    }
  }

  @Test
  void mlpRowsDoNotDependOnBatchMates() {
    MlpScoreModel m = new MlpScoreModel(NetworkWeights.initialize(MlpConfig.reference(2), 4), Sde.named("ve"));
    INDArray batch = Nd4j.rand(DataType.FLOAT, 256, 2).muli(8).subi(4);
    double[] t = new double[256];
    for (int i = 0; i < t.length; i++) t[i] = (i + 1) / 257.0;
    INDArray all = m.score(batch, t);
    INDArray one = m.score(batch.getRow(100).reshape(1, 2), new double[] {t[100]});
    assertArrayEquals(one.toDoubleVector(), all.getRow(100).toDoubleVector(), 1e-4);
  }

  @Test
  void mlpScoresAreFreshArraysWhateverTheBatchSizesAndThreadsBefore() throws Exception {
    // The forward pass keeps buffers per thread and batch size: results must not alias them or depend on them.
    NetworkWeights w = NetworkWeights.initialize(MlpConfig.reference(2), 5);
    Sde sde = Sde.named("vp");
    INDArray x = Nd4j.rand(DataType.FLOAT, 7, 2).muli(4).subi(2);
    double[] t = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7};
    double[] expected = new MlpScoreModel(w, sde).score(x, t).ravel().toDoubleVector();

    MlpScoreModel m = new MlpScoreModel(w, sde);
    INDArray first = m.score(x, t);
    m.score(Nd4j.rand(DataType.FLOAT, 3, 2), new double[] {0.9, 0.8, 0.7});
    // A larger batch grows the thread's buffers; the first result must survive that too.
    m.score(Nd4j.rand(DataType.FLOAT, 9, 2), new double[] {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9});
    INDArray again = m.score(x.mul(2), t);
    assertArrayEquals(expected, first.ravel().toDoubleVector(), 0.0, "a later call changed an earlier result");
    assertArrayEquals(expected, m.score(x, t).ravel().toDoubleVector(), 0.0);
    double[] onOtherThread = java.util.concurrent.CompletableFuture.supplyAsync(() -> m.score(x, t).ravel().toDoubleVector())
        .get();
    assertArrayEquals(expected, onOtherThread, 0.0);
    assertEquals(false, java.util.Arrays.equals(expected, again.ravel().toDoubleVector()));
  }

  @Test
  void veOutputIsDividedBySigmaAndVpOutputIsNegatedNoiseOverStd() {
    assertEquals(1 / Sde.named("ve").std(0.5), MlpScoreModel.outputScale(Sde.named("ve"), 0.5), 1e-12);
    assertEquals(-1 / Sde.named("vp").std(0.5), MlpScoreModel.outputScale(Sde.named("vp"), 0.5), 1e-12);
  }
}
