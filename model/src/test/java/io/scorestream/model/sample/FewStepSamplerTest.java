package io.scorestream.model.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.eval.MixtureStats;
import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.score.AnalyticScoreModel;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Schedule;
import io.scorestream.model.sde.Sde;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DDIM, DPM-Solver++(2M), its SDE variant and EDM's Heun sampler against the exact score of gmm8, on every SDE:
 * at the stated steps (network calls = steps x calls per step + 1 denoising call) the samples put 1/8 +- 0.02 of
 * their mass in each mode with each mode's std within 0.05 of 0.5; the deterministic solvers converge to the RK45
 * solution of the probability-flow ODE at their order; a chain's path does not depend on its batch-mates.
 */
class FewStepSamplerTest {
  private static final GaussianMixture GMM8 = GaussianMixture.named("gmm8");
  private static final SamplerPrograms.Limits LIMITS = new SamplerPrograms.Limits(500, 10_000);

  private static SamplerProgram build(String kind, Integer steps, Double eta, Double churn, Sde sde) {
    return SamplerPrograms.build(SamplerSpec.fewStep(kind, steps).withFewStep(eta, null, churn), sde, LIMITS);
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (String sde : List.of("ve", "vp", "subvp")) {
      // The solvers' defaults: ddim 50 steps (51 calls), dpmpp-2m 20 (21), dpmpp-2m-sde 50 (51), edm 18 (37).
      for (String kind : List.of("ddim", "dpmpp-2m", "dpmpp-2m-sde", "edm")) {
        out.add(Arguments.of(sde, kind, null, null, null));
      }
      out.add(Arguments.of(sde, "ddim", 100, 1.0, null));   // eta = 1, DDPM's ancestral sampler: 101 calls
      out.add(Arguments.of(sde, "edm", 40, null, 10.0));    // churn 10: 81 calls
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1} steps={2} eta={3} churn={4}")
  @MethodSource("cases")
  void modesHaveTheRightWeightAndWidth(String sdeName, String kind, Integer steps, Double eta, Double churn) {
    Sde sde = Sde.named(sdeName);
    SamplerProgram program = build(kind, steps, eta, churn, sde);
    Sampling.Result r = Sampling.run(new AnalyticScoreModel(GMM8, sde), program, 10_000, 2024, null, null);
    assertTrue(r.failures().isEmpty(), () -> "failed chains: " + r.failures());
    assertEquals(program.nominalCalls(), r.networkCalls(), "calls of " + program.describe());
    MixtureStats stats = MixtureStats.of(GMM8, r.samples().toDoubleMatrix());
    double[] eighth = new double[8];
    Arrays.fill(eighth, 1.0 / 8);
    double[] half = new double[8];
    Arrays.fill(half, 0.5);
    assertTrue(stats.maxWeightError(eighth) <= 0.02, () -> program.describe() + ": weights "
        + Arrays.toString(stats.modeWeights()));
    assertTrue(stats.maxStdError(half) <= 0.05, () -> program.describe() + ": stds " + Arrays.toString(stats.modeStds()));
  }

  /** The largest distance between a solver's chains and the RK45 solution (rtol = atol = 1e-7) from the same priors. */
  private static double distanceToRk45(Sde sde, String kind, int steps) {
    ScoreModel m = new AnalyticScoreModel(GMM8, sde);
    int n = 200;
    double[][] ref = Sampling.run(m, SamplerProgram.ProbabilityFlow.rk45(1e-7, 1e-7), n, 3, null, null)
        .samples().toDoubleMatrix();
    SamplerProgram p = SamplerPrograms.build(SamplerSpec.fewStep(kind, steps).withDenoise(false), sde, LIMITS);
    double[][] x = Sampling.run(m, p, n, 3, null, null).samples().toDoubleMatrix();
    double worst = 0;
    for (int i = 0; i < n; i++) worst = Math.max(worst, Math.hypot(x[i][0] - ref[i][0], x[i][1] - ref[i][1]));
    return worst;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"ve", "vp", "subvp"})
  void deterministicSolversConvergeToTheRk45SolutionAtTheirOrder(String sdeName) {
    Sde sde = Sde.named(sdeName);
    // Measured (max over 1,000 chains, 1,000 steps): ddim 5.5e-3 .. 9.5e-3, dpmpp-2m 9e-5 .. 1.9e-4, edm 2e-5 .. 4.3e-5.
    double ddim = distanceToRk45(sde, "ddim", 1000);
    double dpm = distanceToRk45(sde, "dpmpp-2m", 1000);
    double edm = distanceToRk45(sde, "edm", 1000);
    assertTrue(ddim < 0.02, "ddim(eta=0) at 1000 steps is " + ddim + " from RK45");
    assertTrue(dpm < 5e-4, "dpmpp-2m at 1000 steps is " + dpm + " from RK45");
    assertTrue(edm < 1e-4, "edm at 1000 steps is " + edm + " from RK45");
    // Ten times the steps: DDIM (first order) ten times closer, the second-order solvers about a hundred.
    double ddim100 = distanceToRk45(sde, "ddim", 100);
    double dpm100 = distanceToRk45(sde, "dpmpp-2m", 100);
    double edm100 = distanceToRk45(sde, "edm", 100);
    assertTrue(ddim100 / ddim > 7 && ddim100 / ddim < 14, "ddim order: " + ddim100 + " -> " + ddim);
    assertTrue(dpm100 / dpm > 50, "dpmpp-2m order: " + dpm100 + " -> " + dpm);
    assertTrue(edm100 / edm > 50, "edm order: " + edm100 + " -> " + edm);
  }

