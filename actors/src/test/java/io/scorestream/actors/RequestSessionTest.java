package io.scorestream.actors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import io.scorestream.model.sample.SamplerSpec;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A request session alone: ordering, conflation of previews, merging of slices, the terminal event; several
 * subscribers, each at its own pace; reads, cancellation and retention.
 */
class RequestSessionTest {
  private static final ActorTestKit KIT = TestNode.kit();

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  private record Rig(ActorRef<RequestSession.Command> session, TestProbe<Coordinator.Command> coordinator,
                     TestProbe<SampleEvent> subscriber) {}

  private static Rig rig(GenerateRequest r) {
    TestProbe<Coordinator.Command> coordinator = KIT.createTestProbe();
    TestProbe<SampleEvent> subscriber = KIT.createTestProbe();
    ActorRef<RequestSession.Command> session = KIT.spawn(RequestSession.create(
        new RequestSession.Start(r, "pc", Duration.ZERO, null, null, null), x -> coordinator.ref(), LINGER));
    session.tell(new RequestSession.Subscribe(subscriber.ref(), "k", "api", true, null));
    coordinator.expectMessageClass(Coordinator.Submit.class);
    return new Rig(session, coordinator, subscriber);
  }

  private static final Duration LINGER = Duration.ofSeconds(30);

  /** A session started detached (retained 30 s), submitting to coordinator; admission and watcher may be null. */
  private static ActorRef<RequestSession.Command> detached(GenerateRequest r, TestProbe<Coordinator.Command> coordinator,
                                                           ActorRef<RequestSession.Admission> admission,
                                                           ActorRef<RequestSession.Watch> watcher) {
    ActorRef<RequestSession.Command> session = KIT.spawn(RequestSession.create(
        new RequestSession.Start(r, "pc", Duration.ofSeconds(30), admission, watcher, null), x -> coordinator.ref(),
        LINGER));
    return session;
  }
  private static final RequestSession.Ack ACK = new RequestSession.Ack("k");

  private static double[] filled(int n, double v) {
    double[] a = new double[n];
    java.util.Arrays.fill(a, v);
    return a;
  }

  @Test
  void previewsConflateWhileTheSubscriberIsBusyAndTheEndIsNeverDropped() {
    Rig rig = rig(new GenerateRequest("s", 2, 1, SamplerSpec.pc(100), 1, null));
    rig.session().tell(new RequestSession.Admitted(new SampleEvent.Accepted("s", 2, 0, Duration.ofSeconds(1))));
    assertInstanceOf(SampleEvent.Accepted.class, rig.subscriber().receiveMessage());
    // The subscriber has not taken Accepted yet: 50 previews arrive and must not pile up.
    for (int step = 1; step <= 50; step++) {
      rig.session().tell(new RequestSession.SlicePreview("s", 0, 2, step, 100, filled(4, step)));
    }
    rig.subscriber().expectNoMessage(Duration.ofMillis(50));
    rig.session().tell(ACK);
    SampleEvent.Preview p = assertInstanceOf(SampleEvent.Preview.class, rig.subscriber().receiveMessage());
    assertEquals(50, p.step(), "latest wins");
    assertArrayEquals(filled(4, 50), p.denoised());
    // While that preview is unacknowledged, more previews and then the result arrive.
    rig.session().tell(new RequestSession.SlicePreview("s", 0, 2, 60, 100, filled(4, 60)));
    rig.session().tell(new RequestSession.SliceCompleted("s", 0, 2, filled(4, 7), List.of(3L), 202));
    assertEquals("s", ((Coordinator.RequestEnded) rig.coordinator().receiveMessage()).requestId());
    rig.subscriber().expectNoMessage(Duration.ofMillis(50));
    rig.session().tell(ACK);
    SampleEvent.Completed done = assertInstanceOf(SampleEvent.Completed.class, rig.subscriber().receiveMessage());
    assertArrayEquals(filled(4, 7), done.result().samples());
    assertEquals(List.of(3L), done.result().modelVersions());
    assertEquals(202, done.result().networkCalls());
    rig.session().tell(ACK);
    TestProbe<Object> watcher = KIT.createTestProbe();
    watcher.expectTerminated(rig.session(), Duration.ofSeconds(10));
  }

