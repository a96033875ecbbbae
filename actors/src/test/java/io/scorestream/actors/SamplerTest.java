package io.scorestream.actors;

import static io.scorestream.actors.TestNode.allFinite;
import static io.scorestream.actors.TestNode.await;
import static io.scorestream.actors.TestNode.awaitTerminal;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.FishingOutcomes;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import io.scorestream.config.ScoreStreamSettings;
import io.scorestream.model.sample.Conditioning;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Samplers: reproducibility against offline runs, supervision after failures, batching modes, model swaps. */
class SamplerTest {
  private static final ActorTestKit KIT = TestNode.kit();
  private static final String ONE_SAMPLER = "scorestream.samplers = [\"cpu:0\"]\n";

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  @Test
  void servedSamplesEqualOfflineSamplingAloneAndBusy() throws Exception {
    TestModels.Gate gate = new TestModels.Gate(1);
    InitialModel model = TestModels.analytic("ve");
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER, TestModels.hooked(model, gate))) {
      SamplerSpec pc = SamplerSpec.pc(120);
      SamplerSpec ode = SamplerSpec.rk45(1e-5, 1e-5);
      double[] pcOffline = TestNode.offline(model.factory(), node.program(pc), 6, 11);
      double[] odeOffline = TestNode.offline(model.factory(), node.program(ode), 5, 12);
      // Alone: the first request holds the gate, then runs by itself.
      CompletionStage<Result> alone = node.api.generate(TestNode.request("alone", 6, 11, pc));
      gate.awaitReached();
      gate.open();
      assertArrayEquals(pcOffline, await(alone).samples(), "alone: bit-identical to the offline run");
      // Busy: the same seeds beside other chains at other noise levels, in the same batch.
      List<CompletionStage<Result>> fillers = List.of(
          node.api.generate(TestNode.request("f1", 16, 1, SamplerSpec.rk45(1e-4, 1e-4))),
          node.api.generate(TestNode.request("f2", 10, 2, SamplerSpec.pc(150, "ancestral", "none", 0, 0.16))),
          node.api.generate(TestNode.request("f3", 7, 3, SamplerSpec.ald(5, 20, 0.003))));
      Result pcBusy = await(node.api.generate(TestNode.request("pc-busy", 6, 11, pc)));
      Result odeBusy = await(node.api.generate(TestNode.request("ode-busy", 5, 12, ode)));
      for (CompletionStage<Result> f : fillers) assertTrue(allFinite(await(f).samples()));
      assertArrayEquals(pcOffline, pcBusy.samples(), "busy predictor-corrector: bit-identical");
      assertArrayEquals(odeOffline, odeBusy.samples(), 1e-5, "busy probability-flow ODE: within 1e-5");
    }
  }

  @Test
  void requestSplitAcrossSamplersKeepsItsChains() throws Exception {
    InitialModel model = TestModels.analytic("vp");
    try (TestNode node = TestNode.start(KIT, "scorestream.samplers = [\"cpu:0\", \"cpu:1\"]\n"
        + "scorestream.coordinator.split-min-chains = 8\n", model)) {
      SamplerSpec spec = SamplerSpec.pc(80);
      Result r = await(node.api.generate(TestNode.request("split", 40, 21, spec)));
      assertTrue(node.samplerStatus(0).chainSteps() > 0 && node.samplerStatus(1).chainSteps() > 0,
          "both samplers ran chains of the request");
      assertArrayEquals(TestNode.offline(model.factory(), node.program(spec), 40, 21), r.samples(),
          "the same samples as one offline batch of 40 chains");
    }
  }

  @Test
  void samplerExceptionRestartsAndRetriesFromSeeds() throws Exception {
    InitialModel model = TestModels.analytic("ve");
    InitialModel faulty = TestModels.hooked(model, new TestModels.Fault(30, 1));
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER + "scorestream.coordinator.max-retries = 1\n", faulty)) {
      SamplerSpec pc = SamplerSpec.pc(100);
      SamplerSpec euler = SamplerSpec.ode("euler", 80);
      CompletionStage<Result> a = node.api.generate(TestNode.request("a", 4, 1, pc));
      CompletionStage<Result> b = node.api.generate(TestNode.request("b", 3, 2, euler));
      Result ra = await(a);
      Result rb = await(b);
      assertEquals(1, node.samplerStatus(0).restarts(), "the sampler was restarted once");
      assertArrayEquals(TestNode.offline(model.factory(), node.program(pc), 4, 1), ra.samples(),
          "retried from its seed: the same samples as without the failure");
      assertArrayEquals(TestNode.offline(model.factory(), node.program(euler), 3, 2), rb.samples(), 1e-9);
    }
  }

  @Test
  void samplerExceptionFailsRequestsWhenRetriesAreSpent() throws Exception {
    InitialModel faulty = TestModels.hooked(TestModels.analytic("vp"), new TestModels.Fault(10, 1));
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER + "scorestream.coordinator.max-retries = 0\n", faulty)) {
      ExecutionException ex = assertThrows(ExecutionException.class,
          () -> await(node.api.generate(TestNode.request("doomed", 3, 1, SamplerSpec.pc(50)))));
      ScoreStreamException e = assertInstanceOf(ScoreStreamException.class, ex.getCause());
      assertEquals(ErrorCode.INTERNAL, e.code());
      assertTrue(e.detail().contains("injected fault"), e.detail());
      // The restarted sampler serves the next request.
      Result next = await(node.api.generate(TestNode.request("next", 2, 2, SamplerSpec.pc(50))));
      assertTrue(allFinite(next.samples()));
      assertEquals(1, node.samplerStatus(0).restarts());
    }
  }

  @Test
  void persistentSamplerFaultEndsEveryRequest() throws Exception {
    InitialModel broken = TestModels.hooked(TestModels.analytic("vp"), new TestModels.Fault(5, Integer.MAX_VALUE));
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER + "scorestream.coordinator.max-retries = 2\n", broken)) {
      List<TestProbe<SampleEvent>> probes = List.of(
          node.watch(TestNode.request("p1", 2, 1, SamplerSpec.pc(50))),
          node.watch(TestNode.request("p2", 3, 2, SamplerSpec.ode("heun", 40))),
          node.watch(TestNode.request("p3", 1, 3, SamplerSpec.pc(30))));
      for (TestProbe<SampleEvent> p : probes) {
        SampleEvent end = awaitTerminal(p);
        SampleEvent.Failed f = assertInstanceOf(SampleEvent.Failed.class, end, "no request hangs: " + end);
        assertEquals(ErrorCode.INTERNAL, f.code());
      }
      assertEquals(0, node.status().activeRequests());
    }
  }

  @Test
  void staticBatchingAdmitsOnlyIntoAnEmptyBatch() throws Exception {
    assertEquals(1, distinctLevelsWithLateJoiner("static"), "static: the late request waited for an empty batch");
    assertEquals(2, distinctLevelsWithLateJoiner("continuous"), "continuous: it joined the running batch");
  }

  /** One request runs; another with the same program arrives at tick 5; returns the most noise levels of a tick. */
  private static int distinctLevelsWithLateJoiner(String batching) throws Exception {
    TestModels.Gate gate = new TestModels.Gate(5);
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER + "scorestream.sampler.batching = " + batching + "\n",
        TestModels.hooked(TestModels.analytic("vp"), gate))) {
      CompletionStage<Result> first = node.api.generate(TestNode.request("first", 2, 1, SamplerSpec.pc(40)));
      gate.awaitReached();
      TestProbe<SampleEvent> late = node.watch(TestNode.request("late", 2, 2, SamplerSpec.pc(40)));
      late.expectMessageClass(SampleEvent.Accepted.class);
      gate.open();
      await(first);
      assertInstanceOf(SampleEvent.Completed.class, awaitTerminal(late));
      return node.samplerStatus(0).maxDistinctLevels();
    }
  }

  @Test
  void incompatibleModelVersionIsRefusedAndServingContinues() throws Exception {
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER, TestModels.analytic("vp"))) {
      TestProbe<ModelRegistry.ModelVersion> published = KIT.createTestProbe();
      node.refs.registry().tell(new ModelRegistry.Publish("wrong sde", -1,
          ModelRegistry.analytic(TestModels.GMM8, Sde.named("ve")), published.ref()));
      assertEquals(2, published.receiveMessage().version());
      Result r = await(node.api.generate(TestNode.request("still", 2, 1, SamplerSpec.pc(20))));
      assertEquals(List.of(1L), r.modelVersions(), "the VE model was refused for VP chains");
      assertEquals(1, node.samplerStatus(0).modelVersion());
    }
  }

  /**
   * Every model a sampler builds is closed by it exactly once: a replaced version at the swap (while a request runs
   * across the swaps), the served one when the node stops. A model left open holds its native memory until the
   * garbage collector finds it, which with a steady heap may be never.
   */
  @Test
  void replacedModelsAreClosedAtTheSwapAndTheServedOneAtStop() throws Exception {
    InitialModel base = TestModels.analytic("vp");
    java.util.List<java.util.concurrent.atomic.AtomicInteger> closes =
        java.util.Collections.synchronizedList(new ArrayList<>());
    ModelRegistry.ModelFactory counting = () -> {
      ScoreModel m = base.factory().create();
      java.util.concurrent.atomic.AtomicInteger closed = new java.util.concurrent.atomic.AtomicInteger();
      closes.add(closed);
      return new ScoreModel() {
        @Override public Sde sde() { return m.sde(); }
        @Override public int dim() { return m.dim(); }
        @Override public org.nd4j.linalg.api.buffer.DataType dataType() { return m.dataType(); }
        @Override public org.nd4j.linalg.api.ndarray.INDArray score(org.nd4j.linalg.api.ndarray.INDArray x, double[] t) {
          if (closed.get() > 0) throw new IllegalStateException("a closed model was called");
          return m.score(x, t);
        }
        @Override public ScoreJvp scoreJvp(org.nd4j.linalg.api.ndarray.INDArray x, double[] t,
                                           org.nd4j.linalg.api.ndarray.INDArray v) { return m.scoreJvp(x, t, v); }
        @Override public String describe() { return "counting " + m.describe(); }
        @Override public void close() { closed.incrementAndGet(); }
      };
    };
    int swaps = 300;
    TestNode node = TestNode.start(KIT, ONE_SAMPLER, InitialModel.of("counting", counting, base.sde(), base.dim()));
    try {
      var running = node.api.generate(TestNode.request("across", 8, 3, SamplerSpec.pc(5_000)));
      long guard = System.nanoTime() + 60_000_000_000L;
      while (node.samplerStatus(0).rows() == 0) {
        assertTrue(System.nanoTime() < guard, "the request reached the sampler");
        Thread.sleep(1);
      }
      TestProbe<ModelRegistry.ModelVersion> published = KIT.createTestProbe();
      for (int i = 0; i < swaps; i++) node.refs.registry().tell(new ModelRegistry.Publish("v" + i, -1, counting, published.ref()));
      for (int i = 0; i < swaps; i++) published.receiveMessage();
      Result r = await(running);
      assertTrue(r.modelVersions().size() > 1, "the request ran across swaps: " + r.modelVersions());
      assertEquals(swaps + 1, node.samplerStatus(0).modelVersion());
    } finally {
      node.close();
    }
    // The node's start-up check of the initial model, then on the sampler's thread the initial model and every
    // published version.
    assertEquals(swaps + 2, closes.size(), "one model per version and the start-up check");
    for (int i = 0; i < closes.size(); i++) assertEquals(1, closes.get(i).get(), "model " + i + " closed once");
  }

  @Test
  void aSamplerSharedByTwoCoordinatorsReportsToEachAndCancelsOnlyItsOwn() throws Exception {
    InitialModel model = TestModels.analytic("vp");
    ScoreStreamSettings settings = TestNode.settings(ONE_SAMPLER);
    TestProbe<Coordinator.Command> a = KIT.createTestProbe();
    TestProbe<Coordinator.Command> b = KIT.createTestProbe();
    TestProbe<RequestSession.Command> sessionA = KIT.createTestProbe();
    TestProbe<RequestSession.Command> sessionB = KIT.createTestProbe();
    ActorRef<Sampler.Command> sampler = KIT.spawn(Sampler.create(settings.sampler(), 0,
        settings.samplers().get(0), "test", Sampler.serviceKey("shared-" + System.nanoTime()), null));
    sampler.tell(new Sampler.SwapWeights(new ModelRegistry.ModelVersion(1, "m", -1, model.factory())));
    sampler.tell(new Sampler.Attach(a.ref(), 4));
    sampler.tell(new Sampler.Attach(b.ref(), 9));
    assertEquals(4, a.expectMessageClass(Coordinator.RegisterSampler.class).samplerId());
    assertEquals(9, b.expectMessageClass(Coordinator.RegisterSampler.class).samplerId());
    // The same request id from both coordinators (ids are unique per gateway member, not across them).
    SamplerProgram program = Programs.build(SamplerSpec.pc(5000), model.sde(), settings.coordinator());
    sampler.tell(new Sampler.Enqueue(new Sampler.ChainSlice("x", 0, 3, 1, program, 0, sessionA.ref()), a.ref()));
    sampler.tell(new Sampler.Enqueue(new Sampler.ChainSlice("x", 0, 2, 2,
        Programs.build(SamplerSpec.pc(50), model.sde(), settings.coordinator()), 0, sessionB.ref()), b.ref()));
    sampler.tell(new Sampler.Cancel("x", a.ref()));
    Coordinator.SliceEnded endedA = a.fishForMessage(Duration.ofSeconds(TestNode.HANG_GUARD_S),
        m -> m instanceof Coordinator.SliceEnded ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore())
        .stream().map(Coordinator.SliceEnded.class::cast).reduce((x, y) -> y).orElseThrow();
    assertEquals(List.of(4, 3), List.of(endedA.samplerId(), endedA.count()));
    // B's chains ran on: its session gets the samples of an offline run, and B its slice's end under B's slot id.
    RequestSession.SliceCompleted done = sessionB.expectMessageClass(RequestSession.SliceCompleted.class,
        Duration.ofSeconds(TestNode.HANG_GUARD_S));
    assertArrayEquals(TestNode.offline(model.factory(), Programs.build(SamplerSpec.pc(50), model.sde(),
        settings.coordinator()), 2, 2), done.samples().toArray());
    Coordinator.SliceEnded endedB = b.fishForMessage(Duration.ofSeconds(TestNode.HANG_GUARD_S),
        m -> m instanceof Coordinator.SliceEnded ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore())
        .stream().map(Coordinator.SliceEnded.class::cast).reduce((x, y) -> y).orElseThrow();
    assertEquals(9, endedB.samplerId());
    sessionA.expectNoMessage(Duration.ofMillis(200));
    KIT.stop(sampler);
  }

  @Test
  void aSliceLargerThanOneMessageReachesItsSessionInPartsOfWholeChains() throws Exception {
    InitialModel model = TestModels.analytic("vp");
    ScoreStreamSettings settings = TestNode.settings(ONE_SAMPLER + "scorestream.sampler.max-message-values = 10\n");
    TestProbe<Coordinator.Command> coordinator = KIT.createTestProbe();
    TestProbe<RequestSession.Command> session = KIT.createTestProbe();
    ActorRef<Sampler.Command> sampler = spawnSampler(settings, 0, coordinator, model);
    SamplerProgram program = Programs.build(SamplerSpec.pc(30), model.sde(), settings.coordinator());
    sampler.tell(new Sampler.Enqueue(new Sampler.ChainSlice("big", 0, 23, 7, program, 10, session.ref())));
    // 10 values of dimension 2: at most 5 chains a message, so 23 chains come as 5 + 5 + 5 + 5 + 3.
    double[] samples = new double[23 * 2];
    int chains = 0;
    int completions = 0;
    int previews = 0;
    long calls = 0;
    while (chains < 23) {
      RequestSession.Command m = session.receiveMessage(Duration.ofSeconds(TestNode.HANG_GUARD_S));
      if (m instanceof RequestSession.SlicePreview p) {
        assertTrue(p.count() <= 5 && p.denoised().count() == p.count(), "a preview part of " + p.count());
        previews++;
      } else if (m instanceof RequestSession.SliceCompleted c) {
        assertTrue(c.count() <= 5, "a result part of " + c.count());
        System.arraycopy(c.samples().toArray(), 0, samples, c.firstChain() * 2, c.count() * 2);
        chains += c.count();
        calls += c.networkCalls();
        completions++;
      }
    }
    assertEquals(5, completions);
    assertTrue(previews >= 5, previews + " preview parts");
    assertEquals(23L * program.nominalCalls(), calls, "the slice's network calls, counted once");
    assertArrayEquals(TestNode.offline(model.factory(), program, 23, 7), samples);
    KIT.stop(sampler);
    // Through a node: its session merges the parts, previews included, into the request's one result.
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER + "scorestream.sampler.max-message-values = 10\n", model)) {
      List<SampleEvent> events = await(node.events(new GenerateRequest("parts", 23, 7, SamplerSpec.pc(30), 10,
          null)));
      assertTrue(events.stream().anyMatch(e -> e instanceof SampleEvent.Preview p && p.estimates().count() == 23));
      SampleEvent last = events.get(events.size() - 1);
      assertInstanceOf(SampleEvent.Completed.class, last);
      assertArrayEquals(samples, ((SampleEvent.Completed) last).result().samples());
      assertEquals(23L * program.nominalCalls(), ((SampleEvent.Completed) last).result().networkCalls());
    }
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"room, 1", "exclusive, 2"})
  void aSliceOfHigherPriorityPreemptsLowerOnesWhichResumeBitIdentically(String mode, int setAside) throws Exception {
    InitialModel model = TestModels.analytic("ve");
    ScoreStreamSettings settings = TestNode.settings(ONE_SAMPLER + "scorestream.sampler.max-batch-rows = 10\n"
        + "scorestream.sampler.preemption = " + mode + "\n");
    TestProbe<Coordinator.Command> coordinator = KIT.createTestProbe();
    TestProbe<RequestSession.Command> session = KIT.createTestProbe();
    ActorRef<Sampler.Command> sampler = spawnSampler(settings, 0, coordinator, model);
    SamplerProgram slow = Programs.build(SamplerSpec.pc(400), model.sde(), settings.coordinator());
    SamplerProgram fast = Programs.build(SamplerSpec.fewStep("dpmpp-2m", 30), model.sde(), settings.coordinator());
    sampler.tell(new Sampler.Enqueue(new Sampler.ChainSlice("low", 0, 8, 3, slow, 0, session.ref(),
        Conditioning.NONE, 0)));
    awaitTicks(sampler, 5);
    // "mid" (priority 1) fits beside "low"; exclusive sets "low" aside for it all the same.
    sampler.tell(new Sampler.Enqueue(new Sampler.ChainSlice("mid", 0, 2, 4, slow, 0, session.ref(),
        Conditioning.NONE, 1)));
    TestProbe<Sampler.Status> status = KIT.createTestProbe();
    awaitTicks(sampler, 25);
    // A priority-5 slice of 5 chains: room sets "low" (8 rows, the lowest priority) aside, not "mid"; exclusive
    // sets "mid" aside too, and resumes "low" only once "mid" has ended.
    sampler.tell(new Sampler.Enqueue(new Sampler.ChainSlice("high", 0, 5, 5, fast, 0, session.ref(),
        Conditioning.NONE, 5)));
    List<String> order = new ArrayList<>();
    java.util.Map<String, double[]> samples = new java.util.HashMap<>();
    while (order.size() < 3) {
      RequestSession.Command m = session.receiveMessage(Duration.ofSeconds(TestNode.HANG_GUARD_S));
      if (m instanceof RequestSession.SliceCompleted c) {
        order.add(c.requestId());
        samples.put(c.requestId(), c.samples().toArray());
      }
    }
    // High first; which of the others ends next depends on how long "low" ran before it was set aside.
    assertEquals("high", order.get(0), order.toString());
    sampler.tell(new Sampler.GetStatus(status.ref()));
    assertEquals(setAside, status.receiveMessage().preemptions());
    assertArrayEquals(TestNode.offline(model.factory(), fast, 5, 5), samples.get("high"));
    assertArrayEquals(TestNode.offline(model.factory(), slow, 2, 4), samples.get("mid"));
    assertArrayEquals(TestNode.offline(model.factory(), slow, 8, 3), samples.get("low"),
        "set aside after 20 ticks, resumed later: the samples of a run that never stopped");
    KIT.stop(sampler);
  }

  @Test
  void withPreemptionOffAHigherPrioritySliceWaitsForRows() throws Exception {
    InitialModel model = TestModels.analytic("vp");
    ScoreStreamSettings settings = TestNode.settings(ONE_SAMPLER + "scorestream.sampler.max-batch-rows = 10\n"
        + "scorestream.sampler.preemption = off\n");
    TestProbe<Coordinator.Command> coordinator = KIT.createTestProbe();
    TestProbe<RequestSession.Command> session = KIT.createTestProbe();
    ActorRef<Sampler.Command> sampler = spawnSampler(settings, 0, coordinator, model);
    SamplerProgram slow = Programs.build(SamplerSpec.pc(200), model.sde(), settings.coordinator());
    sampler.tell(new Sampler.Enqueue(new Sampler.ChainSlice("low", 0, 10, 3, slow, 0, session.ref())));
    TestProbe<Sampler.Status> status = KIT.createTestProbe();
    awaitTicks(sampler, 5);
    sampler.tell(new Sampler.Enqueue(new Sampler.ChainSlice("high", 0, 5, 5,
        Programs.build(SamplerSpec.pc(20), model.sde(), settings.coordinator()), 0, session.ref(), Conditioning.NONE,
        5)));
    List<String> order = new ArrayList<>();
    while (order.size() < 2) {
      if (session.receiveMessage(Duration.ofSeconds(TestNode.HANG_GUARD_S))
          instanceof RequestSession.SliceCompleted c) {
        order.add(c.requestId());
      }
    }
    assertEquals(List.of("low", "high"), order);
    sampler.tell(new Sampler.GetStatus(status.ref()));
    assertEquals(0, status.receiveMessage().preemptions());
    KIT.stop(sampler);
  }

  @Test
  void aDrainedSamplerHandsItsSlicesBackWithTheirStatesInPartsThatResumeBitIdentically() throws Exception {
    InitialModel model = TestModels.analytic("vp");
    // 40 values a message: a chain of D = 2 with its cursor is about 8, so 12 running chains go back in parts.
    ScoreStreamSettings settings = TestNode.settings(ONE_SAMPLER + "scorestream.sampler.max-message-values = 40\n");
    TestProbe<Coordinator.Command> coordinator = KIT.createTestProbe();
    TestProbe<RequestSession.Command> session = KIT.createTestProbe();
    ActorRef<Sampler.Command> first = spawnSampler(settings, 0, coordinator, model);
    SamplerProgram program = Programs.build(SamplerSpec.pc(300), model.sde(), settings.coordinator());
    first.tell(new Sampler.Enqueue(new Sampler.ChainSlice("moving", 0, 12, 8, program, 0, session.ref())));
    TestProbe<Sampler.Status> status = KIT.createTestProbe();
    awaitTicks(first, 50);
    TestProbe<akka.Done> drained = KIT.createTestProbe();
    first.tell(new Sampler.Drain(drained.ref()));
    drained.expectMessage(akka.Done.done());
    List<Coordinator.AbortedSlice> back = new ArrayList<>();
    int chains = 0;
    while (chains < 12) {
      Coordinator.Command m = coordinator.receiveMessage(Duration.ofSeconds(TestNode.HANG_GUARD_S));
      if (m instanceof Coordinator.SlicesAborted a) {
        long values = 0;
        for (Coordinator.AbortedSlice s : a.slices()) {
          assertTrue(!s.started() && s.slice().progress() != null, "a drained slice comes back with its state");
          values += s.slice().progress().values();
          chains += s.slice().count();
          back.add(s);
        }
        assertTrue(values <= 40, values + " values in one message");
      }
    }
    assertTrue(back.size() > 1, "12 chains come back in parts");
    // Another sampler takes the parts up where they stopped.
    ActorRef<Sampler.Command> second = spawnSampler(settings, 1, coordinator, model);
    for (Coordinator.AbortedSlice a : back) second.tell(new Sampler.Enqueue(a.slice()));
    double[] samples = new double[12 * 2];
    long calls = 0;
    for (int done = 0; done < 12; ) {
      RequestSession.Command m = session.receiveMessage(Duration.ofSeconds(TestNode.HANG_GUARD_S));
      if (m instanceof RequestSession.SliceCompleted c) {
        System.arraycopy(c.samples().toArray(), 0, samples, c.firstChain() * 2, c.count() * 2);
        done += c.count();
        calls += c.networkCalls();
      }
    }
    assertArrayEquals(TestNode.offline(model.factory(), program, 12, 8), samples);
    assertEquals(12L * program.nominalCalls(), calls, "every chain's calls, counted once across the move");
    second.tell(new Sampler.GetStatus(status.ref()));
    assertTrue(status.receiveMessage().chainSteps() < 12L * program.nominalCalls(),
        "the second sampler ran only what was left");
    KIT.stop(first);
    KIT.stop(second);
  }

  /** A sampler serving model as version 1 under the given id, reporting to coordinator. */
  private static ActorRef<Sampler.Command> spawnSampler(ScoreStreamSettings settings, int id,
                                                        TestProbe<Coordinator.Command> coordinator,
                                                        InitialModel model) {
    return KIT.spawn(Sampler.create(settings.sampler(), id, settings.samplers().get(0), coordinator.ref(),
        new ModelRegistry.ModelVersion(1, "m", -1, model.factory())));
  }

  /** Returns once the sampler has made at least n ticks (its chains are mid-run). */
  private static void awaitTicks(ActorRef<Sampler.Command> sampler, long n) {
    TestProbe<Sampler.Status> status = KIT.createTestProbe();
    do {
      sampler.tell(new Sampler.GetStatus(status.ref()));
    } while (status.receiveMessage().ticks() < n);
  }
}