  @Test
  void ddimWithEtaOneIsTheAncestralSampler() {
    // Song, Meng and Ermon 2021, section 4.1: eta = 1 is the posterior step q(x_t' | x_t, x0-hat), which the
    // ancestral predictor takes (for VP, Ho et al. 2020, eq. 7); both draw the same per-chain noise, so the chains
    // agree up to rounding on every SDE.
    for (String name : List.of("ve", "vp", "subvp")) {
      Sde sde = Sde.named(name);
      ScoreModel m = new AnalyticScoreModel(GMM8, sde);
      double[][] ddim = Sampling.run(m, build("ddim", 40, 1.0, null, sde), 500, 11, null, null).samples()
          .toDoubleMatrix();
      double[][] ancestral = Sampling.run(m, new SamplerProgram.PredictorCorrector(40, Predictor.ANCESTRAL,
          Corrector.NONE, 0, 0.16, true), 500, 11, null, null).samples().toDoubleMatrix();
      for (int i = 0; i < ddim.length; i++) assertArrayEquals(ancestral[i], ddim[i], 1e-9, name + " chain " + i);
    }
  }

  @Test
  void chainsAreTheSameAloneAndInAMixedBatch() {
    Sde vp = Sde.named("vp");
    ScoreModel m = new AnalyticScoreModel(GMM8, vp);
    List<SamplerProgram> programs = List.of(
        build("ddim", 30, 0.7, null, vp), build("dpmpp-2m", 12, null, null, vp),
        build("dpmpp-2m-sde", 25, null, null, vp), build("edm", 10, null, 20.0, vp),
        SamplerProgram.PredictorCorrector.defaults(vp, 40));
    ChainBatch batch = new ChainBatch(m);
    for (int k = 0; k < programs.size(); k++) {
      RowKeys keys = RowKeys.of(50 + k, 0, 3);
      batch.addFromPrior(keys, programs.get(k), 100L * k);
      batch.tick();   // every program joins the others mid-way
    }
    double[][] mixed = new double[500][];
    while (batch.size() > 0) {
      batch.tick();
      for (ChainBatch.Finished f : batch.retire()) mixed[(int) f.tag()] = f.x();
    }
    for (int k = 0; k < programs.size(); k++) {
      double[][] alone = Sampling.run(m, programs.get(k), 3, 50 + k, null, null).samples().toDoubleMatrix();
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(alone[i], mixed[100 * k + i], 0.0, programs.get(k).describe() + " chain " + i);
      }
    }
  }

  @Test
  void schedulesRunFromOneToEpsThroughTheirOwnInteriors() {
    for (Sde sde : List.of(Sde.named("ve"), Sde.named("vp"), Sde.named("subvp"))) {
      for (Schedule s : Schedule.values()) {
        assertEquals(1.0, s.time(sde, 0, 10));
        assertEquals(sde.tEps(), s.time(sde, 10, 10));
        for (int i = 0; i < 10; i++) assertTrue(s.time(sde, i + 1, 10) < s.time(sde, i, 10), s + " " + sde);
      }
      double hi = sde.sigma(1.0);
      double lo = sde.sigma(sde.tEps());
      // Karras: sigma^(1/7) uniform; log-SNR: log sigma uniform; uniform: t itself.
      double k = Math.pow(Math.pow(hi, 1 / 7.0) + 0.3 * (Math.pow(lo, 1 / 7.0) - Math.pow(hi, 1 / 7.0)), 7);
      assertEquals(k, sde.sigma(Schedule.KARRAS.time(sde, 3, 10)), 1e-9 * k, sde.describe());
      double g = Math.exp(Math.log(hi) + 0.3 * (Math.log(lo) - Math.log(hi)));
      assertEquals(g, sde.sigma(Schedule.LOGSNR.time(sde, 3, 10)), 1e-9 * g, sde.describe());
      assertEquals(1 + 0.3 * (sde.tEps() - 1), Schedule.UNIFORM.time(sde, 3, 10), 1e-15);
    }
  }

  @Test
  void badFewStepParametersAreRefusedByName() {
    Sde ve = Sde.named("ve");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> build("ddim", 10, 1.5, null, ve))
        .getMessage().contains("eta"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> build("edm", 10, 0.5, null, ve))
        .getMessage().contains("eta applies to ddim"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> build("ddim", 10, null, 1.0, ve))
        .getMessage().contains("churn applies to edm"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> build("edm", 10, null, -1.0, ve))
        .getMessage().contains("churn"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> build("ddim", 0, null, null, ve))
        .getMessage().contains("steps"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> SamplerPrograms.build(
        SamplerSpec.fewStep("ddim", 10).withFewStep(null, "cosine", null), ve, LIMITS)).getMessage().contains("schedule"));
  }
}