  @Test
  void aRequestThatEndsBeforeItsFirstPreviewIsTakenStillShowsOne() {
    Rig rig = rig(new GenerateRequest("q", 2, 1, SamplerSpec.pc(30), 5, null));
    rig.session().tell(new RequestSession.Admitted(new SampleEvent.Accepted("q", 2, 0, Duration.ofSeconds(1))));
    assertInstanceOf(SampleEvent.Accepted.class, rig.subscriber().receiveMessage());
    // A fast request: its first preview and its samples arrive while Accepted is still unacknowledged.
    rig.session().tell(new RequestSession.SlicePreview("q", 0, 2, 1, 30, filled(4, 1)));
    rig.session().tell(new RequestSession.SliceCompleted("q", 0, 2, filled(4, 7), List.of(3L), 30));
    rig.session().tell(ACK);
    SampleEvent.Preview p = assertInstanceOf(SampleEvent.Preview.class, rig.subscriber().receiveMessage());
    assertArrayEquals(filled(4, 1), p.denoised(), "the latest preview, the same for every subscriber");
    rig.session().tell(ACK);
    SampleEvent.Completed done = assertInstanceOf(SampleEvent.Completed.class, rig.subscriber().receiveMessage());
    assertArrayEquals(filled(4, 7), done.result().samples());
  }

  @Test
  void slicesFromSeveralSamplersMergeIntoOneResult() {
    Rig rig = rig(new GenerateRequest("m", 3, 1, SamplerSpec.pc(100), 0, null));
    // A slice can finish before the coordinator's admission reaches the session; Accepted still comes first.
    rig.session().tell(new RequestSession.SliceCompleted("m", 1, 2, new double[] {1, 2, 3, 4}, List.of(2L, 3L), 20));
    rig.subscriber().expectNoMessage(Duration.ofMillis(50));
    rig.session().tell(new RequestSession.Admitted(new SampleEvent.Accepted("m", 3, 0, Duration.ofSeconds(1))));
    assertInstanceOf(SampleEvent.Accepted.class, rig.subscriber().receiveMessage());
    rig.session().tell(ACK);
    rig.session().tell(new RequestSession.SliceCompleted("m", 1, 2, new double[] {9, 9, 9, 9}, List.of(9L), 99));
    rig.session().tell(new RequestSession.SliceCompleted("m", 0, 1, new double[] {5, 6}, List.of(1L), 10));
    SampleEvent.Completed done = assertInstanceOf(SampleEvent.Completed.class, rig.subscriber().receiveMessage());
    assertArrayEquals(new double[] {5, 6, 1, 2, 3, 4}, done.result().samples(), "a duplicate slice is ignored");
    assertEquals(List.of(1L, 2L, 3L), done.result().modelVersions());
    assertEquals(30, done.result().networkCalls());
  }

  @Test
  void oneSlicesValuesPassThroughUncopiedAndSplitOnesAreMergedWithTheirShape() {
    // A request held by one sampler: the sampler's preview and samples are the event's and the result's, the same
    // objects (copied once, by the sampler). One split over two samplers is merged, keeping the image shape.
    long[] image = {1, 2, 2};
    Rig one = rig(new GenerateRequest("w", 2, 1, SamplerSpec.pc(10), 1, null));
    one.session().tell(new RequestSession.Admitted(new SampleEvent.Accepted("w", 2, 0, Duration.ofSeconds(1))));
    assertInstanceOf(SampleEvent.Accepted.class, one.subscriber().receiveMessage());
    one.session().tell(ACK);
    Samples preview = Samples.adopt(image, 2, filled(8, 0.5));
    one.session().tell(new RequestSession.SlicePreview("w", 0, 2, 3, 10, preview));
    SampleEvent.Preview p = assertInstanceOf(SampleEvent.Preview.class, one.subscriber().receiveMessage());
    org.junit.jupiter.api.Assertions.assertSame(preview, p.estimates());
    one.session().tell(ACK);
    Samples finals = Samples.adopt(image, 2, filled(8, 0.25));
    one.session().tell(new RequestSession.SliceCompleted("w", 0, 2, finals, List.of(1L), 20));
    SampleEvent.Completed done = assertInstanceOf(SampleEvent.Completed.class, one.subscriber().receiveMessage());
    org.junit.jupiter.api.Assertions.assertSame(finals, done.result().values());

    Rig split = rig(new GenerateRequest("v", 3, 1, SamplerSpec.pc(10), 1, null));
    split.session().tell(new RequestSession.Admitted(new SampleEvent.Accepted("v", 3, 0, Duration.ofSeconds(1))));
    assertInstanceOf(SampleEvent.Accepted.class, split.subscriber().receiveMessage());
    split.session().tell(ACK);
    split.session().tell(new RequestSession.SlicePreview("v", 1, 2, 4, 10, Samples.adopt(image, 2, filled(8, 2))));
    SampleEvent.Preview sp = assertInstanceOf(SampleEvent.Preview.class, split.subscriber().receiveMessage());
    assertArrayEquals(image, sp.estimates().shape());
    assertTrue(!sp.estimates().rowFinite(0) && sp.estimates().rowFinite(1), "chain 0 has not reported: NaN");
    split.session().tell(ACK);
    split.session().tell(new RequestSession.SliceCompleted("v", 0, 1, Samples.adopt(image, 1, filled(4, 5)),
        List.of(1L), 5));
    split.session().tell(new RequestSession.SliceCompleted("v", 1, 2, Samples.adopt(image, 2, filled(8, 6)),
        List.of(1L), 5));
    SampleEvent.Completed merged = assertInstanceOf(SampleEvent.Completed.class, split.subscriber().receiveMessage());
    assertArrayEquals(image, merged.result().values().shape());
    assertArrayEquals(new double[] {5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6}, merged.result().samples());
  }

