package io.scorestream.model.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.score.AnalyticScoreModel;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * A chain taken out of its batch at a step boundary ({@link ChainBatch#export}) and resumed in another batch with
 * other batch-mates ({@link ChainBatch#resume}) ends bit-identical to the chain left where it was: for every
 * program, at several boundaries (mid-step of the two-call solvers included), against the exact gmm8 score.
 */
class ChainMoveTest {
  private static final Sde VP = Sde.named("vp");
  private static final Sde VE = Sde.named("ve");
  private static final SamplerPrograms.Limits LIMITS = new SamplerPrograms.Limits(100, 10_000);

  static List<Object[]> programs() {
    List<Object[]> out = new ArrayList<>();
    for (Sde sde : List.of(VP, VE)) {
      for (SamplerSpec spec : List.of(SamplerSpec.pc(20), SamplerSpec.pc(12, "reverse-diffusion", "langevin", 2, 0.16),
          SamplerSpec.ode("euler", 15), SamplerSpec.ode("heun", 15), SamplerSpec.rk45(1e-4, 1e-4),
          SamplerSpec.ald(4, 5, 0.05), SamplerSpec.langevin(0.05, 15, 1e-3), SamplerSpec.fewStep("ddim", 12),
          SamplerSpec.fewStep("ddim", 12).withFewStep(1.0, null, null), SamplerSpec.fewStep("dpmpp-2m", 12),
          SamplerSpec.fewStep("dpmpp-2m-sde", 12), SamplerSpec.fewStep("edm", 10).withFewStep(null, null, 20.0))) {
        out.add(new Object[] {sde.describe() + " " + (spec.kind() + "/" + spec.method() + "/" + spec.eta()
            + "/" + spec.churn()), sde, SamplerPrograms.build(spec, sde, LIMITS)});
      }
    }
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("programs")
  void aMovedChainEndsBitIdenticalToOneLeftInPlace(String name, Sde sde, SamplerProgram program) {
    ScoreModel m = new AnalyticScoreModel(GaussianMixture.named("gmm8"), sde);
    RowKeys keys = RowKeys.of(17, 0, 6);
    Map<Long, double[]> unmoved = runToEnd(m, keys, program, -1);
    for (int moveAfter : new int[] {0, 1, 3, 7}) {
      Map<Long, double[]> moved = runToEnd(m, keys, program, moveAfter);
      assertEquals(unmoved.keySet(), moved.keySet(), name);
      for (long tag : unmoved.keySet()) {
        assertArrayEquals(unmoved.get(tag), moved.get(tag), 0.0, name + ", moved after " + moveAfter + " ticks");
      }
    }
  }

  /**
   * Runs the chains in a batch with a Heun ODE batch-mate; after moveAfter ticks (if >= 0) chains 1, 3 and 4 move to
   * a second batch whose batch-mates run another program, and both batches run to the end.
   */
  private static Map<Long, double[]> runToEnd(ScoreModel m, RowKeys keys, SamplerProgram program, int moveAfter) {
    ChainBatch a = new ChainBatch(m);
    a.addFromPrior(keys, program, 0);
    RowKeys mateKeys = RowKeys.of(99, 0, 2);
    a.addFromPrior(mateKeys, SamplerProgram.ProbabilityFlow.rk45(1e-3, 1e-3), 100);
    ChainBatch b = new ChainBatch(m);
    b.addFromPrior(mateKeys, SamplerProgram.PredictorCorrector.defaults(m.sde(), 9), 200);
    assertEquals(2, b.size());
    Map<Long, double[]> out = new HashMap<>();
    for (int tick = 0; a.size() + b.size() > 0; tick++) {
      if (tick == moveAfter) {
        Map<Long, ChainBatch.ChainState> states = a.export(tag -> tag == 1 || tag == 3 || tag == 4);
        assertEquals(List.of(1L, 3L, 4L), List.copyOf(states.keySet()));
        long[] chains = {1, 3, 4};
        for (int i = 0; i < 3; i++) {
          RowKeys k = new RowKeys(new long[] {17}, new long[] {chains[i]});
          b.resume(k, program, 10 + chains[i], Conditioning.NONE, List.of(states.get(chains[i])));
        }
      }
      a.tick();
      b.tick();
      // Tags: the chains 0-5 where they started, 10 + chain where they moved; batch-mates 100 and up.
      for (ChainBatch.Finished f : a.retire()) if (f.tag() < 100) out.put(f.tag() % 10, f.x());
      for (ChainBatch.Finished f : b.retire()) if (f.tag() < 100) out.put(f.tag() % 10, f.x());
    }
    return out;
  }

  @Test
  void registersMoveOnlyWhenTheChainUsesThem() {
    ScoreModel m = new AnalyticScoreModel(GaussianMixture.named("gmm8"), VP);
    ChainBatch batch = new ChainBatch(m);
    batch.addFromPrior(RowKeys.of(1, 0, 1), SamplerProgram.PredictorCorrector.defaults(VP, 10), 0);
    batch.addFromPrior(RowKeys.of(1, 1, 1), SamplerProgram.FewStep.of(SamplerProgram.Solver.DPMPP_2M, 10), 1);
    for (int i = 0; i < 3; i++) batch.tick();
    Map<Long, ChainBatch.ChainState> states = batch.export(tag -> true);
    assertNull(states.get(0L).registers(), "a PC chain never stores a register");
    assertNotNull(states.get(1L).registers(), "DPM-Solver++(2M) keeps its previous denoiser");
    assertEquals(2 * 2, states.get(1L).registers().length, "in K_0 and K_1 only: the other five are not sent");
    assertEquals(0, batch.size());
  }

  @Test
  void aStateOfAnotherProgramOrSizeIsRefused() {
    ScoreModel m = new AnalyticScoreModel(GaussianMixture.named("gmm8"), VP);
    ChainBatch a = new ChainBatch(m);
    a.addFromPrior(RowKeys.of(1, 0, 1), SamplerProgram.FewStep.of(SamplerProgram.Solver.DDIM, 10), 0);
    a.tick();
    ChainBatch.ChainState ddim = a.export(tag -> true).get(0L);
    ChainBatch b = new ChainBatch(m);
    RowKeys k = RowKeys.of(1, 0, 1);
    assertThrows(IllegalArgumentException.class,
        () -> b.resume(k, SamplerProgram.PredictorCorrector.defaults(VP, 10), 0, Conditioning.NONE, List.of(ddim)));
    ChainBatch.ChainState wrongSize = new ChainBatch.ChainState(new double[3], null, ddim.cursor());
    assertThrows(IllegalArgumentException.class, () -> b.resume(k, SamplerProgram.FewStep.of(
        SamplerProgram.Solver.DDIM, 10), 0, Conditioning.NONE, List.of(wrongSize)));
    assertEquals(0, b.size(), "a refused state adds no row");
  }
}
