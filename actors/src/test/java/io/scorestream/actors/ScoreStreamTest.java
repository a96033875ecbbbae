package io.scorestream.actors;

import static io.scorestream.actors.TestNode.allFinite;
import static io.scorestream.actors.TestNode.await;
import static io.scorestream.actors.TestNode.awaitTerminal;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.score.MlpConfig;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The must-shows of the streaming pipeline, end to end through {@link ScoreStream} on the analytic gmm8 score. */
class ScoreStreamTest {
  private static final ActorTestKit KIT = TestNode.kit();
  private static final String ONE_SAMPLER = "scorestream.samplers = [\"cpu:0\"]\n"
      + "scorestream.coordinator.default-preview-every = 0\n";

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  @Test
  void manyConcurrentRequestsCompleteWithMixedNoiseLevels() throws Exception {
    // 200 requests of 50 to 500 steps over eight sampler kinds, on two samplers; the few-step solvers' results are
    // the offline chains exactly (their registers and noise are per row, whatever rows they shared ticks with).
    InitialModel model = TestModels.analytic("ve");
    try (TestNode node = TestNode.start(KIT, "scorestream.samplers = [\"cpu:0\", \"cpu:1\"]\n"
        + "scorestream.coordinator.split-min-chains = 4\n", model)) {
      Random rng = new Random(20240601L);
      List<GenerateRequest> requests = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        int steps = 50 + rng.nextInt(451);
        SamplerSpec spec = switch (i % 8) {
          case 0 -> SamplerSpec.pc(steps);
          case 1 -> SamplerSpec.pc(steps, "ancestral", "none", 0, 0.16);
          case 2 -> SamplerSpec.pc(steps / 2, "euler-maruyama", "ald", 1, 0.1);
          case 3 -> SamplerSpec.ode("heun", steps / 2);
          case 4 -> SamplerSpec.rk45(1e-3, 1e-3);
          case 5 -> SamplerSpec.ald(10, steps / 10, 0.003);
          case 6 -> SamplerSpec.fewStep("dpmpp-2m-sde", steps / 10).withFewStep(0.8, "logsnr", null);
          default -> SamplerSpec.fewStep("edm", steps / 20).withFewStep(null, null, 10.0);
        };
        int count = 1 + rng.nextInt(6);
        requests.add(new GenerateRequest("r" + i, count, 1000 + i, spec, i % 3 == 0 ? 25 : 0, null));
      }
      List<CompletionStage<Result>> results = new ArrayList<>();
      for (GenerateRequest r : requests) results.add(node.api.generate(r));
      for (int i = 0; i < requests.size(); i++) {
        Result res = await(results.get(i));
        GenerateRequest r = requests.get(i);
        assertEquals(r.requestId(), res.requestId());
        assertEquals(r.count(), res.count());
        assertEquals(2, res.dim());
        assertEquals(r.count() * 2, res.samples().length);
        assertTrue(allFinite(res.samples()), "non-finite samples in " + r.requestId());
        assertEquals(List.of(1L), res.modelVersions());
        assertTrue(res.networkCalls() >= r.count(), "each chain made at least one call");
        if (i % 8 >= 6) {
          assertArrayEquals(TestNode.offline(model.factory(), node.program(r.sampler()), r.count(), r.seed()),
              res.samples(), "served = offline for " + r.sampler().kind() + " in " + r.requestId());
        }
      }
      Sampler.Status s0 = node.samplerStatus(0);
      Sampler.Status s1 = node.samplerStatus(1);
      int maxLevels = Math.max(s0.maxDistinctLevels(), s1.maxDistinctLevels());
      assertTrue(maxLevels >= 3, "at some tick a batch held chains at >= 3 noise levels, got " + maxLevels);
      assertTrue(s0.ticks() > 0 && s1.ticks() > 0, "both samplers worked");
      assertEquals(0, s0.rows() + s1.rows(), "every row was freed");
      Coordinator.NodeStatus status = node.status();
      assertEquals(0, status.activeRequests());
      assertEquals(200, status.accepted());
    }
  }

  @Test
  void shortRequestPreviewsBeforeLongRequestFinishes() throws Exception {
    // The long request's sampler blocks at calls 50 and 300; the short one is submitted while it is blocked.
    TestModels.Gate gate = new TestModels.Gate(50, 300);
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER, TestModels.hooked(TestModels.analytic("vp"), gate))) {
      TestProbe<SampleEvent> events = KIT.createTestProbe();
      node.watch(new GenerateRequest("long", 1, 1, SamplerSpec.pc(1000), 100, null), events);
      gate.awaitReached(0);
      assertTrue(gate.thread.contains("scorestream.sampler-dispatcher"), "the sampler runs on its pinned dispatcher: "
          + gate.thread);
      node.watch(new GenerateRequest("short", 2, 2, SamplerSpec.pc(20), 5, null), events);
      List<SampleEvent> seen = new ArrayList<>();
      SampleEvent e;
      do {
        e = events.receiveMessage();
        seen.add(e);
      } while (!(e instanceof SampleEvent.Accepted a && a.requestId().equals("short")));
      gate.open(0);
      // Everything of the short request arrives while the long one is still held at call 300.
      do {
        e = events.receiveMessage();
        seen.add(e);
      } while (!(e.terminal() && e.requestId().equals("short")));
      gate.awaitReached(1);
      gate.open(1);
      do {
        e = events.receiveMessage();
        seen.add(e);
      } while (!(e.terminal() && e.requestId().equals("long")));
      int firstShortPreview = -1;
      int longDone = -1;
      for (int i = 0; i < seen.size(); i++) {
        SampleEvent x = seen.get(i);
        if (firstShortPreview < 0 && x instanceof SampleEvent.Preview && x.requestId().equals("short")) {
          firstShortPreview = i;
        }
        if (x.terminal() && x.requestId().equals("long")) longDone = i;
      }
      assertTrue(firstShortPreview >= 0, "the short request sent a preview");
      assertTrue(firstShortPreview < longDone, "its first preview came before the long request finished");
      SampleEvent.Preview p = (SampleEvent.Preview) seen.get(firstShortPreview);
      assertEquals(20, p.totalSteps());
      assertTrue(p.step() >= 1 && allFinite(p.denoised()), "a preview with finite estimates");
      SampleEvent.Completed longResult = assertInstanceOf(SampleEvent.Completed.class, seen.get(longDone));
      assertEquals(1001, longResult.result().networkCalls(), "1000 Euler-Maruyama steps + the denoising call");
    }
  }

  @Test
  void cancelFreesRowsAtNextStepAndEndsCancelled() throws Exception {
    TestModels.Gate gate = new TestModels.Gate(3);
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER, TestModels.hooked(TestModels.analytic("vp"), gate))) {
      CompletionStage<List<SampleEvent>> events =
          node.events(new GenerateRequest("c1", 8, 3, SamplerSpec.pc(500), 1, null));
      gate.awaitReached();
      node.api.cancel("c1");
      List<SampleEvent> all = await(events);
      SampleEvent last = all.get(all.size() - 1);
      assertInstanceOf(SampleEvent.Cancelled.class, last, "ends with Cancelled, not silence: " + last);
      assertInstanceOf(SampleEvent.Accepted.class, all.get(0));
      gate.open();
      Sampler.Status s = node.samplerStatus(0);
      assertEquals(0, s.rows(), "the rows were freed");
      assertEquals(3, s.ticks(), "at the step boundary after the blocked tick: no further tick ran");
      // Capacity is back: a new request runs to completion.
      Result r = await(node.api.generate(TestNode.request("c2", 2, 4, SamplerSpec.pc(30))));
      assertEquals(2, r.count());
    }
  }

  @Test
  void overloadedPastQueueBoundWhileAcceptedComplete() throws Exception {
    TestModels.Gate gate = new TestModels.Gate(2);
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER + "scorestream.sampler.max-batch-rows = 4\n"
        + "scorestream.coordinator.queue-bound = 2\n", TestModels.hooked(TestModels.analytic("vp"), gate))) {
      TestProbe<SampleEvent> p1 = node.watch(TestNode.request("o1", 4, 1, SamplerSpec.pc(100)));
      SampleEvent.Accepted a1 = p1.expectMessageClass(SampleEvent.Accepted.class);
      assertEquals(0, a1.queuePosition());
      gate.awaitReached();
      TestProbe<SampleEvent> p2 = node.watch(TestNode.request("o2", 4, 2, SamplerSpec.pc(100)));
      SampleEvent.Accepted a2 = p2.expectMessageClass(SampleEvent.Accepted.class);
      TestProbe<SampleEvent> p3 = node.watch(TestNode.request("o3", 4, 3, SamplerSpec.pc(100)));
      SampleEvent.Accepted a3 = p3.expectMessageClass(SampleEvent.Accepted.class);
      assertEquals(1, a2.queuePosition());
      assertEquals(2, a3.queuePosition());
      assertTrue(a3.eta().compareTo(a2.eta()) > 0, "a later place has a later ETA");
      ExecutionException ex = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> await(node.api.generate(TestNode.request("o4", 4, 4, SamplerSpec.pc(100)))));
      ScoreStreamException rejected = assertInstanceOf(ScoreStreamException.class, ex.getCause());
      assertEquals(ErrorCode.OVERLOADED, rejected.code());
      assertTrue(rejected.retryAfter().isPresent() && !rejected.retryAfter().get().isNegative());
      gate.open();
      for (TestProbe<SampleEvent> p : List.of(p1, p2, p3)) {
        SampleEvent end = awaitTerminal(p);
        assertInstanceOf(SampleEvent.Completed.class, end, "accepted requests still complete: " + end);
      }
      assertEquals(1, node.status().rejected());
    }
  }

  @Test
  void deadlineEndsWithDeadlineExceededAndFreesRows() throws Exception {
    TestModels.Gate gate = new TestModels.Gate(3);
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER, TestModels.hooked(TestModels.analytic("vp"), gate))) {
      CompletionStage<Result> late = node.api.generate(
          new GenerateRequest("d1", 4, 5, SamplerSpec.pc(500), 0, Duration.ofMillis(200)));
      gate.awaitReached();
      ExecutionException ex = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> await(late));
      assertEquals(ErrorCode.DEADLINE_EXCEEDED, ((ScoreStreamException) ex.getCause()).code());
      gate.open();
      Sampler.Status s = node.samplerStatus(0);
      assertEquals(0, s.rows(), "the rows were freed");
      assertEquals(3, s.ticks(), "no tick ran after the deadline's step boundary");
      assertEquals(0, node.status().activeRequests());
    }
  }

  @Test
  void stalledConsumerDoesNotChangeOtherRequests() throws Exception {
    StallRun reading = stallRun(false);
    StallRun stalled = stallRun(true);
    // The other requests advanced exactly as without the stalled consumer: same step counts, same samples.
    assertEquals(reading.sampler.ticks(), stalled.sampler.ticks(), "the sampler made the same ticks");
    assertEquals(reading.sampler.previews(), stalled.sampler.previews(), "and sent every preview regardless");
    for (int i = 0; i < reading.others.size(); i++) {
      Result a = reading.others.get(i);
      Result b = stalled.others.get(i);
      assertEquals(a.networkCalls(), b.networkCalls(), "step counts of " + a.requestId());
      assertArrayEquals(a.samples(), b.samples(), "samples of " + a.requestId());
    }
    // The stalled consumer, when it finally reads, gets Accepted, at most the latest preview, then its result.
    assertTrue(stalled.stalledEvents.size() <= 3, "previews were conflated: " + stalled.stalledEvents.size());
    assertInstanceOf(SampleEvent.Accepted.class, stalled.stalledEvents.get(0));
    SampleEvent.Completed done = assertInstanceOf(SampleEvent.Completed.class,
        stalled.stalledEvents.get(stalled.stalledEvents.size() - 1));
    assertArrayEquals(reading.stalledResult.samples(), done.result().samples());
  }

  private record StallRun(Sampler.Status sampler, List<Result> others, List<SampleEvent> stalledEvents,
                          Result stalledResult) {}

  private StallRun stallRun(boolean stall) throws Exception {
    TestModels.Gate gate = new TestModels.Gate(1);
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER, TestModels.hooked(TestModels.analytic("ve"), gate))) {
      CompletionStage<Result> opener = node.api.generate(TestNode.request("open", 1, 9, SamplerSpec.pc(10)));
      gate.awaitReached();
      // A request that previews every step; its consumer reads nothing until everything else is done.
      GenerateRequest chatty = new GenerateRequest("chatty", 4, 7, SamplerSpec.pc(200), 1, null);
      TestSubscriber.Probe<SampleEvent> slow = null;
      TestProbe<SampleEvent> fast = null;
      if (stall) {
        slow = node.api.submit(chatty).runWith(TestSink.probe(KIT.system().classicSystem()), KIT.system());
      } else {
        fast = node.watch(chatty);
      }
      List<TestProbe<SampleEvent>> others = new ArrayList<>();
      others.add(node.watch(new GenerateRequest("a", 3, 11, SamplerSpec.pc(150), 10, null)));
      others.add(node.watch(new GenerateRequest("b", 2, 12, SamplerSpec.ode("heun", 120), 10, null)));
      others.add(node.watch(new GenerateRequest("c", 5, 13, SamplerSpec.pc(300, "ancestral", "none", 0, 0.16), 10,
          null)));
      for (TestProbe<SampleEvent> p : others) p.expectMessageClass(SampleEvent.Accepted.class);
      if (!stall) fast.expectMessageClass(SampleEvent.Accepted.class);
      // Every request is admitted now (the coordinator routed them before answering): they join at tick 2.
      awaitSessionsRouted(node, 5);
      gate.open();
      await(opener);
      List<Result> results = new ArrayList<>();
      for (TestProbe<SampleEvent> p : others) {
        results.add(((SampleEvent.Completed) awaitTerminal(p)).result());
      }
      List<SampleEvent> stalledEvents = new ArrayList<>();
      Result stalledResult;
      if (stall) {
        // The sampler finished the stalled request's chains although nothing was read.
        awaitIdle(node);
        slow.request(100);
        SampleEvent e;
        do {
          e = slow.expectNext(scala.concurrent.duration.FiniteDuration.create(TestNode.HANG_GUARD_S, java.util.concurrent.TimeUnit.SECONDS));
          stalledEvents.add(e);
        } while (!e.terminal());
        slow.expectComplete();
        stalledResult = ((SampleEvent.Completed) e).result();
      } else {
        stalledResult = ((SampleEvent.Completed) awaitTerminal(fast)).result();
        awaitIdle(node);
      }
      return new StallRun(node.samplerStatus(0), results, stalledEvents, stalledResult);
    }
  }

  /** Waits until the coordinator has routed every accepted request (none queued). */
  private static void awaitSessionsRouted(TestNode node, int active) throws Exception {
    for (int i = 0; i < 10_000; i++) {
      Coordinator.NodeStatus s = node.status();
      if (s.queuedRequests() == 0 && s.activeRequests() >= active) return;
      Thread.sleep(5);
    }
    throw new AssertionError("requests were not routed");
  }

  /** Waits until the only sampler has no rows and nothing pending. */
  private static void awaitIdle(TestNode node) throws Exception {
    for (int i = 0; i < 10_000; i++) {
      Sampler.Status s = node.samplerStatus(0);
      if (s.rows() == 0 && s.pendingChains() == 0) return;
      Thread.sleep(5);
    }
    throw new AssertionError("the sampler never became idle");
  }

  @Test
  void weightSwapMidRunIsPickedUpAtStepBoundary() throws Exception {
    Sde vp = Sde.named("vp");
    NetworkWeights w1 = NetworkWeights.initialize(MlpConfig.reference(2), 1);
    NetworkWeights w2 = NetworkWeights.initialize(MlpConfig.reference(2), 2);
    ModelRegistry.ModelFactory v1 = ModelRegistry.network(w1, vp);
    ModelRegistry.ModelFactory v2 = ModelRegistry.network(w2, vp);
    TestModels.Gate gate = new TestModels.Gate(20);
    InitialModel initial = new InitialModel("mlp seed 1", 0, TestModels.hooked(v1, gate), vp, 2, w1);
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER, initial)) {
      SamplerSpec spec = SamplerSpec.pc(60);
      CompletionStage<Result> running = node.api.generate(TestNode.request("w1", 8, 3, spec));
      gate.awaitReached();
      TestProbe<ModelRegistry.ModelVersion> published = KIT.createTestProbe();
      node.refs.registry().tell(new ModelRegistry.Publish("mlp seed 2", 100, v2, published.ref()));
      assertEquals(2, published.receiveMessage().version());
      gate.open();
      Result r = await(running);
      assertEquals(List.of(1L, 2L), r.modelVersions(), "the result names both versions");
      // Offline: the same chains with version 1 for the first 20 network calls and version 2 after them.
      AtomicInteger calls = new AtomicInteger();
      ScoreModel m1 = v1.create();
      ScoreModel m2 = v2.create();
      ModelRegistry.ModelFactory switching =
          TestModels.hooked(v1, (inner, x, t) -> (calls.incrementAndGet() <= 20 ? m1 : m2).score(x, t));
      double[] expected = TestNode.offline(switching, node.program(spec), 8, 3);
      assertArrayEquals(expected, r.samples(), 1e-6, "the swap took effect exactly after call 20");
      Result after = await(node.api.generate(TestNode.request("w2", 8, 3, spec)));
      assertEquals(List.of(2L), after.modelVersions());
      assertArrayEquals(TestNode.offline(v2, node.program(spec), 8, 3), after.samples(), 1e-6);
    }
  }

  @Test
  void nonFiniteChainFailsAloneBatchMatesUnaffected() throws Exception {
    Sde ve = Sde.named("ve");
    double tStar = 1.0 + (ve.tEps() - 1.0) * 10 / 97;
    TestModels.Gate gate = new TestModels.Gate(1);
    InitialModel model = TestModels.hooked(TestModels.hooked(TestModels.analytic("ve"), new TestModels.Poison(tStar)),
        gate);
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER, model)) {
      CompletionStage<Result> poisoned = node.api.generate(TestNode.request("nan", 8, 5, SamplerSpec.pc(97)));
      gate.awaitReached();
      SamplerSpec pc = SamplerSpec.pc(100);
      SamplerSpec heun = SamplerSpec.ode("heun", 50);
      TestProbe<SampleEvent> h1 = node.watch(TestNode.request("h1", 4, 6, pc));
      TestProbe<SampleEvent> h2 = node.watch(TestNode.request("h2", 3, 7, heun));
      h1.expectMessageClass(SampleEvent.Accepted.class);
      h2.expectMessageClass(SampleEvent.Accepted.class);
      gate.open();
      ExecutionException ex = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> await(poisoned));
      ScoreStreamException failure = (ScoreStreamException) ex.getCause();
      assertEquals(ErrorCode.NON_FINITE, failure.code());
      assertTrue(failure.detail().contains("NaN"), failure.detail());
      ModelRegistry.ModelFactory clean = TestModels.analytic("ve").factory();
      Result r1 = ((SampleEvent.Completed) awaitTerminal(h1)).result();
      Result r2 = ((SampleEvent.Completed) awaitTerminal(h2)).result();
      assertArrayEquals(TestNode.offline(clean, node.program(pc), 4, 6), r1.samples(), "batch-mate h1 unaffected");
      assertArrayEquals(TestNode.offline(clean, node.program(heun), 3, 7), r2.samples(), 1e-9,
          "batch-mate h2 unaffected");
      awaitIdle(node);
    }
  }

  @Test
  void aRequestIdIsRefusedWhileItRunsAndMayBeUsedAgainOnceItEnded() throws Exception {
    TestModels.Gate gate = new TestModels.Gate(3);
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER, TestModels.hooked(TestModels.analytic("vp"), gate))) {
      GenerateRequest r = TestNode.request("again", 3, 9, SamplerSpec.pc(20));
      CompletionStage<Result> first = node.api.generate(r);
      gate.awaitReached();
      // While it runs, the same id is refused (and its stream ends, rather than waiting).
      List<SampleEvent> dup = await(node.events(r));
      SampleEvent.Rejected rejected = assertInstanceOf(SampleEvent.Rejected.class, dup.get(0));
      assertEquals(ErrorCode.INVALID_ARGUMENT, rejected.code());
      assertTrue(rejected.message().contains("already"), rejected.message());
      gate.open();
      Result a = await(first);
      // At once after its end, the id starts a fresh request: the same samples, nothing left waiting.
      for (int i = 0; i < 5; i++) {
        assertArrayEquals(a.samples(), await(node.api.generate(r)).samples(), "run " + i);
      }
      assertEquals(0, await(node.api.sessions()).running());
    }
  }

  @Test
  void invalidRequestsGetTypedErrorsAndChangeNothing() throws Exception {
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER, TestModels.analytic("vp"))) {
      List<GenerateRequest> bad = List.of(
          TestNode.request("b0", 0, 1, SamplerSpec.pc(10)),
          TestNode.request("b1", 1, 1, SamplerSpec.pc(1_000_000)),
          TestNode.request("b2", 1, 1, SamplerSpec.pc(10, "leapfrog", "none", 0, 0.16)),
          TestNode.request("b3", 1, 1, SamplerSpec.pc(10, "euler-maruyama", "langevin", 1, -1.0)),
          TestNode.request("b4", 1, 1, SamplerSpec.fewStep("plms", null)),
          new GenerateRequest("b5", 1, 1, SamplerSpec.pc(10), 0, Duration.ofHours(5)),
          new GenerateRequest("b6", 1, 1, SamplerSpec.pc(10), -7, null));
      for (GenerateRequest r : bad) {
        List<SampleEvent> events = await(node.events(r));
        assertEquals(1, events.size(), "rejected alone: " + events);
        SampleEvent.Rejected rej = assertInstanceOf(SampleEvent.Rejected.class, events.get(0));
        assertEquals(ErrorCode.INVALID_ARGUMENT, rej.code(), rej.message());
        assertFalse(rej.message().isBlank());
      }
      Coordinator.NodeStatus s = node.status();
      assertEquals(0, s.accepted());
      assertEquals(bad.size(), s.rejected());
      assertEquals(0, node.samplerStatus(0).ticks(), "nothing ran");
      assertNotNull(await(node.api.generate(TestNode.request("ok", 1, 1, SamplerSpec.pc(10)))));
    }
  }

  @Test
  void classConditionalRequestsAreServedAsOfflineAndBadLabelsAreRefused() throws Exception {
    // gmm8's exact score is class-conditional over its components: guided, unguided and unconditional requests
    // share the batch on two samplers, split across them, and each equals its offline chains bit for bit.
    InitialModel model = TestModels.analytic("vp");
    try (TestNode node = TestNode.start(KIT, "scorestream.samplers = [\"cpu:0\", \"cpu:1\"]\n"
        + "scorestream.coordinator.split-min-chains = 4\n", model)) {
      SamplerSpec spec = SamplerSpec.fewStep("ddim", 40);
      List<io.scorestream.model.sample.Conditioning> conds = List.of(
          io.scorestream.model.sample.Conditioning.labels(1.0, 3),
          io.scorestream.model.sample.Conditioning.labels(2.5, 0, 5, -1),
          io.scorestream.model.sample.Conditioning.NONE,
          io.scorestream.model.sample.Conditioning.labels(0.0, 7));
      List<CompletionStage<Result>> results = new ArrayList<>();
      for (int i = 0; i < conds.size(); i++) {
        results.add(node.api.generate(new GenerateRequest("c" + i, 12, 300 + i, spec, 0, null, conds.get(i))));
      }
      for (int i = 0; i < conds.size(); i++) {
        Result res = await(results.get(i));
        io.scorestream.model.sample.Sampling.Result off = io.scorestream.model.sample.Sampling.run(
            model.factory().create(), node.program(spec), 12, 300 + i, null, null, conds.get(i));
        assertArrayEquals(off.samples().data().asDouble(), res.samples(), "served = offline for " + conds.get(i));
      }
      for (GenerateRequest r : List.of(
          new GenerateRequest("bad0", 2, 1, spec, 0, null, io.scorestream.model.sample.Conditioning.labels(1.0, 8)),
          new GenerateRequest("bad1", 2, 1, spec, 0, null, io.scorestream.model.sample.Conditioning.NONE
              .withMask(new boolean[3], new double[3])))) {
        SampleEvent.Rejected rej = assertInstanceOf(SampleEvent.Rejected.class, await(node.events(r)).get(0));
        assertEquals(ErrorCode.INVALID_ARGUMENT, rej.code(), rej.message());
      }
    }
  }

  @Test
  void imageAndPointRequestsShareANodeEachBatchedWithItsOwnKind() throws Exception {
    // One node serves a class-conditional U-Net over 1x8x8 images (primary, "digits") and gmm8's exact score
    // ("points"). Interleaved requests for both run at once; each is served as offline, bit for bit, and each
    // model's sampler advanced exactly the chains of its own requests (its chain-steps are their network calls).
    Sde vp = Sde.named("vp");
    NetworkWeights unet = NetworkWeights.initialize(new io.scorestream.model.nn.UNetConfig(1, 8, 8, 8, 4, false, 3),
        11);
    InitialModel digits = new InitialModel("tiny unet", 0, ModelRegistry.network(unet, vp), vp, 64, unet);
    InitialModel points = TestModels.analytic("ve");
    java.util.Map<String, InitialModel> models = new java.util.LinkedHashMap<>();
    models.put("digits", digits);
    models.put("points", points);
    try (TestNode node = TestNode.start(KIT, "scorestream.samplers = [\"cpu:0\"]\n", models)) {
      assertEquals(List.of("digits", "points"), node.api.models().stream().map(ScoreStreamNode.ServedModel::name)
          .toList());
      assertArrayEquals(new long[] {1, 8, 8}, node.api.shape());
      assertArrayEquals(new long[] {2}, node.api.model("points").orElseThrow().shape());
      SamplerSpec imageSpec = SamplerSpec.fewStep("ddim", 6);
      SamplerSpec pointSpec = SamplerSpec.fewStep("ddim", 30);
      io.scorestream.model.sample.Conditioning imageLabels = io.scorestream.model.sample.Conditioning.labels(2.0, 0, 1, 2);
      io.scorestream.model.sample.Conditioning pointLabels = io.scorestream.model.sample.Conditioning.labels(1.0, 5);
      List<CompletionStage<Result>> images = new ArrayList<>();
      List<CompletionStage<Result>> dots = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        images.add(node.api.generate(new GenerateRequest("img" + i, 4, 40 + i, imageSpec, 0, null, imageLabels)));
        dots.add(node.api.generate(new GenerateRequest("pt" + i, 16, 50 + i, pointSpec, 0, null, pointLabels,
            "points")));
      }
      long imageCalls = 0;
      long pointCalls = 0;
      for (int i = 0; i < 3; i++) {
        Result img = await(images.get(i));
        Result pt = await(dots.get(i));
        assertEquals(64, img.dim());
        assertArrayEquals(new long[] {1, 8, 8}, img.values().shape(), "results carry the model's sample shape");
        assertEquals(2, pt.dim());
        io.scorestream.model.sample.Sampling.Result offImg = io.scorestream.model.sample.Sampling.run(
            digits.factory().create(), node.program(imageSpec), 4, 40 + i, null, null, imageLabels);
        assertArrayEquals(offImg.samples().data().asDouble(), img.samples(), "image request " + i);
        io.scorestream.model.sample.Sampling.Result offPt = io.scorestream.model.sample.Sampling.run(
            points.factory().create(), Programs.build(pointSpec, points.sde(), node.settings.coordinator()), 16,
            50 + i, null, null, pointLabels);
        assertArrayEquals(offPt.samples().data().asDouble(), pt.samples(), "point request " + i);
        imageCalls += img.networkCalls();
        pointCalls += pt.networkCalls();
      }
      awaitIdle(node);
      assertEquals(imageCalls, node.samplerStatus("digits", 0).chainSteps(), "the U-Net's sampler ran only images");
      assertEquals(pointCalls, node.samplerStatus("points", 0).chainSteps(), "gmm8's sampler ran only points");
      assertEquals(3, await(node.api.status("points")).accepted());
      assertEquals(3, await(node.api.status("digits")).accepted());
      // Labels are checked against the model the request names: gmm8 has 8 components, the U-Net 3 classes.
      for (GenerateRequest bad : List.of(
          new GenerateRequest("bad0", 2, 1, imageSpec, 0, null, io.scorestream.model.sample.Conditioning.labels(1.0, 5)),
          new GenerateRequest("bad1", 2, 1, pointSpec, 0, null, io.scorestream.model.sample.Conditioning.labels(1.0, 8),
              "points"),
          GenerateRequest.of(2, 1, pointSpec).withModel("nope"))) {
        SampleEvent.Rejected rej = assertInstanceOf(SampleEvent.Rejected.class, await(node.events(bad)).get(0));
        assertEquals(ErrorCode.INVALID_ARGUMENT, rej.code(), rej.message());
      }
      assertTrue(await(node.events(GenerateRequest.of(1, 1, pointSpec).withModel("nope"))).get(0).toString()
          .contains("digits, points"), "the refusal lists the served models");
    }
  }

  @Test
  void previewsAreTheTweedieEstimatesOfEveryChain() throws Exception {
    InitialModel model = TestModels.analytic("vp");
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER, model)) {
      SamplerSpec spec = SamplerSpec.pc(100);
      List<SampleEvent> events = await(node.events(new GenerateRequest("tw", 4, 17, spec, 10, null)));
      // Offline: the Tweedie estimates E[x0 | x_t] of the tick at which the chains first reached each step.
      java.util.Map<Integer, double[]> offline = new java.util.HashMap<>();
      io.scorestream.model.sample.Sampling.run(model.factory().create(), node.program(spec), 4, 17, null,
          (tick, step, total, t, x, denoised) -> offline.computeIfAbsent(step, k -> denoised.clone()));
      List<SampleEvent.Preview> previews = new ArrayList<>();
      for (SampleEvent e : events) if (e instanceof SampleEvent.Preview p) previews.add(p);
      assertFalse(previews.isEmpty(), "a reading consumer gets previews");
      int last = 0;
      for (SampleEvent.Preview p : previews) {
        assertEquals(4, p.chains());
        // Previews come after the first tick and then every preview-every steps. The session conflates previews
        // its reader has not taken yet, so the first-tick preview may be superseded by the step-10 one before
        // this reader asks (seen in a CI run); any preview that arrives is at one of those steps.
        assertTrue(p.step() == 1 || p.step() % 10 == 0, "step " + p.step());
        assertTrue(p.step() > last, "steps increase");
        last = p.step();
        assertArrayEquals(offline.get(p.step()), p.denoised(), "preview at step " + p.step());
      }
      SampleEvent.Completed done = assertInstanceOf(SampleEvent.Completed.class, events.get(events.size() - 1));
      assertArrayEquals(TestNode.offline(model.factory(), node.program(spec), 4, 17), done.result().samples());
    }
  }

  @Test
  void aConsumerThatCancelsItsStreamCancelsTheRequest() throws Exception {
    TestModels.Gate gate = new TestModels.Gate(5);
    try (TestNode node = TestNode.start(KIT, ONE_SAMPLER, TestModels.hooked(TestModels.analytic("vp"), gate))) {
      // Take Accepted and the first preview, then cancel the stream.
      List<SampleEvent> two = await(node.api.submit(new GenerateRequest("quit", 6, 1, SamplerSpec.pc(500), 1, null))
          .take(2).runWith(akka.stream.javadsl.Sink.seq(), KIT.system()));
      assertInstanceOf(SampleEvent.Preview.class, two.get(1));
      for (int i = 0; node.status().activeRequests() > 0; i++) {
        assertTrue(i < 10_000, "the request was never cancelled");
        Thread.sleep(5);
      }
      gate.open();
      assertEquals(0, node.samplerStatus(0).rows(), "its rows were freed at the next step boundary");
    }
  }

  @Test
  void aStandaloneNodeStartsFromConfiguration() throws Exception {
    com.typesafe.config.Config config = com.typesafe.config.ConfigFactory.parseString(
            "scorestream.samplers = [\"cpu:0\"]\nscorestream.model { source = \"analytic:gmm8\", sde = \"ve\" }")
        .withFallback(com.typesafe.config.ConfigFactory.parseResources("application-test.conf"))
        .withFallback(com.typesafe.config.ConfigFactory.load());
    try (ScoreStream api = ScoreStream.start(config)) {
      Result r = await(api.generate(GenerateRequest.of(5, 3, SamplerSpec.pc(50))));
      assertEquals(5, r.count());
      assertTrue(allFinite(r.samples()));
      assertEquals(1, await(api.status()).accepted());
      assertEquals(1L, await(api.versions()).current().orElseThrow().version());
    }
  }

  @Test
  void aHighPriorityRequestPreemptsASaturatedNodeAndEveryChainEndsWithItsOfflineSamples() throws Exception {
    // One sampler of 100 rows, held at its first network call (low0 alone) and its second (low0 and low1).
    TestModels.Gate gate = new TestModels.Gate(1, 2);
    InitialModel model = TestModels.analytic("vp");
    try (TestNode node = TestNode.start(KIT, "scorestream.samplers = [\"cpu:0\"]\n"
        + "scorestream.sampler.max-batch-rows = 100\n", TestModels.hooked(model, gate))) {
      AtomicInteger finished = new AtomicInteger();
      List<CompletionStage<Result>> low = new ArrayList<>();
      List<CompletionStage<Integer>> lowAt = new ArrayList<>();
      // Six requests of 50 chains: two fill the batch, four wait for rows.
      // (Submitted one at a time: sessions reach the coordinator in any order.)
      for (int i = 0; i < 6; i++) {
        low.add(node.api.generate(TestNode.request("low" + i, 50, 10 + i, SamplerSpec.pc(200))));
        lowAt.add(low.get(i).thenApply(r -> finished.incrementAndGet()));
        awaitActive(node, i + 1);
        if (i == 0) gate.awaitReached(0);
      }
      gate.open(0);
      gate.awaitReached(1);
      // Shorter than the running requests by less than their head start would matter: without preemption it would
      // wait for their 200 steps, then take its own 150.
      GenerateRequest urgent = TestNode.request("urgent", 10, 99, SamplerSpec.pc(150)).withPriority(5);
      CompletionStage<Result> high = node.api.generate(urgent);
      CompletionStage<Integer> highDone = high.thenApply(r -> finished.incrementAndGet());
      awaitActive(node, 7);
      assertEquals(4, node.status().queuedRequests(), "the urgent request is routed at once, into a full batch");
      gate.open();
      // The sampler set low0 and low1 aside at its next step boundary and urgent ran from then on, alone, at one
      // network call a step: it ended first, after its own 151 calls, as on an idle node.
      int urgentAt = await(highDone);
      assertEquals(1, urgentAt, "urgent finished " + urgentAt + "th; low0 " + await(lowAt.get(0)) + "th");
      assertArrayEquals(TestNode.offline(model.factory(), node.program(urgent.sampler()), 10, 99),
          await(high).samples(), "priority changes when, not what");
      // The default preemption (exclusive) set both running requests aside: urgent ran in a batch of its own.
      assertEquals(2, node.samplerStatus(0).preemptions());
      for (int i = 0; i < 6; i++) {
        assertArrayEquals(TestNode.offline(model.factory(), node.program(SamplerSpec.pc(200)), 50, 10 + i),
            await(low.get(i)).samples(), "low" + i + (i == 1 ? ", set aside mid-run and resumed," : "")
                + " ends with its offline samples");
      }
    }
  }

  @Test
  void chainsMoveFromALoadedSamplerToAFreeOneAndEndWithTheirOfflineSamples() throws Exception {
    InitialModel model = TestModels.analytic("vp");
    // Requests are not split at admission here: a request of 100 chains goes whole to sampler 0, and rebalancing
    // moves half of it, with the chains' states, to sampler 1.
    try (TestNode node = TestNode.start(KIT, "scorestream.samplers = [\"cpu:0\", \"cpu:1\"]\n"
        + "scorestream.coordinator.split-min-chains = 1000\n"
        + "scorestream.coordinator.rebalance-every = 20ms\n"
        + "scorestream.coordinator.rebalance-min-chains = 16\n", model)) {
      SamplerSpec spec = SamplerSpec.pc(5000);
      Result r = await(node.api.generate(TestNode.request("whole", 100, 31, spec)));
      assertArrayEquals(TestNode.offline(model.factory(), node.program(spec), 100, 31), r.samples(),
          "moved mid-run, the same samples");
      long steps0 = node.samplerStatus(0).chainSteps();
      long steps1 = node.samplerStatus(1).chainSteps();
      // The first move takes half (sampler 0 held 100, sampler 1 none); later ones, if a half ends early, less.
      assertTrue(node.samplerStatus(0).released() >= 50, node.samplerStatus(0).toString());
      assertEquals(node.samplerStatus(0).released() + node.samplerStatus(1).released(),
          node.status().chainsRebalanced(), "every chain released was routed on");
      assertTrue(steps0 > 0 && steps1 > 0, steps0 + " and " + steps1);
      // Nothing was redone: the two samplers' rows advanced add up to the request's chains times its calls.
      assertEquals(100L * node.program(spec).nominalCalls(), steps0 + steps1);
      assertEquals(100L * node.program(spec).nominalCalls(), r.networkCalls());
    }
  }

  private static void awaitActive(TestNode node, int n) throws Exception {
    for (int i = 0; node.status().activeRequests() < n; i++) {
      if (i > 60_000) throw new AssertionError("request " + n + " was never admitted");
      Thread.sleep(2);
    }
  }
}
