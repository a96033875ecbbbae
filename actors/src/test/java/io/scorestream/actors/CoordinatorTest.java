package io.scorestream.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import io.scorestream.config.CoordinatorSettings;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.sde.Sde;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The coordinator alone, with probes for samplers and sessions: admission, routing, deadlines, retries. */
class CoordinatorTest {
  private static final ActorTestKit KIT = TestNode.kit();
  private static final Sde VP = Sde.named("vp");

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  private static CoordinatorSettings settings(String overrides) {
    return TestNode.settings(overrides).coordinator();
  }

  private record Rig(ActorRef<Coordinator.Command> coordinator, List<TestProbe<Sampler.Command>> samplers) {}

  private static Rig rig(CoordinatorSettings settings, int... maxRows) {
    ActorRef<Coordinator.Command> c = KIT.spawn(Coordinator.create(settings, VP, 2));
    List<TestProbe<Sampler.Command>> probes = new java.util.ArrayList<>();
    for (int i = 0; i < maxRows.length; i++) {
      TestProbe<Sampler.Command> p = KIT.createTestProbe();
      c.tell(new Coordinator.RegisterSampler(i, "cpu:" + i, p.ref(), maxRows[i]));
      probes.add(p);
    }
    return new Rig(c, probes);
  }

  private static TestProbe<RequestSession.Command> submit(Rig rig, GenerateRequest r) {
    TestProbe<RequestSession.Command> session = KIT.createTestProbe();
    rig.coordinator().tell(new Coordinator.Submit(r, session.ref()));
    return session;
  }

  private static Sampler.ChainSlice slice(TestProbe<Sampler.Command> sampler) {
    return sampler.expectMessageClass(Sampler.Enqueue.class).slice();
  }