  @Test
  void aFailedSliceFailsTheRequestOnce() {
    Rig rig = rig(new GenerateRequest("f", 4, 1, SamplerSpec.pc(100), 0, null));
    rig.session().tell(new RequestSession.Admitted(new SampleEvent.Accepted("f", 4, 0, Duration.ofSeconds(1))));
    rig.subscriber().receiveMessage();
    rig.session().tell(ACK);
    rig.session().tell(new RequestSession.SliceFailed("f", 0, 2, ErrorCode.NON_FINITE, "chain 1: NaN"));
    rig.session().tell(new RequestSession.Terminate(new SampleEvent.Cancelled("f", "late cancel")));
    SampleEvent.Failed failed = assertInstanceOf(SampleEvent.Failed.class, rig.subscriber().receiveMessage());
    assertEquals(ErrorCode.NON_FINITE, failed.code());
    rig.coordinator().expectMessageClass(Coordinator.RequestEnded.class);
    rig.session().tell(ACK);
    rig.subscriber().expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void aSubscriberThatGoesAwayCancelsTheRequest() {
    TestProbe<Coordinator.Command> coordinator = KIT.createTestProbe();
    TestProbe<SampleEvent> subscriber = KIT.createTestProbe();
    ActorRef<RequestSession.Command> session = KIT.spawn(RequestSession.create(new RequestSession.Start(
        new GenerateRequest("gone", 1, 1, SamplerSpec.pc(10), 0, null), "pc", Duration.ZERO, null, null, null),
        x -> coordinator.ref(), LINGER));
    session.tell(new RequestSession.Subscribe(subscriber.ref(), "k", "api", true, null));
    coordinator.expectMessageClass(Coordinator.Submit.class);
    subscriber.stop();
    Coordinator.Cancel c = coordinator.expectMessageClass(Coordinator.Cancel.class);
    assertEquals("gone", c.requestId());
    assertTrue(c.reason().contains("subscriber"));
  }

  @Test
  void subscribersTakeEventsAtTheirOwnPaceAndALateOneGetsTheStateSoFar() {
    TestProbe<Coordinator.Command> coordinator = KIT.createTestProbe();
    TestProbe<RequestSession.Admission> admission = KIT.createTestProbe();
    TestProbe<RequestSession.Watch> watcher = KIT.createTestProbe();
    GenerateRequest r = new GenerateRequest("multi", 2, 1, SamplerSpec.pc(100), 1, null);
    ActorRef<RequestSession.Command> session = detached(r, coordinator, admission.ref(), watcher.ref());
    assertEquals(session, ((RequestSession.Hosted) watcher.receiveMessage()).session());
    coordinator.expectMessageClass(Coordinator.Submit.class);
    TestProbe<SampleEvent> fast = KIT.createTestProbe();
    TestProbe<SampleEvent> slow = KIT.createTestProbe();
    session.tell(new RequestSession.Subscribe(fast.ref(), "fast", "sse", false, null));
    session.tell(new RequestSession.Subscribe(slow.ref(), "slow", "websocket", false, null));
    session.tell(new RequestSession.Admitted(new SampleEvent.Accepted("multi", 2, 0, Duration.ofSeconds(1))));
    assertInstanceOf(RequestSession.Admission.Admitted.class, admission.receiveMessage());
    assertInstanceOf(SampleEvent.Accepted.class, fast.receiveMessage());
    assertInstanceOf(SampleEvent.Accepted.class, slow.receiveMessage());
    session.tell(new RequestSession.Ack("fast"));
    // The fast subscriber takes every preview; the slow one has not taken Accepted and gets only the latest.
    for (int step = 1; step <= 3; step++) {
      session.tell(new RequestSession.SlicePreview("multi", 0, 2, step, 100, filled(4, step)));
      assertEquals(step, assertInstanceOf(SampleEvent.Preview.class, fast.receiveMessage()).step());
      session.tell(new RequestSession.Ack("fast"));
    }
    slow.expectNoMessage(Duration.ofMillis(50));
    session.tell(new RequestSession.Ack("slow"));
    assertEquals(3, assertInstanceOf(SampleEvent.Preview.class, slow.receiveMessage()).step());
    session.tell(new RequestSession.Ack("slow"));

    // A follower that goes away does not cancel the request.
    fast.stop();
    coordinator.expectNoMessage(Duration.ofMillis(100));

    TestProbe<RequestSession.Status> reads = KIT.createTestProbe();
    session.tell(new RequestSession.Get(reads.ref()));
    RequestSession.Snapshot running = reads.receiveMessage().snapshot();
    assertEquals("running", running.state());
    assertEquals(3, running.latest().step());
    assertEquals(3, running.previews());
    assertEquals(java.util.Map.of("sse", 3L, "websocket", 1L), running.delivered());

    session.tell(new RequestSession.SliceCompleted("multi", 0, 2, filled(4, 7), List.of(1L), 100));
    assertArrayEquals(filled(4, 7), assertInstanceOf(SampleEvent.Completed.class, slow.receiveMessage())
        .result().samples());
    session.tell(new RequestSession.Ack("slow"));
    assertInstanceOf(RequestSession.Finished.class, watcher.receiveMessage());

    // Retained after its end: a late subscriber gets Accepted, the latest preview and the result.
    TestProbe<SampleEvent> late = KIT.createTestProbe();
    session.tell(new RequestSession.Subscribe(late.ref(), "late", "sse", false, null));
    assertInstanceOf(SampleEvent.Accepted.class, late.receiveMessage());
    session.tell(new RequestSession.Ack("late"));
    assertInstanceOf(SampleEvent.Preview.class, late.receiveMessage());
    session.tell(new RequestSession.Ack("late"));
    assertInstanceOf(SampleEvent.Completed.class, late.receiveMessage());
    session.tell(new RequestSession.Ack("late"));
    session.tell(new RequestSession.Get(reads.ref()));
    assertEquals("completed", reads.receiveMessage().snapshot().state());
    TestProbe<RequestSession.CancelReply> cancels = KIT.createTestProbe();
    session.tell(new RequestSession.Cancel(cancels.ref()));
    assertInstanceOf(RequestSession.CancelReply.AlreadyFinished.class, cancels.receiveMessage());
    // Its directory forgets it: a finished session with no subscriber stops.
    session.tell(RequestSession.Evict.INSTANCE);
    reads.expectTerminated(session, Duration.ofSeconds(10));
  }

  @Test
  void aCancelReachesTheCoordinatorAndEverySubscriberGetsTheEnd() {
    TestProbe<Coordinator.Command> coordinator = KIT.createTestProbe();
    GenerateRequest r = new GenerateRequest("c", 1, 1, SamplerSpec.pc(100), 1, null);
    ActorRef<RequestSession.Command> session = detached(r, coordinator, null, null);
    coordinator.expectMessageClass(Coordinator.Submit.class);
    TestProbe<SampleEvent> a = KIT.createTestProbe();
    TestProbe<SampleEvent> b = KIT.createTestProbe();
    session.tell(new RequestSession.Subscribe(a.ref(), "a", "sse", false, null));
    session.tell(new RequestSession.Subscribe(b.ref(), "b", "sse", false, null));
    session.tell(new RequestSession.Admitted(new SampleEvent.Accepted("c", 1, 0, Duration.ofSeconds(1))));
    a.receiveMessage();
    b.receiveMessage();
    session.tell(new RequestSession.Ack("a"));
    session.tell(new RequestSession.Ack("b"));
    TestProbe<RequestSession.CancelReply> cancels = KIT.createTestProbe();
    session.tell(new RequestSession.Cancel(cancels.ref()));
    assertInstanceOf(RequestSession.CancelReply.Cancelling.class, cancels.receiveMessage());
    assertEquals("c", coordinator.expectMessageClass(Coordinator.Cancel.class).requestId());
    session.tell(new RequestSession.Terminate(new SampleEvent.Cancelled("c", "cancelled by the client")));
    assertInstanceOf(SampleEvent.Cancelled.class, a.receiveMessage());
    assertInstanceOf(SampleEvent.Cancelled.class, b.receiveMessage());
  }

  @Test
  void aRefusedRequestAnswersItsAdmissionAndStops() {
    TestProbe<Coordinator.Command> coordinator = KIT.createTestProbe();
    TestProbe<RequestSession.Admission> admission = KIT.createTestProbe();
    GenerateRequest r = new GenerateRequest("no", 1, 1, SamplerSpec.pc(100), 1, null);
    ActorRef<RequestSession.Command> session = detached(r, coordinator, admission.ref(), null);
    coordinator.expectMessageClass(Coordinator.Submit.class);
    session.tell(new RequestSession.Terminate(new SampleEvent.Rejected("no", ErrorCode.OVERLOADED, "full",
        Duration.ofSeconds(1))));
    RequestSession.Admission.Refused refused = assertInstanceOf(RequestSession.Admission.Refused.class,
        admission.receiveMessage());
    assertEquals(ErrorCode.OVERLOADED, refused.rejected().code());
    admission.expectTerminated(session, Duration.ofSeconds(10));
  }
}
