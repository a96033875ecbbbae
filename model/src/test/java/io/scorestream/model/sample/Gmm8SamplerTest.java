package io.scorestream.model.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.eval.MixtureStats;
import io.scorestream.model.score.AnalyticScoreModel;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.sde.Sde;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every SDE x every sampler against the exact score of gmm8 (eight N(mu_k, 0.25 I) at radius 4): the samples must
 * put 1/8 +- 0.02 of their mass in each mode and have each mode's std within 0.05 of 0.5.
 */
class Gmm8SamplerTest {
  private static final GaussianMixture GMM8 = GaussianMixture.named("gmm8");
  private static final int CHAINS = 10_000;
  private static final int STEPS = 1000;

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (String sde : List.of("ve", "vp", "subvp")) {
      for (Predictor p : List.of(Predictor.EULER_MARUYAMA, Predictor.REVERSE_DIFFUSION, Predictor.ANCESTRAL)) {
        out.add(Arguments.of(sde, new SamplerProgram.PredictorCorrector(STEPS, p, Corrector.NONE, 0, 0.16, true)));
        out.add(Arguments.of(sde, new SamplerProgram.PredictorCorrector(STEPS, p, Corrector.LANGEVIN, 1, 0.16, true)));
      }
      out.add(Arguments.of(sde, new SamplerProgram.PredictorCorrector(STEPS, Predictor.NONE, Corrector.LANGEVIN, 2, 0.16, true)));
      out.add(Arguments.of(sde, SamplerProgram.ProbabilityFlow.rk45(1e-5, 1e-5)));
      out.add(Arguments.of(sde, SamplerProgram.AnnealedLangevin.defaults(Sde.named(sde), 10, 100)));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void modesHaveTheRightWeightAndWidth(String sdeName, SamplerProgram program) {
    Sde sde = Sde.named(sdeName);
    Sampling.Result r = Sampling.run(new AnalyticScoreModel(GMM8, sde), program, CHAINS, 2024, null, null);
    assertTrue(r.failures().isEmpty(), () -> "failed chains: " + r.failures());
    MixtureStats stats = MixtureStats.of(GMM8, r.samples().toDoubleMatrix());
    double[] eighth = new double[8];
    Arrays.fill(eighth, 1.0 / 8);
    double[] half = new double[8];
    Arrays.fill(half, 0.5);
    assertTrue(stats.maxWeightError(eighth) <= 0.02, () -> "mode weights " + Arrays.toString(stats.modeWeights()));
    assertTrue(stats.maxStdError(half) <= 0.05, () -> "mode stds " + Arrays.toString(stats.modeStds()));
    assertEquals(CHAINS, r.samples().size(0));
  }
}
