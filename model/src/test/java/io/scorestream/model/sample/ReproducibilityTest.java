package io.scorestream.model.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.score.AnalyticScoreModel;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.score.MlpConfig;
import io.scorestream.model.score.MlpScoreModel;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** A chain's result does not depend on its batch-mates: the property continuous batching rests on. */
class ReproducibilityTest {
  private static final Sde VP = Sde.named("vp");

  private static double[] chainAlone(ScoreModel m, SamplerProgram p, long seed, int chain) {
    RowKeys k = new RowKeys(new long[] {seed}, new long[] {chain});
    ChainBatch b = new ChainBatch(m);
    b.add(ChainBatch.priorStates(m.sde(), k, m.dim(), m.dataType()), k, p, 0);
    while (b.size() > 0) {
      b.tick();
      List<ChainBatch.Finished> f = b.retire();
      if (!f.isEmpty()) return f.get(0).x();
    }
    throw new AssertionError("no result");
  }

  @Test
  void pcChainIsBitIdenticalAloneAndInABatchOf1024() {
    ScoreModel m = new AnalyticScoreModel(GaussianMixture.named("gmm8"), VP);
    SamplerProgram p = new SamplerProgram.PredictorCorrector(40, Predictor.EULER_MARUYAMA, Corrector.LANGEVIN, 1, 0.16, true);
    INDArray batch = Sampling.run(m, p, 1024, 5, null, null).samples();
    assertArrayEquals(chainAlone(m, p, 5, 700), batch.getRow(700).toDoubleVector(), 0.0);
  }

  @Test
  void odeChainAgreesAloneAndInABatchWithinOneInTenThousand() {
    // A briefly trained network: an untrained one sends ODE paths to |x| ~ 100, beyond float32's 1e-4 resolution.
    io.scorestream.model.train.ScoreTrainer trainer = new io.scorestream.model.train.ScoreTrainer(
        NetworkWeights.initialize(MlpConfig.reference(2), 3), VP,
        io.scorestream.model.train.TrainConfig.defaults(io.scorestream.model.train.Objective.DSM, 3).withBatchSize(128),
        new io.scorestream.model.data.ToyData("gmm8"));
    for (int i = 0; i < 200; i++) trainer.trainStep();
    ScoreModel mlp = new MlpScoreModel(trainer.emaWeights(), VP);
    ScoreModel exact = new AnalyticScoreModel(GaussianMixture.named("gmm8"), VP);
    for (ScoreModel m : List.of(exact, mlp)) {
      // Tolerances well below the asserted agreement: float32 GEMMs of a 1-row and a 1,024-row batch round
      // differently, which can flip one accept/reject decision and so change a chain's step sequence; both
      // sequences then land within the solver's tolerance of the same solution.
      SamplerProgram p = SamplerProgram.ProbabilityFlow.rk45(1e-6, 1e-6);
      INDArray batch = Sampling.run(m, p, 1024, 9, null, null).samples();
      assertArrayEquals(chainAlone(m, p, 9, 321), batch.getRow(321).toDoubleVector(), 1e-4, m.describe());
    }
  }

  @Test
  void chainsOfDifferentProgramsShareOneNetworkCallPerTick() {
    ScoreModel m = new AnalyticScoreModel(GaussianMixture.named("gmm8"), VP);
    SamplerProgram pc = SamplerProgram.PredictorCorrector.defaults(VP, 30);
    SamplerProgram ode = new SamplerProgram.ProbabilityFlow(SamplerProgram.OdeMethod.HEUN, 15, 1e-5, 1e-5, true);
    RowKeys a = RowKeys.of(1, 0, 4);
    RowKeys b = RowKeys.of(2, 0, 4);
    ChainBatch batch = new ChainBatch(m);
    batch.add(ChainBatch.priorStates(VP, a, 2, m.dataType()), a, pc, 0);
    for (int i = 0; i < 5; i++) batch.tick();
    batch.add(ChainBatch.priorStates(VP, b, 2, m.dataType()), b, ode, 100);
    ChainBatch.TickReport r = batch.tick();
    assertEquals(8, r.rows());
    assertTrue(r.distinctLevels() >= 2);
    double[] heunAlone = Sampling.run(m, ode, 4, 2, null, null).samples().getRow(2).toDoubleVector();
    double[] pcAlone = Sampling.run(m, pc, 4, 1, null, null).samples().getRow(1).toDoubleVector();
    double[][] mixed = new double[200][];
    while (batch.size() > 0) {
      batch.tick();
      for (ChainBatch.Finished f : batch.retire()) mixed[(int) f.tag()] = f.x();
    }
    assertArrayEquals(pcAlone, mixed[1], 0.0);
    assertArrayEquals(heunAlone, mixed[102], 1e-12);
  }

  @Test
  void aChainThatBlowsUpFailsAloneAndItsBatchMatesFinish() {
    ScoreModel m = new AnalyticScoreModel(GaussianMixture.named("gmm8"), VP);
    ChainBatch batch = new ChainBatch(m);
    INDArray init = Nd4j.createFromArray(new double[][] {{0, 0}, {Double.NaN, 1}, {1, 1}});
    batch.add(init, RowKeys.of(4, 0, 3), SamplerProgram.PredictorCorrector.defaults(VP, 10), 0);
    int ok = 0;
    int failed = 0;
    while (batch.size() > 0) {
      batch.tick();
      for (ChainBatch.Finished f : batch.retire()) {
        if (f.failed()) {
          failed++;
          assertEquals(1, f.tag());
          assertTrue(f.failure().contains("NaN"), f.failure());
        } else {
          ok++;
          assertTrue(Double.isFinite(f.x()[0]) && Double.isFinite(f.x()[1]));
        }
      }
    }
    assertEquals(2, ok);
    assertEquals(1, failed);
  }
}
