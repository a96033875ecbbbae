package io.scorestream.actors;

import static io.scorestream.actors.TestNode.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.DispatcherSelector;
import akka.stream.javadsl.Source;
import io.scorestream.config.ScoreStreamSettings;
import io.scorestream.config.TrainerSettings;
import io.scorestream.model.data.DataSource;
import io.scorestream.model.data.DataSpecs;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.score.MlpConfig;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer: backpressured batches, publication every K steps, checkpoints every M, resume, live swaps. */
class TrainerTest {
  private static final ActorTestKit KIT = TestNode.kit();
  private static final Sde VP = Sde.named("vp");
  private static final DataSource GMM8 = DataSpecs.parse("toy:gmm8", "standard");

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  private static TrainerSettings trainer(Path dir, int publishEvery, int checkpointEvery, long maxSteps) {
    return TestNode.settings("scorestream.trainer.learning-rate = 1e-3").trainer().withCheckpointDir(dir)
        .withSteps(32, publishEvery, checkpointEvery, maxSteps);
  }

  private static NetworkWeights init(long seed) {
    return NetworkWeights.initialize(MlpConfig.reference(2), seed);
  }

  private static ActorRef<Trainer.Command> spawn(TrainerSettings s, NetworkWeights init,
                                                 ActorRef<ModelRegistry.Command> registry,
                                                 Trainer.BatchSource batches) {
    return KIT.spawn(Trainer.create(s, init, VP, registry, GMM8, batches), "trainer-" + COUNT.incrementAndGet(),
        DispatcherSelector.fromConfig(ScoreStreamSettings.TRAINER_DISPATCHER));
  }

  private static final AtomicLong COUNT = new AtomicLong();

  private static float[] flat(org.nd4j.linalg.api.ndarray.INDArray x) {
    return x.dup('c').reshape(x.length()).toFloatVector();
  }

  private static Trainer.BatchSource plain() {
    return (start, config) -> TrainingBatches.from(GMM8, config.seed(), config.batchSize(), start);
  }

  private static Trainer.Status status(ActorRef<Trainer.Command> t) {
    TestProbe<Trainer.Status> p = KIT.createTestProbe();
    t.tell(new Trainer.GetStatus(p.ref()));
    return p.receiveMessage();
  }

  private static Trainer.Status awaitFinished(ActorRef<Trainer.Command> t) throws InterruptedException {
    for (int i = 0; i < 100_000; i++) {
      Trainer.Status s = status(t);
      if (s.finished()) return s;
      Thread.sleep(10);
    }
    throw new AssertionError("the trainer never finished");
  }

  @Test
  void publishesEveryKStepsCheckpointsEveryMAndResumesExactly(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    ActorRef<ModelRegistry.Command> registry = KIT.spawn(ModelRegistry.create(TestNode.settings("").registry()));
    TestProbe<ModelRegistry.ModelVersion> versions = KIT.createTestProbe();
    registry.tell(new ModelRegistry.Subscribe(versions.ref()));

    ActorRef<Trainer.Command> first = spawn(trainer(dir, 2, 3, 6), init(0), registry, plain());
    for (long step : new long[] {2, 4, 6}) assertEquals(step, versions.receiveMessage().trainStep());
    Trainer.Status s1 = awaitFinished(first);
    assertEquals(6, s1.step());
    assertTrue(Files.isDirectory(dir.resolve("ckpt-00000003")) && Files.isDirectory(dir.resolve("ckpt-00000006")));
    KIT.stop(first);

    // A new trainer over the same directory resumes at step 6: it republishes that checkpoint, then goes on.
    ActorRef<Trainer.Command> second = spawn(trainer(dir, 2, 3, 8), init(99), registry, plain());
    ModelRegistry.ModelVersion resumed = versions.receiveMessage();
    assertEquals(6, resumed.trainStep());
    assertEquals(4, resumed.version());
    assertEquals(8, versions.receiveMessage().trainStep());
    Trainer.Status s2 = awaitFinished(second);
    assertEquals(6, s2.startStep());
    assertEquals(8, s2.step());
    KIT.stop(second);

    // Resuming is exact: an uninterrupted run to step 8 has the same EMA weights.
    Path straight = tmp.resolve("straight");
    ActorRef<Trainer.Command> third = spawn(trainer(straight, 100, 100, 8), init(0), registry, plain());
    awaitFinished(third);
    KIT.stop(third);
    NetworkWeights a = Checkpoint.read(dir).ema();
    NetworkWeights b = Checkpoint.read(straight).ema();
    assertEquals(8, Checkpoint.read(dir).step());
    for (String name : NetworkWeights.names(a.config())) {
      assertArrayEquals(flat(b.get(name)), flat(a.get(name)), name);
    }
  }

