package io.scorestream.streams.aeron;

import static io.scorestream.streams.aeron.AeronTestNode.HANG_GUARD_S;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.actors.ScoreStream;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.protocol.Accepted;
import io.scorestream.protocol.Cancelled;
import io.scorestream.protocol.Completed;
import io.scorestream.protocol.ErrorCode;
import io.scorestream.protocol.GenerateRequest;
import io.scorestream.protocol.Preview;
import io.scorestream.protocol.PreviewEncoding;
import io.scorestream.protocol.Rejected;
import io.scorestream.protocol.RequestEvent;
import io.scorestream.protocol.SamplerParams;
import io.scorestream.protocol.Status;
import io.scorestream.protocol.Terminal;
import io.scorestream.protocol.client.ClientContext;
import io.scorestream.protocol.client.ClientException;
import io.scorestream.protocol.client.RequestHandle;
import io.scorestream.protocol.client.RequestListener;
import io.scorestream.protocol.client.ScoreStreamClient;
import java.io.File;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A node behind an Aeron gateway, driven by ScoreStreamClient over IPC (the gateway's own driver) and over UDP on
 * loopback (the client's own embedded driver): events in order, samples bit-identical to the in-process API,
 * cancel, the shared secret, 8-bit previews, results larger than a message, refusals and status.
 */
class AeronGatewayTest {
  private static final String SECRET = "s3cret";
  private static ScoreStream api;
  private static AeronGateway gateway;

  @BeforeAll
  static void start() {
    api = AeronTestNode.start("");
    gateway = AeronGateway.start(api, AeronTestNode.settings("shared-secret = " + SECRET
        + ", ingress-stream-id = 7101, ingress-channels = [\"aeron:ipc\", \"aeron:udp?endpoint=127.0.0.1:0\"]"));
  }

  @AfterAll
  static void stop() {
    if (gateway != null) gateway.close();
    if (api != null) api.close();
  }

  /** Collects a request's events in arrival order. */
  static final class Events implements RequestListener {
    final List<RequestEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public void onAccepted(Accepted a) {
      events.add(a);
    }

    @Override
    public void onPreview(Preview p) {
      events.add(p);
    }

    @Override
    public void onTerminal(Terminal t) {
      events.add(t);
    }

    List<Preview> previews() {
      return events.stream().filter(Preview.class::isInstance).map(Preview.class::cast).toList();
    }
  }

  private static Terminal outcome(RequestHandle h) throws Exception {
    return h.outcome().get(HANG_GUARD_S, TimeUnit.SECONDS);
  }

  /** Accepted first, at least one preview, Completed last; samples bit-identical to api.generate. */
  private static void assertSameAsInProcess(ScoreStreamClient client) throws Exception {
    Events events = new Events();
    RequestHandle h = client.submit(GenerateRequest.of(64, 42, SamplerParams.pc(100)).withPreviewEvery(10), events);
    Completed c = assertInstanceOf(Completed.class, outcome(h));
    double[] expected = AeronTestNode.inProcess(api, 64, 42, SamplerSpec.pc(100));
    AeronTestNode.assertBitIdentical(expected, c);
    assertEquals(64, c.count());
    assertEquals(2, c.dim());
    assertTrue(c.modelVersions().length >= 1);
    assertInstanceOf(Accepted.class, events.events.get(0));
    assertEquals(64, ((Accepted) events.events.get(0)).chains());
    assertTrue(events.previews().size() >= 1, "no preview");
    assertEquals(c, events.events.get(events.events.size() - 1));
    for (Preview p : events.previews()) {
      assertEquals(PreviewEncoding.FLOAT_32, p.encoding());
      assertEquals(64, p.chains());
      assertEquals(100, p.totalSteps());
    }
    assertTrue(h.acceptedNs() >= h.submittedNs() && h.firstPreviewNs() >= h.acceptedNs()
        && h.endedNs() >= h.firstPreviewNs(), "timestamps out of order");
  }

  @Test
  void ipcClientGetsAcceptedPreviewsAndTheInProcessSamples() throws Exception {
    try (ScoreStreamClient client = ScoreStreamClient.connect(AeronTestNode.ipcClient(gateway).secret(SECRET))) {
      assertEquals("vp", client.connectAck().sde());
      assertEquals(2, client.connectAck().dim());
      assertSameAsInProcess(client);
    }
  }

  @Test
  void udpClientGetsAcceptedPreviewsAndTheInProcessSamples() throws Exception {
    String udp = gateway.ingressChannels().get(1);
    assertTrue(udp.startsWith("aeron:udp?endpoint=127.0.0.1:") && !udp.endsWith(":0"), udp);
    ClientContext ctx = new ClientContext().embeddedDriver(true).ingressChannel(udp)
        .ingressStreamId(gateway.ingressStreamId()).egressChannel("aeron:udp?endpoint=127.0.0.1:0")
        .secret(SECRET).clientName("test-udp").connectTimeoutNs(TimeUnit.SECONDS.toNanos(HANG_GUARD_S));
    try (ScoreStreamClient client = ScoreStreamClient.connect(ctx)) {
      assertTrue(!client.egressChannel().endsWith(":0"), client.egressChannel());
      assertTrue(!new File(gateway.driverDirectory()).equals(new File(String.valueOf(ctx.aeronDirectoryName()))));
      assertSameAsInProcess(client);
    }
  }

  @Test
  void cancelEndsInCancelled() throws Exception {
    try (ScoreStreamClient client = ScoreStreamClient.connect(AeronTestNode.ipcClient(gateway).secret(SECRET))) {
      RequestHandle h = client.submit(GenerateRequest.of(256, 7, SamplerParams.pc(10_000)).withPreviewEvery(0),
          null);
      AeronTestNode.await("accepted", () -> h.acceptedNs() != 0 || h.outcome().isDone());
      h.cancel();
      Cancelled c = assertInstanceOf(Cancelled.class, outcome(h));
      assertEquals(h.requestId(), c.requestId());
    }
  }

  @Test
  void wrongSecretIsRefused() {
    long before = gateway.stats().connectsRejected();
    ClientException e = assertThrows(ClientException.class,
        () -> ScoreStreamClient.connect(AeronTestNode.ipcClient(gateway).secret("guess")));
    assertEquals(ErrorCode.UNAUTHENTICATED, e.code().orElseThrow());
    assertEquals(before + 1, gateway.stats().connectsRejected());
  }

  @Test
  void quantizedPreviewsCarryTheirRanges() throws Exception {
    try (ScoreStreamClient client = ScoreStreamClient.connect(AeronTestNode.ipcClient(gateway).secret(SECRET))) {
      Events events = new Events();
      RequestHandle h = client.submit(GenerateRequest.of(500, 3, SamplerParams.pc(50)).withPreviewEvery(5)
          .withPreviewEncoding(PreviewEncoding.QUANTIZED_8), events);
      Completed c = assertInstanceOf(Completed.class, outcome(h));
      assertTrue(events.previews().size() >= 1);
      for (Preview p : events.previews()) {
        assertEquals(PreviewEncoding.QUANTIZED_8, p.encoding());
        assertEquals(500 * 2, p.dataLength());
        assertEquals(2, p.min().length);
      }
      // dequantised values lie in their dimension's range, and the ranges are not degenerate
      for (Preview p : events.previews()) {
        double[] q = p.toDoubles();
        for (int i = 0; i < q.length; i++) {
          int d = i % 2;
          assertTrue(Double.isNaN(q[i]) || (q[i] >= p.min()[d] - 1e-6 && q[i] <= p.max()[d] + 1e-6));
        }
        assertTrue(p.max()[0] > p.min()[0] && p.max()[1] > p.min()[1], "degenerate range in " + p);
      }
      assertEquals(500, c.count());
    }
  }

  @Test
  void resultsLargerThanOneMessageArriveInPartsAndWhole() throws Exception {
    try (AeronGateway small = AeronGateway.start(api, AeronTestNode.settings(
        "ingress-channels = [\"aeron:ipc\"], ingress-stream-id = 7102, max-message-length = 8k, term-length = 64k"));
         ScoreStreamClient client = ScoreStreamClient.connect(AeronTestNode.ipcClient(small))) {
      // a 64 KiB result in 8 KiB parts through a 32 KiB window: the parts are back-pressured half way and resume
      assertEquals(8 * 1024, client.connectAck().maxMessageLength());
      RequestHandle h = client.submit(GenerateRequest.of(4096, 11, SamplerParams.pc(20)).withPreviewEvery(5)
          .withPreviewEncoding(PreviewEncoding.QUANTIZED_8), null);
      Completed c = assertInstanceOf(Completed.class, outcome(h));
      assertEquals(0, c.firstChain());
      AeronTestNode.assertBitIdentical(AeronTestNode.inProcess(api, 4096, 11, SamplerSpec.pc(20)), c);
      assertTrue(small.stats().resultParts() >= 8, "parts: " + small.stats());
      // float32 previews of 1,536 x 2 (12 KiB) do not fit 8 KiB: they fall back to 8-bit (3 KiB)
      RequestHandle f = client.submit(GenerateRequest.of(1536, 12, SamplerParams.pc(20)).withPreviewEvery(5),
          new RequestListener() {
            @Override
            public void onPreview(Preview p) {
              assertEquals(PreviewEncoding.QUANTIZED_8, p.encoding());
            }
          });
      assertInstanceOf(Completed.class, outcome(f));
      assertTrue(f.previews() >= 1);
    }
  }

  @Test
  void badRequestsAreRejectedWithTheirCode() throws Exception {
    try (ScoreStreamClient client = ScoreStreamClient.connect(AeronTestNode.ipcClient(gateway).secret(SECRET))) {
      Rejected sde = assertInstanceOf(Rejected.class,
          outcome(client.submit(GenerateRequest.of(4, 1, SamplerParams.pc(10)).withSde("ve"), null)));
      assertEquals(ErrorCode.INVALID_ARGUMENT, sde.code());
      assertTrue(sde.message().contains("vp"), sde.message());
      Rejected count = assertInstanceOf(Rejected.class,
          outcome(client.submit(GenerateRequest.of(0, 1, SamplerParams.pc(10)), null)));
      assertEquals(ErrorCode.INVALID_ARGUMENT, count.code());
      Rejected kind = assertInstanceOf(Rejected.class, outcome(client.submit(
          GenerateRequest.of(4, 1, SamplerParams.ode("heun", 10).withDenoise(true)).withDeadlineNs(-5), null)));
      assertEquals(ErrorCode.INVALID_ARGUMENT, kind.code());
      // the session still works
      assertInstanceOf(Completed.class,
          outcome(client.submit(GenerateRequest.of(4, 1, SamplerParams.pc(10)).withSde("vp"), null)));
    }
  }

  @Test
  void closingTheGatewayDisconnectsClientsAndCancelsTheirRequests() throws Exception {
    AeronGateway temporary = AeronGateway.start(api, AeronTestNode.settings(
        "ingress-channels = [\"aeron:ipc\"], ingress-stream-id = 7103"));
    String dir = temporary.driverDirectory();
    try (ScoreStreamClient client = ScoreStreamClient.connect(AeronTestNode.ipcClient(temporary))) {
      RequestHandle h = client.submit(GenerateRequest.of(256, 5, SamplerParams.pc(10_000)).withPreviewEvery(0),
          null);
      AeronTestNode.await("accepted", () -> h.acceptedNs() != 0);
      temporary.close();
      java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
          () -> h.outcome().get(HANG_GUARD_S, TimeUnit.SECONDS));
      assertInstanceOf(ClientException.class, e.getCause());
      assertTrue(e.getCause().getMessage().contains("disconnected"), e.getCause().getMessage());
      assertEquals(1, temporary.stats().cancelledOnDrop());
      assertTrue(!new File(dir).exists(), "the driver directory outlived the gateway");
      AeronTestNode.await("request cancelled on the node", () -> api.status().toCompletableFuture().join()
          .activeRequests() == 0);
    } finally {
      temporary.close();
    }
  }

  @Test
  void statusReportsTheNode() throws Exception {
    try (ScoreStreamClient client = ScoreStreamClient.connect(AeronTestNode.ipcClient(gateway).secret(SECRET))) {
      assertInstanceOf(Completed.class, outcome(client.submit(GenerateRequest.of(8, 1, SamplerParams.pc(10)), null)));
      Status s = client.status().get(HANG_GUARD_S, TimeUnit.SECONDS);
      assertEquals(client.sessionId(), s.sessionId());
      assertTrue(s.samplers() >= 1);
      assertTrue(s.modelVersion() >= 1);
      assertTrue(s.accepted() >= 1 && s.ended() >= 1);
    }
  }
}
