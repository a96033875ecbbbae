package io.scorestream.actors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import akka.serialization.jackson.JacksonCborSerializer;
import com.typesafe.config.ConfigFactory;
import io.scorestream.model.sample.ChainBatch;
import io.scorestream.model.sample.Conditioning;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.SamplerPrograms;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.sde.VpSde;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every message that may cross nodes ({@link ClusterMessage}) goes through Akka's Jackson CBOR serializer and comes
 * back equal: the same bytes when written again, and the same values read from it (programs, conditioning, samples
 * with their shape, actor references). The list below is checked against the messages of the sampler, the
 * coordinator and the session that implement ClusterMessage, so a new one cannot be left out.
 */
class ClusterSerializationTest {
  private static ActorTestKit kit;

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create("serialization", ConfigFactory.parseString(
            "akka.actor.provider = cluster\nakka.remote.artery.canonical.port = 0\n"
                + "akka.remote.artery.canonical.hostname = 127.0.0.1")
        .withFallback(ConfigFactory.load("application-test.conf")));
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private static final Sde VP = new VpSde(0.1, 20);
  private static final SamplerPrograms.Limits LIMITS = new SamplerPrograms.Limits(500, 10_000, new double[] {20, 1});

  /** One program of every kind, as the coordinator builds them. */
  static List<SamplerProgram> programs() {
    List<SamplerProgram> out = new ArrayList<>();
    for (SamplerSpec spec : List.of(SamplerSpec.pc(40, "reverse-diffusion", "langevin", 2, 0.16),
        SamplerSpec.rk45(1e-4, 1e-5), SamplerSpec.ode("heun", 30), SamplerSpec.ald(5, 10, 0.1),
        SamplerSpec.langevin(0.3, 20, 0.01), SamplerSpec.fewStep("ddim", 25), SamplerSpec.fewStep("dpmpp-2m", 20),
        SamplerSpec.fewStep("dpmpp-2m-sde", 20), SamplerSpec.fewStep("edm", 18))) {
      out.add(SamplerPrograms.build(spec, VP, LIMITS));
    }
    return out;
  }

