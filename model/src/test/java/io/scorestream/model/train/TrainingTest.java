package io.scorestream.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.data.ToyData;
import io.scorestream.model.noise.CounterNoise;
import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.score.MlpConfig;
import io.scorestream.model.score.MlpScoreModel;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.sde.Sde;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class TrainingTest {
  private static final MlpConfig SMALL = new MlpConfig(2, 32, 2, 8, 16.0);

  private static ScoreTrainer fresh(Objective o, String sde) {
    return new ScoreTrainer(NetworkWeights.initialize(SMALL, 1), Sde.named(sde),
        TrainConfig.defaults(o, 5).withBatchSize(64), new ToyData("gmm8"));
  }

  @Test
  void resumingFromACheckpointContinuesTheSameLossTrajectory(@TempDir Path dir) {
    ScoreTrainer straight = fresh(Objective.DSM, "ve");
    double[] expected = new double[20];
    for (int i = 0; i < 20; i++) expected[i] = straight.trainStep();

    ScoreTrainer first = fresh(Objective.DSM, "ve");
    double[] got = new double[20];
    for (int i = 0; i < 10; i++) got[i] = first.trainStep();
    Path written = Checkpoint.of(first, "toy:gmm8").write(dir);
    assertEquals("ckpt-00000010", written.getFileName().toString());
    Checkpoint c = Checkpoint.read(dir);
    assertEquals(10, c.step());
    ScoreTrainer resumed = new ScoreTrainer(c.weights(), c.sde(), c.train(), new ToyData("gmm8"), c.state(), c.step());
    for (int i = 10; i < 20; i++) got[i] = resumed.trainStep();
    assertArrayEquals(expected, got, 0.0);
    assertArrayEquals(straight.emaWeights().get("w1").ravel().toDoubleVector(), resumed.emaWeights().get("w1").ravel().toDoubleVector(), 0.0);
  }

  @Test
  void aCorruptOrIncompleteCheckpointIsRefusedWithItsFileNamed(@TempDir Path dir) throws IOException {
    ScoreTrainer t = fresh(Objective.DSM, "vp");
    t.trainStep();
    Path ckpt = Checkpoint.of(t, "toy:gmm8").write(dir);
    Path weights = ckpt.resolve("weights.bin");
    byte[] bytes = Files.readAllBytes(weights);
    bytes[bytes.length / 2] ^= 0x10;
    Files.write(weights, bytes);
    CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.read(ckpt));
    assertTrue(e.getMessage().contains("weights.bin") && e.getMessage().contains("corrupt"), e.getMessage());

    Files.write(weights, java.util.Arrays.copyOf(bytes, 100));
    e = assertThrows(CheckpointException.class, () -> Checkpoint.read(ckpt));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());

    Files.writeString(ckpt.resolve("checkpoint.json"), "{ not json");
    e = assertThrows(CheckpointException.class, () -> Checkpoint.read(ckpt));
    assertTrue(e.getMessage().contains("checkpoint.json"), e.getMessage());

    e = assertThrows(CheckpointException.class, () -> Checkpoint.read(dir.resolve("nope")));
    assertTrue(e.getMessage().startsWith("no such checkpoint"), e.getMessage());
  }

  @Test
  void aHalfWrittenCheckpointIsNeverPickedAsLatest(@TempDir Path dir) throws IOException {
    ScoreTrainer t = fresh(Objective.DSM, "vp");
    t.trainStep();
    Checkpoint.of(t, "toy:gmm8").write(dir);
    Files.createDirectories(dir.resolve(".tmp-ckpt-123"));
    Files.createDirectories(dir.resolve("ckpt-99999999")); // no description: incomplete
    assertEquals("ckpt-00000001", Checkpoint.latest(dir).orElseThrow().getFileName().toString());
  }

  @Test
  void pruningKeepsTheNewestCompleteCheckpointsAndNothingElseIsTouched(@TempDir Path dir) throws IOException {
    ScoreTrainer t = fresh(Objective.DSM, "vp");
    for (int i = 0; i < 4; i++) {
      t.trainStep();
      Checkpoint.of(t, "toy:gmm8").write(dir);
    }
    Files.createDirectories(dir.resolve(".tmp-ckpt-123"));
    Files.createDirectories(dir.resolve("ckpt-00000000")); // no description: not a checkpoint, left alone
    assertEquals(List.of(dir.resolve("ckpt-00000001"), dir.resolve("ckpt-00000002")), Checkpoint.prune(dir, 2));
    try (var left = Files.list(dir)) {
      assertEquals(List.of(".tmp-ckpt-123", "ckpt-00000000", "ckpt-00000003", "ckpt-00000004"),
          left.map(p -> p.getFileName().toString()).sorted().toList());
    }
    assertEquals(4, Checkpoint.read(dir).step(), "the newest still reads");
    assertEquals(List.of(), Checkpoint.prune(dir, 0), "keep 0 keeps all");
  }

  /** The SameDiff loss graph computes the same function as the INDArray sampling path. */
  @Test
  void graphLossesAgreeWithTheSamplingNetwork() {
    Sde sde = Sde.named("vp");
    NetworkWeights w = NetworkWeights.initialize(SMALL, 9);
    MlpScoreModel net = new MlpScoreModel(w, sde);
    int b = 16;
    RowKeys keys = RowKeys.of(3, 0, b);
    INDArray x = CounterNoise.normal(keys, 0, 1, 2, DataType.FLOAT);
    INDArray v = CounterNoise.normal(keys, 0, 2, 2, DataType.FLOAT);
    double[] t = new double[b];
    for (int i = 0; i < b; i++) t[i] = 0.05 + 0.9 * i / b;
    Map<String, INDArray> feed = new java.util.HashMap<>();
    feed.put("x", x);
    feed.put("cond", Sde.column(t, DataType.FLOAT, sde::networkCondition));
    feed.put("scale", Sde.column(t, DataType.FLOAT, tt -> MlpScoreModel.outputScale(sde, tt)));
    feed.put("weight", Nd4j.ones(DataType.FLOAT, b, 1));

    INDArray s = net.score(x, t);
    INDArray jv = net.scoreJvp(x, t, v).jvp();
    double sqNorm = s.mul(s).sum(1).meanNumber().doubleValue();

    // Sliced, variance-reduced: E[v^T J v + 1/2 ||s||^2].
    MlpGraph ssm = new MlpGraph(w, Objective.SSM, true);
    Map<String, INDArray> f2 = new java.util.HashMap<>(feed);
    f2.put("v", v);
    double expectedSsm = v.mul(jv).sum(1).meanNumber().doubleValue() + 0.5 * sqNorm;
    double gotSsm = ssm.sameDiff().output(f2, MlpGraph.LOSS).get(MlpGraph.LOSS).getDouble(0);
    assertEquals(expectedSsm, gotSsm, 1e-3 * Math.max(1, Math.abs(expectedSsm)));

    // Exact: E[tr(J) + 1/2 ||s||^2] with the trace from the basis vectors.
    double trace = 0;
    for (int i = 0; i < 2; i++) {
      INDArray e = Nd4j.zeros(DataType.FLOAT, b, 2);
      e.getColumn(i).assign(1);
      trace += net.scoreJvp(x, t, e).jvp().getColumn(i).meanNumber().doubleValue();
    }
    MlpGraph esm = new MlpGraph(w, Objective.ESM, true);
    double gotEsm = esm.sameDiff().output(feed, MlpGraph.LOSS).get(MlpGraph.LOSS).getDouble(0);
    assertEquals(trace + 0.5 * sqNorm, gotEsm, 1e-3 * Math.max(1, Math.abs(trace)));

    // Regression onto a zero target: 1/2 ||s||^2.
    MlpGraph dsm = new MlpGraph(w, Objective.DSM, true);
    Map<String, INDArray> f3 = new java.util.HashMap<>(feed);
    f3.put("target", Nd4j.zeros(DataType.FLOAT, b, 2));
    assertEquals(0.5 * sqNorm, dsm.sameDiff().output(f3, MlpGraph.LOSS).get(MlpGraph.LOSS).getDouble(0), 1e-3 * sqNorm);
  }

  @Test
  void everyObjectiveLowersItsLoss() {
    for (Object[] c : new Object[][] {{Objective.DSM, "ve"}, {Objective.SMLD, "ve"}, {Objective.DDPM, "vp"},
        {Objective.SSM, "subvp"}, {Objective.ESM, "vp"}}) {
      ScoreTrainer t = fresh((Objective) c[0], (String) c[1]);
      double before = 0;
      for (long n = 1000; n < 1008; n++) before += t.lossAt(n);
      for (int i = 0; i < 150; i++) t.trainStep();
      double after = 0;
      for (long n = 1000; n < 1008; n++) after += t.lossAt(n);
      assertTrue(after < before, c[0] + ": held-out loss " + before / 8 + " -> " + after / 8);
    }
  }

  @Test
  void mismatchedObjectivesAndHighDimensionalExactMatchingAreRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fresh(Objective.SMLD, "vp"));
    assertTrue(e.getMessage().contains("--sde ve"));
    e = assertThrows(IllegalArgumentException.class, () -> fresh(Objective.DDPM, "ve"));
    assertTrue(e.getMessage().contains("--sde vp"));
    e = assertThrows(IllegalArgumentException.class,
        () -> new MlpGraph(NetworkWeights.initialize(new MlpConfig(17, 8, 1, 4, 16), 1), Objective.ESM, true));
    assertTrue(e.getMessage().contains("D <= 16"), e.getMessage());
  }
}