  @Test
  void splitsLargeRequestsAcrossSamplersKeepingChainIndices() {
    Rig rig = rig(settings("scorestream.coordinator.split-min-chains = 64"), 100, 100);
    TestProbe<RequestSession.Command> s1 = submit(rig, new GenerateRequest("big", 150, 7, SamplerSpec.pc(10), 0, null));
    Sampler.ChainSlice a = slice(rig.samplers().get(0));
    Sampler.ChainSlice b = slice(rig.samplers().get(1));
    assertEquals(0, a.firstChain());
    assertEquals(75, a.count());
    assertEquals(75, b.firstChain());
    assertEquals(75, b.count());
    assertEquals(7, a.seed());
    assertEquals(0, s1.expectMessageClass(RequestSession.Admitted.class).accepted().queuePosition());
    // A small request goes whole to the least-loaded sampler.
    rig.coordinator().tell(new Coordinator.SliceEnded(1, "big", 75, 75));
    submit(rig, new GenerateRequest("small", 10, 8, SamplerSpec.pc(10), 0, null));
    Sampler.ChainSlice small = slice(rig.samplers().get(1));
    assertEquals(0, small.firstChain());
    assertEquals(10, small.count());
    rig.samplers().get(0).expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void queuesWhatDoesNotFitAndRoutesItAsSlicesEnd() {
    Rig rig = rig(settings("scorestream.coordinator.split-min-chains = 1000"), 10);
    TestProbe<Sampler.Command> sampler = rig.samplers().get(0);
    submit(rig, new GenerateRequest("first", 8, 1, SamplerSpec.pc(100), 0, null));
    assertEquals(8, slice(sampler).count());
    TestProbe<RequestSession.Command> s2 = submit(rig, new GenerateRequest("second", 6, 2, SamplerSpec.pc(100), 0,
        null));
    // Two rows are free: the first two chains of "second" start now, the rest waits at the head of the queue.
    Sampler.ChainSlice part1 = slice(sampler);
    assertEquals(0, part1.firstChain());
    assertEquals(2, part1.count());
    SampleEvent.Accepted accepted = s2.expectMessageClass(RequestSession.Admitted.class).accepted();
    assertEquals(1, accepted.queuePosition());
    assertTrue(accepted.eta().compareTo(Duration.ZERO) > 0);
    rig.coordinator().tell(new Coordinator.SliceEnded(0, "first", 0, 8));
    Sampler.ChainSlice part2 = slice(sampler);
    assertEquals(2, part2.firstChain());
    assertEquals(4, part2.count());
  }

  @Test
  void rejectsOverloadAtOnceAndInvalidInputWithTypedErrors() {
    Rig rig = rig(settings("scorestream.coordinator.queue-bound = 1"), 4);
    submit(rig, new GenerateRequest("run", 4, 1, SamplerSpec.pc(100), 0, null));
    slice(rig.samplers().get(0));
    submit(rig, new GenerateRequest("wait", 4, 2, SamplerSpec.pc(100), 0, null))
        .expectMessageClass(RequestSession.Admitted.class);
    SampleEvent over = submit(rig, new GenerateRequest("over", 1, 3, SamplerSpec.pc(100), 0, null))
        .expectMessageClass(RequestSession.Terminate.class).terminal();
    SampleEvent.Rejected r = assertInstanceOf(SampleEvent.Rejected.class, over);
    assertEquals(ErrorCode.OVERLOADED, r.code());
    assertTrue(r.retryAfter().compareTo(Duration.ofMillis(100)) >= 0, "at least retry-after-min");
    SampleEvent dup = submit(rig, new GenerateRequest("run", 1, 3, SamplerSpec.pc(100), 0, null))
        .expectMessageClass(RequestSession.Terminate.class).terminal();
    assertEquals(ErrorCode.INVALID_ARGUMENT, ((SampleEvent.Rejected) dup).code(), "duplicate id");
    SampleEvent tooMany = submit(rig, new GenerateRequest("many", 100_000, 3, SamplerSpec.pc(100), 0, null))
        .expectMessageClass(RequestSession.Terminate.class).terminal();
    assertEquals(ErrorCode.INVALID_ARGUMENT, ((SampleEvent.Rejected) tooMany).code());
  }

  @Test
  void deadlineCancelsRunningSlicesAndFailsTheRequest() {
    Rig rig = rig(settings(""), 100);
    TestProbe<RequestSession.Command> session = submit(rig,
        new GenerateRequest("late", 5, 1, SamplerSpec.pc(100), 0, Duration.ofMillis(100)));
    slice(rig.samplers().get(0));
    session.expectMessageClass(RequestSession.Admitted.class);
    SampleEvent end = session.expectMessageClass(RequestSession.Terminate.class).terminal();
    assertEquals(ErrorCode.DEADLINE_EXCEEDED, assertInstanceOf(SampleEvent.Failed.class, end).code());
    assertEquals("late", rig.samplers().get(0).expectMessageClass(Sampler.Cancel.class).requestId());
  }

  @Test
  void cancelOfAQueuedRequestRoutesNothing() {
    Rig rig = rig(settings(""), 2);
    submit(rig, new GenerateRequest("busy", 2, 1, SamplerSpec.pc(100), 0, null));
    slice(rig.samplers().get(0));
    TestProbe<RequestSession.Command> queued = submit(rig, new GenerateRequest("q", 2, 2, SamplerSpec.pc(100), 0,
        null));
    queued.expectMessageClass(RequestSession.Admitted.class);
    rig.coordinator().tell(new Coordinator.Cancel("q", "changed my mind"));
    assertInstanceOf(SampleEvent.Cancelled.class, queued.expectMessageClass(RequestSession.Terminate.class).terminal());
    rig.coordinator().tell(new Coordinator.SliceEnded(0, "busy", 0, 2));
    rig.samplers().get(0).expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void abortedSlicesAreRetriedFromTheirSeedsThenFailed() {
    Rig rig = rig(settings("scorestream.coordinator.max-retries = 1"), 50);
    TestProbe<Sampler.Command> sampler = rig.samplers().get(0);
    TestProbe<RequestSession.Command> session = submit(rig,
        new GenerateRequest("r", 6, 42, SamplerSpec.pc(100), 0, null));
    Sampler.ChainSlice s = slice(sampler);
    session.expectMessageClass(RequestSession.Admitted.class);
    rig.coordinator().tell(new Coordinator.SlicesAborted(0, List.of(new Coordinator.AbortedSlice(s, true)), "boom"));
    Sampler.ChainSlice again = slice(sampler);
    assertEquals(s, again, "the same chains and seed, routed again");
    rig.coordinator().tell(new Coordinator.SlicesAborted(0, List.of(new Coordinator.AbortedSlice(again, true)),
        "boom again"));
    SampleEvent end = session.expectMessageClass(RequestSession.Terminate.class).terminal();
    SampleEvent.Failed f = assertInstanceOf(SampleEvent.Failed.class, end);
    assertEquals(ErrorCode.INTERNAL, f.code());
    assertTrue(f.message().contains("boom again"), f.message());
  }

  @Test
  void slicesOfAStoppedSamplerMoveToAnother() {
    Rig rig = rig(settings("scorestream.coordinator.split-min-chains = 1000"), 20, 20);
    TestProbe<RequestSession.Command> session = submit(rig,
        new GenerateRequest("r", 5, 9, SamplerSpec.pc(100), 0, null));
    Sampler.ChainSlice first = slice(rig.samplers().get(0));
    session.expectMessageClass(RequestSession.Admitted.class);
    rig.samplers().get(0).stop();
    Sampler.ChainSlice moved = slice(rig.samplers().get(1));
    assertEquals(first.firstChain(), moved.firstChain());
    assertEquals(first.count(), moved.count());
  }

  @Test
  void programsFollowThePerSdeDefaults() {
    CoordinatorSettings s = settings("");
    SamplerProgram.PredictorCorrector ve = (SamplerProgram.PredictorCorrector)
        Programs.build(SamplerSpec.pc(100), Sde.named("ve"), s);
    assertEquals(io.scorestream.model.sample.Predictor.REVERSE_DIFFUSION, ve.predictor());
    assertEquals(io.scorestream.model.sample.Corrector.LANGEVIN, ve.corrector());
    assertEquals(0.16, ve.snr());
    SamplerProgram.PredictorCorrector vp = (SamplerProgram.PredictorCorrector)
        Programs.build(SamplerSpec.defaults(), Sde.named("vp"), s);
    assertEquals(io.scorestream.model.sample.Predictor.EULER_MARUYAMA, vp.predictor());
    assertEquals(io.scorestream.model.sample.Corrector.NONE, vp.corrector());
    assertEquals(s.defaultSteps(), vp.steps());
    ScoreStreamException e = org.junit.jupiter.api.Assertions.assertThrows(ScoreStreamException.class,
        () -> Programs.build(SamplerSpec.ode("midpoint", 10), VP, s));
    assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
  }
}
