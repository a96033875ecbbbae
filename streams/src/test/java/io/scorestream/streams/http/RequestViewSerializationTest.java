package io.scorestream.streams.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import akka.serialization.jackson.JacksonCborSerializer;
import com.typesafe.config.ConfigFactory;
import io.scorestream.actors.ClusterMessage;
import io.scorestream.actors.ErrorCode;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.Result;
import io.scorestream.actors.SampleEvent;
import io.scorestream.actors.Samples;
import io.scorestream.model.sample.Conditioning;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.protocol.json.SampleStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every message of the HTTP gateway's request views that may cross members (a view is a sharded entity on some
 * gateway member; boards, subscribers and askers are on others) goes through Akka's Jackson CBOR serializer and
 * comes back with the same values; the list is checked against the view's protocol, so a new message cannot be left
 * out.
 */
class RequestViewSerializationTest {
  private static ActorTestKit kit;

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create("view-serialization", ConfigFactory.parseString(
        "akka.actor.provider = cluster\nakka.remote.artery.canonical.port = 0\n"
            + "akka.remote.artery.canonical.hostname = 127.0.0.1"));
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private List<ClusterMessage> messages() {
    TestProbe<RequestView.Admission> admission = kit.createTestProbe();
    TestProbe<RequestView.Finished> finished = kit.createTestProbe();
    TestProbe<RequestView.Status> status = kit.createTestProbe();
    TestProbe<RequestView.Outbound> subscriber = kit.createTestProbe();
    TestProbe<RequestView.Hosted> watcher = kit.createTestProbe();
    TestProbe<RequestView.CancelReply> cancel = kit.createTestProbe();
    TestProbe<RequestView.Command> view = kit.createTestProbe();
    GenerateRequest request = new GenerateRequest("r-1", 16, -7L, SamplerSpec.fewStep("ddim", 25).withFewStep(0.5,
        "karras", null), 5, Duration.ofSeconds(90), Conditioning.labels(3.0, 1, 2, -1), "digits", 4);
    double[] values = {0.5, -1, Double.NaN, 3e-300, 7, -0.0};
    Samples image = Samples.copyOf(new long[] {1, 1, 3}, 2, values);
    List<ClusterMessage> out = new ArrayList<>();
    out.add(new RequestView.Start(request, "ddim", admission.getRef(), finished.getRef(), watcher.getRef()));
    out.add(new RequestView.Get(status.getRef()));
    out.add(new RequestView.Subscribe(subscriber.getRef(), RequestView.Transport.SSE, watcher.getRef()));
    out.add(new RequestView.Subscribe(subscriber.getRef(), RequestView.Transport.WEBSOCKET, null));
    out.add(new RequestView.Unsubscribe(subscriber.getRef()));
    out.add(new RequestView.Delivered(RequestView.Transport.WEBSOCKET));
    out.add(new RequestView.Cancel(cancel.getRef()));
    out.add(RequestView.Evict.INSTANCE);
    out.add(new RequestView.Status(null));
    out.add(new RequestView.Status(new SampleStatus("r-1", "completed", -7L, 2, "ddim", 0, 12L, 25, 25, 4L, 1L, 3L,
        3, new double[][] {{1, 2, 3}, {4, 5, 6}}, List.of(1L, 2L), 52L, 12.5, null, null)));
    out.add(new RequestView.Finished("r-1"));
    out.add(new RequestView.Hosted("r-1", view.getRef()));
    out.add(new RequestView.Deliver(new SampleEvent.Accepted("r-1", 16, 3, Duration.ofMillis(1234))));
    out.add(new RequestView.Deliver(new SampleEvent.Preview("r-1", 12, 25, image)));
    out.add(new RequestView.Deliver(new SampleEvent.Completed(new Result("r-1", image, List.of(1L, 3L), 52,
        Duration.ofNanos(123_456_789)))));
    out.add(new RequestView.Deliver(new SampleEvent.Failed("r-1", ErrorCode.UNAVAILABLE, "member lost")));
    out.add(new RequestView.Deliver(new SampleEvent.Cancelled("r-1", "by the client")));
    out.add(RequestView.Gone.INSTANCE);
    out.add(new RequestView.Admitted(new SampleEvent.Accepted("r-1", 16, 0, Duration.ZERO)));
    out.add(new RequestView.Refused(new SampleEvent.Rejected("r-1", ErrorCode.OVERLOADED, "queue full",
        Duration.ofSeconds(2))));
    out.add(new RequestView.Cancelling("r-1"));
    out.add(new RequestView.AlreadyFinished("r-1", "completed"));
    out.add(RequestView.NotFound.INSTANCE);
    return out;
  }

