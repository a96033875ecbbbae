package io.scorestream.model.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.eval.MixtureStats;
import io.scorestream.model.score.AnalyticScoreModel;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.sde.VeSde;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The toy experiment of Song and Ermon 2019, section 3.2 / figure 3: on 0.8 N((5,5), I) + 0.2 N((-5,-5), I), chains
 * started uniformly in [-8, 8]^2 recover the 0.8 / 0.2 weights with annealed Langevin dynamics, and do not with plain
 * Langevin dynamics (which cannot move mass between the separated modes).
 */
class NcsnToyTest {
  private static final GaussianMixture NCSN = GaussianMixture.named("ncsn-gmm");
  private static final int CHAINS = 10_000;

  private static org.nd4j.linalg.api.ndarray.INDArray uniformStart() {
    SplittableRandom rng = new SplittableRandom(11);
    double[][] x = new double[CHAINS][2];
    for (double[] row : x) {
      row[0] = -8 + 16 * rng.nextDouble();
      row[1] = -8 + 16 * rng.nextDouble();
    }
    return Nd4j.createFromArray(x);
  }

  @Test
  void annealedLangevinRecoversTheModeWeights() {
    AnnealedLangevinResult r = run(new SamplerProgram.AnnealedLangevin(20, 1, 10, 100, 0.1, false, false));
    assertEquals(0.8, r.weightOf55, 0.02, "weight of the (5,5) mode under annealed Langevin");
  }

  @Test
  void plainLangevinMissesTheModeWeights() {
    // The same start, the same 1,000 steps at a fixed step on the (barely perturbed) data score.
    AnnealedLangevinResult r = run(new SamplerProgram.Langevin(0.0, 1000, 0.1, false));
    assertTrue(Math.abs(r.weightOf55 - 0.8) > 0.1, "plain Langevin got " + r.weightOf55);
  }

  private record AnnealedLangevinResult(double weightOf55) {}

  private static AnnealedLangevinResult run(SamplerProgram program) {
    AnalyticScoreModel model = new AnalyticScoreModel(NCSN, new VeSde(0.01, 50));
    Sampling.Result r = Sampling.run(model, program, CHAINS, 7, uniformStart(), null);
    assertTrue(r.failures().isEmpty());
    return new AnnealedLangevinResult(MixtureStats.of(NCSN, r.samples().toDoubleMatrix()).modeWeights()[0]);
  }
}
