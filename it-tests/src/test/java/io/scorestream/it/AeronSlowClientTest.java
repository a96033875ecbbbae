package io.scorestream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.scorestream.actors.Coordinator;
import io.scorestream.actors.ScoreStream;
import io.scorestream.protocol.Completed;
import io.scorestream.protocol.GenerateRequest;
import io.scorestream.protocol.Heartbeat;
import io.scorestream.protocol.PreviewEncoding;
import io.scorestream.protocol.SamplerParams;
import io.scorestream.protocol.client.ClientContext;
import io.scorestream.protocol.client.RequestHandle;
import io.scorestream.protocol.client.ScoreStreamClient;
import io.scorestream.streams.aeron.AeronGateway;
import io.scorestream.streams.aeron.AeronSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A client that stops reading its egress (its publication back-pressured: the gateway's window is small here)
 * neither blocks nor slows the other clients; once it also falls silent it is dropped after the liveness timeout
 * and its running requests are cancelled on the node.
 */
class AeronSlowClientTest {
  private static final int STALLED_REQUESTS = 3;
  private static final int HEALTHY_REQUESTS = 10;

  @Test
  void stalledClientDoesNotBlockOthersAndIsDroppedWithItsRequestsCancelled() throws Exception {
    ScoreStream api = ScoreStream.start(ConfigFactory.parseString("""
            akka.loglevel = WARNING
            akka.log-dead-letters = off
            scorestream.compute-threads = 1
            """).withFallback(ConfigFactory.load()).resolve());
    // a 64 KiB term: the stalled client's window (half a term) is full after a few previews
    AeronSettings settings = AeronSettings.from(ConfigFactory.parseString("""
            scorestream.aeron {
              ingress-channels = ["aeron:ipc"]
              ingress-stream-id = 7301
              term-length = 64k
              max-message-length = 8k
              heartbeat-interval = 200ms
              client-liveness-timeout = 2s
            }
            """).withFallback(ConfigFactory.load()));
    try (api; AeronGateway gateway = AeronGateway.start(api, settings);
         RawAeronClient stalled = new RawAeronClient(gateway.driverDirectory(), 7301, 7399)) {
      long session = stalled.connect("");
      // long requests with a float32 preview every step: 1,024 x 2 x 4 bytes each, far beyond its window
      for (int i = 1; i <= STALLED_REQUESTS; i++) {
        stalled.send(new GenerateRequest(session, i, i, 1024, "", SamplerParams.pc(10_000), 1, 0, 0,
            PreviewEncoding.FLOAT_32));
      }
      // From here it never polls its egress again; a helper keeps it alive (heartbeats only) for phase 1.
      AtomicBoolean heartbeating = new AtomicBoolean(true);
      Thread heart = new Thread(() -> {
        try {
          while (heartbeating.get()) {
            stalled.send(new Heartbeat(session, System.nanoTime()));
            Thread.sleep(100);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "stalled-heartbeat");
      heart.start();

      Coordinator.NodeStatus before;
      try (ScoreStreamClient healthy = ScoreStreamClient.connect(new ClientContext()
          .aeronDirectoryName(gateway.driverDirectory()).ingressStreamId(7301).clientName("healthy"))) {
        awaitActive(api, STALLED_REQUESTS);
        // phase 1: the stalled client is connected and back-pressured; the healthy one is served in full
        List<RequestHandle> handles = new ArrayList<>();
        for (int i = 0; i < HEALTHY_REQUESTS; i++) {
          handles.add(healthy.submit(GenerateRequest.of(16, i, SamplerParams.pc(50)).withPreviewEvery(5), null));
        }
        for (RequestHandle h : handles) {
          assertInstanceOf(Completed.class, h.outcome().get(60, TimeUnit.SECONDS));
          assertTrue(h.previews() >= 1);
        }
        assertEquals(0, gateway.stats().clientsDropped(), "the stalled client was dropped while heartbeating");
        assertEquals(2, gateway.stats().clients());
        before = status(api);
        assertTrue(before.activeRequests() >= STALLED_REQUESTS, "stalled requests not running: " + before);

        // phase 2: the stalled client falls silent; the healthy one keeps heartbeating
        heartbeating.set(false);
        heart.join();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (gateway.stats().clientsDropped() == 0) {
          assertTrue(System.nanoTime() < deadline, "hang guard: the stalled client was never dropped");
          Thread.sleep(10);
        }
        assertEquals(STALLED_REQUESTS, gateway.stats().cancelledOnDrop());
        awaitActive(api, 0);
        Coordinator.NodeStatus after = status(api);
        assertEquals(before.ended() + STALLED_REQUESTS, after.ended());
        // cancelled, not completed: only the healthy requests completed through this node's facade
        assertEquals(HEALTHY_REQUESTS, api.latencies().completed());
        assertTrue(healthy.isConnected(), "the healthy client was dropped too");
        assertEquals(1, gateway.stats().clients());
      }
    }
  }

  private static Coordinator.NodeStatus status(ScoreStream api) throws Exception {
    return api.status().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static void awaitActive(ScoreStream api, int n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (n == 0 ? status(api).activeRequests() != 0 : status(api).activeRequests() < n) {
      assertTrue(System.nanoTime() < deadline, "hang guard: active requests never reached " + n);
      Thread.sleep(10);
    }
  }
}
