package io.scorestream.model.likelihood;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.scorestream.model.score.AnalyticScoreModel;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.sde.Sde;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The probability-flow NLL under the exact gmm8 score agrees with the mixture's own log-density. */
class LikelihoodTest {
  private static final GaussianMixture GMM8 = GaussianMixture.named("gmm8");

  private static double exactNatsPerDim(double[][] x) {
    double sum = 0;
    for (double[] row : x) sum += GMM8.logDensity(row, 1, 0);
    return -sum / x.length / 2;
  }

  @Test
  void exactDivergenceMatchesTheMixtureDensity() {
    double[][] x = GMM8.sample(1000, 31);
    INDArray xs = Nd4j.createFromArray(x);
    Likelihood.Result r = Likelihood.evaluate(new AnalyticScoreModel(GMM8, Sde.named("vp")), xs,
        Likelihood.Divergence.EXACT, 1e-5, 1e-5, 3);
    assertEquals(exactNatsPerDim(x), r.natsPerDim(), 0.02);
    assertEquals(r.natsPerDim() / Math.log(2), r.bitsPerDim(), 1e-12);
    assertEquals(r.bitsPerDim() + 7, r.bitsPerDimEightBit(2), 1e-12);
  }

  @Test
  void hutchinsonEstimateMatchesOnAverage() {
    double[][] x = GMM8.sample(1000, 32);
    Likelihood.Result r = Likelihood.evaluate(new AnalyticScoreModel(GMM8, Sde.named("vp")), Nd4j.createFromArray(x),
        Likelihood.Divergence.RADEMACHER, 1e-5, 1e-5, 4);
    assertEquals(exactNatsPerDim(x), r.natsPerDim(), 0.02);
  }

  @Test
  void veWithLargeSigmaMaxAlsoMatches() {
    double[][] x = GMM8.sample(300, 33);
    Likelihood.Result r = Likelihood.evaluate(new AnalyticScoreModel(GMM8, Sde.named("ve")), Nd4j.createFromArray(x),
        Likelihood.Divergence.EXACT, 1e-5, 1e-5, 5);
    assertEquals(exactNatsPerDim(x), r.natsPerDim(), 0.02);
  }

  @Test
  void startingLaterGivesTheDensityOfTheDataPerturbedToThatTime() {
    // log p_eps under the exact score is the mixture convolved with the SDE kernel at eps: N(m mu, m^2 var + s^2).
    Sde vp = Sde.named("vp");
    double[][] x = GMM8.sample(300, 34);
    for (double eps : new double[] {0.05, 0.2}) {
      Likelihood.Result r = Likelihood.evaluate(new AnalyticScoreModel(GMM8, vp), Nd4j.createFromArray(x),
          Likelihood.Divergence.EXACT, 1e-5, 1e-5, 6, eps);
      double sum = 0;
      for (double[] row : x) sum += GMM8.logDensity(row, vp.meanCoeff(eps), vp.std(eps));
      assertEquals(-sum / x.length / 2, r.natsPerDim(), 0.01, "eps " + eps);
    }
    assertThrows(IllegalArgumentException.class, () -> Likelihood.evaluate(new AnalyticScoreModel(GMM8, vp),
        Nd4j.createFromArray(x), Likelihood.Divergence.EXACT, 1e-5, 1e-5, 6, 0.0));
  }

  @Test
  void exactDivergenceIsRefusedAboveSixteenDimensions() {
    var model = new io.scorestream.model.score.MlpScoreModel(io.scorestream.model.score.NetworkWeights.initialize(
        io.scorestream.model.score.MlpConfig.reference(17), 1), Sde.named("vp"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        Likelihood.evaluate(model, Nd4j.zeros(2, 17), Likelihood.Divergence.EXACT, 1e-3, 1e-3, 1));
    assertEquals("exact divergence needs D <= 16 (got D = 17); use rademacher or gaussian", e.getMessage());
  }
}
