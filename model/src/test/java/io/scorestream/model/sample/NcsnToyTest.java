package io.scorestream.model.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.eval.MixtureStats;
import io.scorestream.model.score.AnalyticScoreModel;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.sde.VeSde;
import java.util.List;
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

  /**
   * ALD runs NCSN's ladder on the VE clock of every SDE (y = x / m, sigma = std / m): from the same prior draws it
   * computes the same chains under VE, VP and sub-VP, up to rounding, and those recover the 0.8 weight.
   */
  @Test
  void annealedLangevinDefaultsComputeTheSameChainsUnderEverySde() {
    SamplerPrograms.Limits limits = new SamplerPrograms.Limits(500, 10_000, NCSN.paperLadder().orElseThrow());
    double[][] ref = null;
    for (String name : List.of("ve", "vp", "subvp")) {
      Sde sde = Sde.named(name);
      SamplerProgram p = SamplerPrograms.build(SamplerSpec.fewStep("ald", null), sde, limits);
      assertEquals(new SamplerProgram.AnnealedLangevin(20, 1, 10, 100, 0.1, true, true), p, name);
      // The prior's own scale differs (VE: N(0, 50^2); VP: N(0, 1) = m(1) N(0, 152^2)); start every SDE from the
      // same VE-clock state at sigma_1 = 20, x = m(t_1) y.
      double m1 = sde.meanCoeff(sde.timeForSigma(20));
      org.nd4j.linalg.api.ndarray.INDArray y = uniformStart().mul(2.5);
      double[][] x = Sampling.run(new AnalyticScoreModel(NCSN, sde), p, CHAINS, 7, y.mul(m1), null).samples()
          .toDoubleMatrix();
      assertEquals(0.8, MixtureStats.of(NCSN, x).modeWeights()[0], 0.02, name);
      if (ref == null) {
        ref = x;
      } else {
        for (int i = 0; i < CHAINS; i += 97) {
          assertEquals(ref[i][0], x[i][0], 1e-6, name + " chain " + i);
          assertEquals(ref[i][1], x[i][1], 1e-6, name + " chain " + i);
        }
      }
    }
  }

  @Test
  void aLadderOutsideTheSdesNoiseRangeIsRefusedWithTheRange() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SamplerPrograms.build(
        SamplerSpec.fewStep("ald", null), new VeSde(0.01, 10), new SamplerPrograms.Limits(500, 10_000, new double[] {20, 1})));
    assertTrue(e.getMessage().contains("outside") && e.getMessage().contains("10.0"), e.getMessage());
  }

  private record AnnealedLangevinResult(double weightOf55) {}

  private static AnnealedLangevinResult run(SamplerProgram program) {
    AnalyticScoreModel model = new AnalyticScoreModel(NCSN, new VeSde(0.01, 50));
    Sampling.Result r = Sampling.run(model, program, CHAINS, 7, uniformStart(), null);
    assertTrue(r.failures().isEmpty());
    return new AnnealedLangevinResult(MixtureStats.of(NCSN, r.samples().toDoubleMatrix()).modeWeights()[0]);
  }
}