  @Test
  void aCleanStopCheckpointsTheStepsSinceTheLastCheckpoint(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    ActorRef<ModelRegistry.Command> registry = KIT.spawn(ModelRegistry.create(TestNode.settings("").registry()));
    // Checkpoints every 1,000 steps and no step limit: only the stop itself can write one within a few steps.
    ActorRef<Trainer.Command> first = spawn(trainer(dir, 1_000, 1_000, 0), init(0), registry, plain());
    for (int i = 0; status(first).step() < 5; i++) {
      if (i > 100_000) throw new AssertionError("the trainer never reached step 5");
      Thread.sleep(10);
    }
    KIT.stop(first);
    Checkpoint written = Checkpoint.read(Checkpoint.latest(dir).orElseThrow(
        () -> new AssertionError("no checkpoint written on stop")));
    assertTrue(written.step() >= 5, "checkpoint at step " + written.step());

    ActorRef<Trainer.Command> second = spawn(trainer(dir, 1_000, 1_000, written.step() + 2), init(99), registry,
        plain());
    Trainer.Status resumed = awaitFinished(second);
    assertEquals(written.step(), resumed.startStep());
    assertEquals(written.step() + 2, resumed.step());
    KIT.stop(second);
  }

  @Test
  void onlyTheNewestKeepCheckpointsStay(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    ActorRef<ModelRegistry.Command> registry = KIT.spawn(ModelRegistry.create(TestNode.settings("").registry()));
    TrainerSettings s = TestNode.settings("scorestream.trainer.keep-checkpoints = 2").trainer().withCheckpointDir(dir)
        .withSteps(32, 100, 1, 5);
    ActorRef<Trainer.Command> t = spawn(s, init(0), registry, plain());
    awaitFinished(t);
    KIT.stop(t);
    try (var left = Files.list(dir)) {
      assertEquals(java.util.List.of("ckpt-00000004", "ckpt-00000005"),
          left.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void aFastSourceIsBackpressuredAndASlowOneIdlesTheTrainerOnly(@TempDir Path tmp) throws Exception {
    ActorRef<ModelRegistry.Command> registry = KIT.spawn(ModelRegistry.create(TestNode.settings("").registry()));
    AtomicLong pulled = new AtomicLong();
    Trainer.BatchSource counting = (start, config) -> TrainingBatches
        .from(GMM8, config.seed(), config.batchSize(), start).map(b -> {
          pulled.incrementAndGet();
          return b;
        });
    ActorRef<Trainer.Command> fast = spawn(trainer(tmp.resolve("fast"), 1000, 0, 0), init(0), registry, counting);
    long bound = 0;
    for (int check = 0; check < 3; check++) {
      long target = 4L * (check + 1);
      Trainer.Status s;
      do {
        s = status(fast);
        Thread.sleep(5);
      } while (s.step() < target);
      long p = pulled.get();
      long after = status(fast).step();
      bound = Math.max(bound, p - after);
    }
    System.out.println("batches pulled ahead of the optimizer: at most " + bound);
    assertTrue(bound <= 20, "batches pulled ahead of the optimizer stay bounded, got " + bound);
    KIT.stop(fast);

    // A source that never delivers leaves the trainer idle; a sampler on the same node is not held up.
    ActorRef<Trainer.Command> idle = spawn(trainer(tmp.resolve("idle"), 1, 0, 0), init(0), registry,
        (start, config) -> Source.<double[][]>never());
    try (TestNode node = TestNode.start(KIT, "scorestream.samplers = [\"cpu:0\"]", TestModels.analytic("vp"))) {
      Result r = await(node.api.generate(new GenerateRequest("free", 4, 1, SamplerSpec.pc(100), 10, null)));
      assertEquals(4, r.count());
    }
    Trainer.Status s = status(idle);
    assertEquals(0, s.step());
    assertFalse(s.finished());
    KIT.stop(idle);
  }

  @Test
  void trainerWeightsArePickedUpMidRunAndNamedInResults(@TempDir Path tmp) throws Exception {
    NetworkWeights w = init(7);
    TestModels.Gate gate = new TestModels.Gate(10);
    InitialModel initial = new InitialModel("mlp seed 7", 0, TestModels.hooked(ModelRegistry.network(w, VP), gate), VP,
        2, w);
    try (TestNode node = TestNode.start(KIT, "scorestream.samplers = [\"cpu:0\"]", initial)) {
      CompletionStage<Result> running = node.api.generate(
          new GenerateRequest("live", 4, 5, SamplerSpec.pc(40), 0, null));
      gate.awaitReached();
      ActorRef<Trainer.Command> t = spawn(trainer(tmp, 2, 0, 4), w, node.refs.registry(), plain());
      awaitFinished(t);
      TestProbe<ModelRegistry.Versions> vs = KIT.createTestProbe();
      node.refs.registry().tell(new ModelRegistry.GetVersions(vs.ref()));
      ModelRegistry.Versions v = vs.receiveMessage();
      assertEquals(3, v.current().orElseThrow().version(), "version 1 served, 2 and 3 published at steps 2 and 4");
      assertEquals(4, v.current().get().trainStep());
      gate.open();
      Result r = await(running);
      // Version 2 was replaced by 3 before the next step boundary, so no chain computed with it.
      assertEquals(List.of(1L, 3L), r.modelVersions());
      assertTrue(TestNode.allFinite(r.samples()));
      Result later = await(node.api.generate(new GenerateRequest("later", 4, 5, SamplerSpec.pc(40), 0, null)));
      assertEquals(List.of(3L), later.modelVersions());
      KIT.stop(t);
    }
  }

  @Test
  void aNodeWithItsTrainerServesTheVersionsItPublishes(@TempDir Path tmp) throws Exception {
    String conf = "scorestream.samplers = [\"cpu:0\"]\n"
        + "scorestream.model.source = \"init:3\"\n"
        + "scorestream.trainer { enabled = true, batch-size = 32, publish-every = 2, checkpoint-every = 4, "
        + "max-steps = 4, checkpoint-dir = \"" + tmp.toString().replace("\\", "/") + "\" }\n";
    try (TestNode node = TestNode.start(KIT, conf, InitialModel.from(TestNode.settings(conf).model()))) {
      assertTrue(node.refs.trainer().isPresent());
      ModelRegistry.Versions v;
      int polls = 0;
      do {
        Thread.sleep(20);
        v = await(node.api.versions());
        assertTrue(++polls < 50_000, "the trainer never published");
      } while (v.current().orElseThrow().version() < 3);
      Result r = await(node.api.generate(new GenerateRequest("trained", 3, 1, SamplerSpec.pc(30), 0, null)));
      assertEquals(List.of(3L), r.modelVersions());
      assertTrue(Files.isDirectory(tmp.resolve("ckpt-00000004")), "checkpoint written");
    }
  }
}