  @Test
  void everyMessageThatMayCrossMembersRoundTripsThroughCbor() {
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(kit.system()));
    for (ClusterMessage m : messages()) {
      Serializer serializer = serialization.findSerializerFor(m);
      assertInstanceOf(JacksonCborSerializer.class, serializer, m.getClass() + " is not written as CBOR");
      byte[] bytes = serialization.serialize(m).get();
      Object back = serialization.deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, m))
          .get();
      assertEquals(m.getClass(), back.getClass());
      assertArrayEquals(bytes, serialization.serialize(back).get(), m.getClass().getSimpleName() + " changed");
      assertSame(m, back);
    }
  }

  /** Records holding arrays do not compare by equals: those are checked by their values. */
  private static void assertSame(Object sent, Object got) {
    if (sent instanceof RequestView.Start s) {
      GenerateRequest a = s.request();
      GenerateRequest b = ((RequestView.Start) got).request();
      assertEquals(List.of(a.requestId(), a.count(), a.seed(), a.sampler(), a.previewEvery(), a.deadline(),
              a.model(), a.priority()),
          List.of(b.requestId(), b.count(), b.seed(), b.sampler(), b.previewEvery(), b.deadline(), b.model(),
              b.priority()));
      assertArrayEquals(a.conditioning().labels(), b.conditioning().labels());
      assertEquals(a.conditioning().guidance(), b.conditioning().guidance());
      assertEquals(List.of(s.sampler(), s.admission(), s.finished()),
          List.of(((RequestView.Start) got).sampler(), ((RequestView.Start) got).admission(),
              ((RequestView.Start) got).finished()));
    } else if (sent instanceof RequestView.Status s && s.status() != null) {
      SampleStatus b = ((RequestView.Status) got).status();
      assertArrayEquals(s.status().samples(), b.samples());
      assertEquals(s.status().modelVersions(), b.modelVersions());
      assertEquals(s.status().latencyMs(), b.latencyMs());
    } else if (sent instanceof RequestView.Deliver d && d.event() instanceof SampleEvent.Preview p) {
      SampleEvent.Preview q = (SampleEvent.Preview) ((RequestView.Deliver) got).event();
      assertEquals(List.of(p.requestId(), p.step(), p.totalSteps()), List.of(q.requestId(), q.step(), q.totalSteps()));
      assertEquals(p.estimates(), q.estimates());
      assertArrayEquals(p.estimates().shape(), q.estimates().shape());
    } else if (sent instanceof RequestView.Deliver d && d.event() instanceof SampleEvent.Completed c) {
      Result a = c.result();
      Result b = ((SampleEvent.Completed) ((RequestView.Deliver) got).event()).result();
      assertEquals(a.values(), b.values());
      assertEquals(List.of(a.requestId(), a.modelVersions(), a.networkCalls(), a.latency()),
          List.of(b.requestId(), b.modelVersions(), b.networkCalls(), b.latency()));
    } else {
      assertEquals(sent, got);
    }
  }

  @Test
  void everyMessageOfTheViewsProtocolThatCrossesMembersIsListed() {
    Set<String> declared = new TreeSet<>();
    for (Class<?> c : RequestView.class.getDeclaredClasses()) {
      if (ClusterMessage.class.isAssignableFrom(c) && !c.isInterface()) declared.add(c.getSimpleName());
    }
    Set<String> tested = new TreeSet<>();
    for (ClusterMessage m : messages()) tested.add(m.getClass().getSimpleName());
    assertEquals(declared, tested);
    // Only the shard sends the stop message, on the view's own member.
    assertEquals(false, ClusterMessage.class.isAssignableFrom(RequestView.HandOff.class));
  }
}
