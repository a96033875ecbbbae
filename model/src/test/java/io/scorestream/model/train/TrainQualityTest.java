package io.scorestream.model.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.data.ToyData;
import io.scorestream.model.eval.MixtureStats;
import io.scorestream.model.likelihood.Likelihood;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.Sampling;
import io.scorestream.model.score.AnalyticScoreModel;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.score.MlpConfig;
import io.scorestream.model.score.MlpScoreModel;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.sde.Sde;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The reference MLP trained on gmm8 for 3,000 steps (a couple of minutes on 2 cores) learns the mixture: sampled
 * mode weights within 0.03 of 1/8 and an NLL within 0.15 nats/dim of the exact score's on the same points.
 */
class TrainQualityTest {
  @Test
  void trainedMlpMatchesTheMixture() {
    Sde sde = Sde.named("vp");
    GaussianMixture gmm8 = GaussianMixture.named("gmm8");
    ScoreTrainer trainer = new ScoreTrainer(NetworkWeights.initialize(MlpConfig.reference(2), 0), sde,
        TrainConfig.defaults(Objective.DSM, 0), new ToyData("gmm8"));
    for (int i = 0; i < 3000; i++) trainer.trainStep();
    MlpScoreModel model = new MlpScoreModel(trainer.emaWeights(), sde);

    Sampling.Result r = Sampling.run(model, SamplerProgram.PredictorCorrector.defaults(sde, 500), 10_000, 1, null, null);
    MixtureStats stats = MixtureStats.of(gmm8, r.samples().toDoubleMatrix());
    double[] eighth = new double[8];
    Arrays.fill(eighth, 1.0 / 8);
    assertTrue(stats.maxWeightError(eighth) <= 0.03, () -> "mode weights " + Arrays.toString(stats.modeWeights()));

    INDArray points = Nd4j.createFromArray(gmm8.sample(500, 99));
    double learned = Likelihood.evaluate(model, points, Likelihood.Divergence.EXACT, 1e-5, 1e-5, 2).natsPerDim();
    double exact = Likelihood.evaluate(new AnalyticScoreModel(gmm8, sde), points, Likelihood.Divergence.EXACT,
        1e-5, 1e-5, 2).natsPerDim();
    System.out.printf("trained gmm8: mode weights %s, nll %.4f vs analytic %.4f nats/dim%n",
        Arrays.toString(stats.modeWeights()), learned, exact);
    assertTrue(Math.abs(learned - exact) <= 0.15, () -> "nll " + learned + " vs analytic " + exact);
  }
}