  private List<ClusterMessage> messages() {
    TestProbe<RequestSession.Command> session = kit.createTestProbe();
    TestProbe<Coordinator.Command> coordinator = kit.createTestProbe();
    TestProbe<Sampler.Command> sampler = kit.createTestProbe();
    Conditioning labelsAndMask = Conditioning.labels(2.5, 3, 7, -1)
        .withMask(new boolean[] {true, false, true, false}, new double[] {0.25, 0, -1.5, 0});
    List<ClusterMessage> out = new ArrayList<>();
    List<Coordinator.AbortedSlice> aborted = new ArrayList<>();
    int first = 0;
    for (SamplerProgram p : programs()) {
      Sampler.ChainSlice slice = new Sampler.ChainSlice("req-" + first, first, 3, -42L + first, p, 5,
          session.getRef(), first == 0 ? labelsAndMask : Conditioning.NONE);
      out.add(new Sampler.Enqueue(slice, coordinator.getRef()));
      aborted.add(new Coordinator.AbortedSlice(slice, first % 2 == 0));
      first += 3;
    }
    // A moved slice: a running chain with registers and a NaN in its cursor, a finished one, one without registers.
    Sampler.SliceProgress progress = new Sampler.SliceProgress(
        java.util.Arrays.asList(
            new ChainBatch.ChainState(new double[] {0.5, -1.25}, new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                13, -0.0}, new double[] {12, 0.37, 3, 0, 0, Double.NaN}),
            null,
            new ChainBatch.ChainState(new double[] {Math.PI, 1e-300}, null, new double[] {4, 0.8, 2, 1, 0, 2.0})),
        java.util.Arrays.asList(null, new double[] {0.125, -3}, null), List.of(1L, 3L), 37, true, 10);
    Sampler.ChainSlice moved = new Sampler.ChainSlice("req-moved", 6, 3, 11, programs().get(0), 5, session.getRef(),
        Conditioning.NONE, 4, progress);
    out.add(new Sampler.Enqueue(moved, coordinator.getRef()));
    aborted.add(new Coordinator.AbortedSlice(moved, false));
    out.add(new Coordinator.SliceCheckpoints(7, List.of(moved, moved.part(1, 2))));
    out.add(new Sampler.Cancel("req-0", coordinator.getRef()));
    out.add(new Sampler.Release("req-0", 3, 2, coordinator.getRef()));
    out.add(new Sampler.Attach(coordinator.getRef(), 7));
    out.add(new Coordinator.RegisterSampler(7, "cpu:0@127.0.0.1:2552", sampler.getRef(), 4096));
    out.add(new Coordinator.SamplerLoad(7, 12, 3, 1000L, 12_000L, 250_000L, 4));
    out.add(new Coordinator.SliceEnded(7, "req-0", 0, 3));
    out.add(new Coordinator.SlicesAborted(7, aborted, "sampler 0 (cpu:0) failed at tick 3: boom"));
    out.add(new Coordinator.SamplerLeaving(7));
    double[] image = new double[2 * 4];
    for (int i = 0; i < image.length; i++) image[i] = Math.scalb(1.0 + i / 7.0, -i) * (i % 2 == 0 ? 1 : -1);
    image[5] = Double.NaN;
    out.add(new RequestSession.SlicePreview("req-0", 3, 2, 17, 40,
        Samples.copyOf(new long[] {1, 2, 2}, 2, image)));
    out.add(new RequestSession.SliceCompleted("req-0", 3, 2, Samples.copyOf(new long[] {4}, 2, image),
        List.of(1L, 2L), 82L));
    out.add(new RequestSession.SliceFailed("req-0", 3, 2, ErrorCode.NON_FINITE, "chain 4: NaN at step 9"));
    sessionMessages(out, session);
    out.add(new ModelRegistry.WeightsOffer("default", "127.0.0.1:2552", 400, "trainer step 400 (ema)", "0123abcd4567ef89",
        "{\"kind\":\"mlp\",\"dim\":2}", List.of("w0", "b0"), List.of(new long[] {2, 3}, new long[] {3}),
        List.of(new float[] {1f, -2.5f, Float.MIN_VALUE, 3e-8f, 7f, -0f}, new float[] {0.1f, 0.2f, 0.3f})));
    return out;
  }

  /** The request sessions' messages: a session is a sharded entity; directories, subscribers and askers are anywhere. */
  private void sessionMessages(List<ClusterMessage> out, TestProbe<RequestSession.Command> session) {
    TestProbe<RequestSession.Admission> admission = kit.createTestProbe();
    TestProbe<RequestSession.Watch> watcher = kit.createTestProbe();
    TestProbe<RequestSession.Status> status = kit.createTestProbe();
    TestProbe<RequestSession.CancelReply> cancel = kit.createTestProbe();
    TestProbe<SampleEvent> subscriber = kit.createTestProbe();
    GenerateRequest request = new GenerateRequest("r-1", 16, -7L, SamplerSpec.fewStep("ddim", 25).withFewStep(0.5,
        "karras", null), 5, Duration.ofSeconds(90), Conditioning.labels(3.0, 1, 2, -1), "digits", 4);
    Samples image = Samples.copyOf(new long[] {1, 1, 3}, 2, new double[] {0.5, -1, Double.NaN, 3e-300, 7, -0.0});
    RequestSession.Subscribe subscribe = new RequestSession.Subscribe(subscriber.getRef(), "k-1", "sse", true,
        watcher.getRef());
    out.add(new RequestSession.Start(request, "ddim", Duration.ofMinutes(5), admission.getRef(), watcher.getRef(),
        subscribe));
    out.add(new RequestSession.Start(request, "ddim", Duration.ZERO, null, null, null));
    out.add(subscribe);
    out.add(new RequestSession.Ack("k-1"));
    out.add(new RequestSession.Unsubscribe("k-1"));
    out.add(new RequestSession.Get(status.getRef()));
    out.add(new RequestSession.Cancel(cancel.getRef()));
    out.add(RequestSession.Evict.INSTANCE);
    SampleEvent.Accepted accepted = new SampleEvent.Accepted("r-1", 16, 3, Duration.ofMillis(1234));
    SampleEvent.Preview preview = new SampleEvent.Preview("r-1", 12, 25, image);
    SampleEvent.Completed completed = new SampleEvent.Completed(new Result("r-1", image, List.of(1L, 3L), 52,
        Duration.ofNanos(123_456_789)));
    out.add(new RequestSession.Status(null));
    out.add(new RequestSession.Status(new RequestSession.Snapshot(request, "ddim", accepted, preview, completed, 4,
        java.util.Map.of("sse", 3L, "websocket", 1L))));
    out.add(new RequestSession.Hosted("r-1", "k-1", session.getRef()));
    out.add(new RequestSession.Hosted("r-1", null, null));
    out.add(new RequestSession.Finished("r-1", 1_000_000L, -1L));
    out.add(new RequestSession.Admission.Admitted(accepted));
    out.add(new RequestSession.Admission.Refused(new SampleEvent.Rejected("r-1", ErrorCode.OVERLOADED, "queue full",
        Duration.ofSeconds(2))));
    out.add(new RequestSession.CancelReply.Cancelling("r-1"));
    out.add(new RequestSession.CancelReply.AlreadyFinished("r-1", "completed"));
    out.add(RequestSession.CancelReply.NotFound.INSTANCE);
    out.add(accepted);
    out.add(preview);
    out.add(completed);
    out.add(new SampleEvent.Failed("r-1", ErrorCode.UNAVAILABLE, "member lost"));
    out.add(new SampleEvent.Cancelled("r-1", "by the client"));
    out.add(new SampleEvent.Rejected("r-1", ErrorCode.INVALID_ARGUMENT, "count: must be > 0", null));
  }

  private static void assertSameRequest(GenerateRequest a, GenerateRequest b) {
    assertEquals(List.of(a.requestId(), a.count(), a.seed(), a.sampler(), a.previewEvery(), a.deadline(), a.model(),
        a.priority()), List.of(b.requestId(), b.count(), b.seed(), b.sampler(), b.previewEvery(), b.deadline(),
        b.model(), b.priority()));
    assertArrayEquals(a.conditioning().labels(), b.conditioning().labels());
    assertEquals(a.conditioning().guidance(), b.conditioning().guidance());
  }

  private static void assertSameEvent(SampleEvent a, SampleEvent b) {
    if (a instanceof SampleEvent.Preview p) {
      SampleEvent.Preview q = (SampleEvent.Preview) b;
      assertEquals(List.of(p.requestId(), p.step(), p.totalSteps()), List.of(q.requestId(), q.step(), q.totalSteps()));
      assertEquals(p.estimates(), q.estimates());
      assertArrayEquals(p.estimates().shape(), q.estimates().shape());
    } else if (a instanceof SampleEvent.Completed c) {
      Result x = c.result();
      Result y = ((SampleEvent.Completed) b).result();
      assertEquals(x.values(), y.values());
      assertEquals(List.of(x.requestId(), x.modelVersions(), x.networkCalls(), x.latency()),
          List.of(y.requestId(), y.modelVersions(), y.networkCalls(), y.latency()));
    } else {
      assertEquals(a, b);
    }
  }

  private static Object roundTrip(Serialization serialization, Object message, byte[][] bytesOut) {
    Serializer serializer = serialization.findSerializerFor(message);
    assertInstanceOf(JacksonCborSerializer.class, serializer, message.getClass() + " is not written as CBOR");
    byte[] bytes = serialization.serialize(message).get();
    String manifest = Serializers.manifestFor(serializer, message);
    Object back = serialization.deserialize(bytes, serializer.identifier(), manifest).get();
    bytesOut[0] = bytes;
    return back;
  }

  @Test
  void everyClusterMessageRoundTripsThroughCbor() {
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(kit.system()));
    for (ClusterMessage m : messages()) {
      byte[][] first = new byte[1][];
      Object back = roundTrip(serialization, m, first);
      assertEquals(m.getClass(), back.getClass());
      byte[][] second = new byte[1][];
      roundTrip(serialization, back, second);
      assertArrayEquals(first[0], second[0], () -> m.getClass().getSimpleName() + " changed on a second trip");
      assertSameValues(m, back);
    }
  }

  private static void assertSameProgress(Sampler.SliceProgress a, Sampler.SliceProgress b) {
    if (a == null) {
      assertEquals(null, b);
      return;
    }
    assertEquals(List.of(a.versions(), a.calls(), a.previewed(), a.nextPreview(), a.chains()),
        List.of(b.versions(), b.calls(), b.previewed(), b.nextPreview(), b.chains()));
    for (int i = 0; i < a.chains(); i++) {
      assertArrayEquals(a.results().get(i), b.results().get(i));
      ChainBatch.ChainState x = a.states().get(i);
      ChainBatch.ChainState y = b.states().get(i);
      if (x == null) {
        assertEquals(null, y);
        continue;
      }
      assertArrayEquals(x.x(), y.x());
      assertArrayEquals(x.registers(), y.registers());
      assertArrayEquals(x.cursor(), y.cursor());
    }
  }

  /** Values that records with arrays do not compare by equals: checked field by field. */
  private static void assertSameValues(ClusterMessage sent, Object got) {
    if (sent instanceof Sampler.Enqueue e) {
      Sampler.ChainSlice a = e.slice();
      Sampler.ChainSlice b = ((Sampler.Enqueue) got).slice();
      assertEquals(a.program(), b.program());
      assertEquals(a.program().describe(), b.program().describe());
      assertEquals(a.session(), b.session());
      assertEquals(e.coordinator(), ((Sampler.Enqueue) got).coordinator());
      assertEquals(List.of(a.requestId(), a.firstChain(), a.count(), a.seed(), a.previewEvery()),
          List.of(b.requestId(), b.firstChain(), b.count(), b.seed(), b.previewEvery()));
      assertArrayEquals(a.conditioning().labels(), b.conditioning().labels());
      assertEquals(a.conditioning().guidance(), b.conditioning().guidance());
      assertArrayEquals(a.conditioning().mask(), b.conditioning().mask());
      assertArrayEquals(a.conditioning().known(), b.conditioning().known());
      assertEquals(a.priority(), b.priority());
      assertSameProgress(a.progress(), b.progress());
    } else if (sent instanceof RequestSession.SlicePreview p) {
      Samples a = p.denoised();
      Samples b = ((RequestSession.SlicePreview) got).denoised();
      assertEquals(a, b);
      assertArrayEquals(a.shape(), b.shape());
      assertTrue(Double.isNaN(b.get(5)));
    } else if (sent instanceof RequestSession.SliceCompleted c) {
      RequestSession.SliceCompleted d = (RequestSession.SliceCompleted) got;
      assertArrayEquals(c.samples().toArray(), d.samples().toArray());
      assertEquals(c.versions(), d.versions());
    } else if (sent instanceof RequestSession.Start a) {
      RequestSession.Start b = (RequestSession.Start) got;
      assertSameRequest(a.request(), b.request());
      assertEquals(List.of(a.label(), a.retention()), List.of(b.label(), b.retention()));
      assertEquals(java.util.Arrays.asList(a.admission(), a.watcher(), a.owner()),
          java.util.Arrays.asList(b.admission(), b.watcher(), b.owner()));
    } else if (sent instanceof RequestSession.Status a && a.snapshot() != null) {
      RequestSession.Snapshot x = a.snapshot();
      RequestSession.Snapshot y = ((RequestSession.Status) got).snapshot();
      assertSameRequest(x.request(), y.request());
      assertEquals(List.of(x.label(), x.accepted(), x.previews(), x.delivered()),
          List.of(y.label(), y.accepted(), y.previews(), y.delivered()));
      assertSameEvent(x.latest(), y.latest());
      assertSameEvent(x.terminal(), y.terminal());
    } else if (sent instanceof SampleEvent e) {
      assertSameEvent(e, (SampleEvent) got);
    } else if (sent instanceof ModelRegistry.WeightsOffer a) {
      ModelRegistry.WeightsOffer b = (ModelRegistry.WeightsOffer) got;
      assertEquals(List.of(a.model(), a.origin(), a.trainStep(), a.description(), a.digest(), a.network(), a.names()),
          List.of(b.model(), b.origin(), b.trainStep(), b.description(), b.digest(), b.network(), b.names()));
      for (int i = 0; i < a.names().size(); i++) {
        assertArrayEquals(a.shapes().get(i), b.shapes().get(i));
        assertArrayEquals(a.values().get(i), b.values().get(i));
      }
    } else if (sent instanceof Coordinator.SliceCheckpoints a) {
      Coordinator.SliceCheckpoints b = (Coordinator.SliceCheckpoints) got;
      assertEquals(a.samplerId(), b.samplerId());
      for (int i = 0; i < a.slices().size(); i++) {
        assertEquals(List.of(a.slices().get(i).firstChain(), a.slices().get(i).count()),
            List.of(b.slices().get(i).firstChain(), b.slices().get(i).count()));
        assertSameProgress(a.slices().get(i).progress(), b.slices().get(i).progress());
      }
    } else if (sent instanceof Coordinator.SlicesAborted a) {
      Coordinator.SlicesAborted b = (Coordinator.SlicesAborted) got;
      assertEquals(a.slices().size(), b.slices().size());
      for (int i = 0; i < a.slices().size(); i++) {
        assertEquals(a.slices().get(i).slice().program(), b.slices().get(i).slice().program());
        assertEquals(a.slices().get(i).started(), b.slices().get(i).started());
        assertSameProgress(a.slices().get(i).slice().progress(), b.slices().get(i).slice().progress());
      }
    } else {
      assertEquals(sent, got);
    }
  }

  @Test
  void theListCoversEveryClusterMessage() {
    Set<String> declared = new TreeSet<>();
    for (Class<?> protocol : List.of(Sampler.Command.class, Coordinator.Command.class,
        RequestSession.Command.class, ModelRegistry.Command.class, RequestSession.Watch.class,
        RequestSession.Admission.class, RequestSession.CancelReply.class, SampleEvent.class)) {
      for (Class<?> c : protocol.getPermittedSubclasses()) {
        if (ClusterMessage.class.isAssignableFrom(c)) declared.add(c.getName());
      }
    }
    declared.add(RequestSession.Status.class.getName());
    // Only the shard sends the stop message, on the session's own member.
    assertFalse(ClusterMessage.class.isAssignableFrom(RequestSession.HandOff.class));
    Set<String> tested = new TreeSet<>();
    for (ClusterMessage m : messages()) tested.add(m.getClass().getName());
    assertEquals(declared, tested);
    assertTrue(declared.size() >= 10, declared::toString);
  }

  @Test
  void localOnlyMessagesAreNotBoundToJackson() {
    // A model version carries its factory (a lambda over native weights): it must never be sent to another node.
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(kit.system()));
    Object local = new Sampler.SwapWeights(new ModelRegistry.ModelVersion(1, "m", 0, () -> null));
    assertTrue(Arrays.stream(local.getClass().getInterfaces()).noneMatch(ClusterMessage.class::equals));
    Exception refused = assertThrows(Exception.class, () -> serialization.findSerializerFor(local));
    assertTrue(refused.getMessage().contains("No configured serialization-bindings"), refused::toString);
  }
}
