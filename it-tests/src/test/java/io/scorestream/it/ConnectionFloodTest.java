package io.scorestream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.scorestream.actors.ScoreStream;
import io.scorestream.protocol.Completed;
import io.scorestream.protocol.Connect;
import io.scorestream.protocol.GenerateRequest;
import io.scorestream.protocol.SamplerParams;
import io.scorestream.protocol.client.ClientContext;
import io.scorestream.protocol.client.ScoreStreamClient;
import io.scorestream.streams.aeron.AeronGateway;
import io.scorestream.streams.aeron.AeronSettings;
import io.scorestream.streams.http.HttpGateway;
import io.scorestream.streams.http.HttpSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Connection floods cannot lock clients out. HTTP: 1,100 connections that never send a request (the flood that
 * made {@code /healthz} time out for every new client, past Akka HTTP's old default of 1,024 connections) and 200
 * slow senders trickling a header byte by byte leave {@code /healthz} and a sample request served, and the server
 * closes every one of them at its header timeout; past max-connections a new client is answered 503 with
 * Retry-After at once instead of hanging. Aeron: a burst of 2,000 Connects is taken only at the connect rate (each
 * accepted one opens a publication), and a well-formed client then connects and is served.
 */
class ConnectionFloodTest {
  /**
   * Long enough for the gateway to accept the whole flood before the first of it times out: it accepts a few
   * hundred connections a second on 2 busy cores (each materialises Akka HTTP's server layer).
   */
  private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(8);
  /** Hang guards only: nothing here should take this long. */
  private static final Duration GUARD = Duration.ofSeconds(30);

  private static ScoreStream api;
  private static HttpClient web;

  @BeforeAll
  static void start() {
    api = ScoreStream.start(ConfigFactory.parseString("""
        akka.loglevel = WARNING
        akka.log-dead-letters = off
        scorestream.compute-threads = 1
        """).withFallback(ConfigFactory.load()).resolve());
    web = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(GUARD).build();
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  private static HttpSettings http(int maxConnections) {
    return HttpSettings.from(ConfigFactory.load()).withPort(0)
        .withConnections(maxConnections, HEADER_TIMEOUT, Duration.ofSeconds(60));
  }

  private static HttpResponse<String> get(HttpGateway g, String path) throws Exception {
    return web.send(HttpRequest.newBuilder(URI.create(g.baseUrl() + path)).timeout(GUARD).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void assertServed(HttpGateway g) throws Exception {
    HttpResponse<String> health = get(g, "/healthz");
    assertEquals(200, health.statusCode(), health.body());
    HttpResponse<String> post = web.send(HttpRequest.newBuilder(URI.create(g.baseUrl() + "/v1/samples"))
        .timeout(GUARD).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"count\": 8, \"steps\": 20, \"seed\": 3}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(202, post.statusCode(), post.body());
    String id = post.body().replaceAll(".*\"id\"\\s*:\\s*\"([^\"]+)\".*", "$1");
    long guard = System.nanoTime() + GUARD.toNanos();
    while (true) {
      HttpResponse<String> status = get(g, "/v1/samples/" + id);
      if (status.body().contains("\"completed\"")) break;
      assertTrue(System.nanoTime() < guard, "hang guard: the sample request completes: " + status.body());
      Thread.sleep(20);
    }
  }

  /** Opens n connections that send nothing. */
  private static List<Socket> idle(HttpGateway g, int n) throws IOException {
    List<Socket> sockets = new ArrayList<>();
    for (int i = 0; i < n; i++) sockets.add(new Socket("127.0.0.1", g.port()));
    return sockets;
  }

  /** Whether the server has closed s (end of stream or reset), waiting up to the guard. */
  private static boolean closedByServer(Socket s) throws IOException {
    s.setSoTimeout((int) GUARD.toMillis());
    try {
      InputStream in = s.getInputStream();
      while (true) {
        if (in.read() < 0) return true;
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  private static void awaitAtLeast(HttpGateway g, int n) throws InterruptedException {
    long guard = System.nanoTime() + GUARD.toNanos();
    while (g.openConnections() < n) {
      assertTrue(System.nanoTime() < guard, "hang guard: " + n + " open connections, " + g.openConnections() + " now");
      Thread.sleep(5);
    }
  }

  private static void awaitAtMost(HttpGateway g, int n) throws InterruptedException {
    long guard = System.nanoTime() + GUARD.toNanos();
    while (g.openConnections() > n) {
      assertTrue(System.nanoTime() < guard, "hang guard: " + n + " open connections, " + g.openConnections() + " now");
      Thread.sleep(10);
    }
  }

  private static void awaitOpen(HttpGateway g, int n) throws InterruptedException {
    long guard = System.nanoTime() + GUARD.toNanos();
    while (g.openConnections() != n) {
      assertTrue(System.nanoTime() < guard, "hang guard: " + n + " open connections, " + g.openConnections() + " now");
      Thread.sleep(10);
    }
  }

  @Test
  void idleConnectionsAndSlowSendersNeitherLockOutClientsNorKeepTheirSlots() throws Exception {
    try (HttpGateway g = HttpGateway.start(api, http(4096)).toCompletableFuture().get(30, TimeUnit.SECONDS)) {
      long floodStart = System.nanoTime();
      List<Socket> flood = idle(g, 1_100);
      List<Socket> slow = idle(g, 200);
      // More than Akka HTTP's default max-connections (1,024), which is what locked clients out before.
      awaitAtLeast(g, 1_100);
      // The slow senders trickle a request header, a byte every 250 ms (16 s in all, past the header timeout).
      byte[] header = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII);
      Thread trickle = new Thread(() -> {
        try {
          for (int i = 0; i < header.length; i++) {
            for (Socket s : slow) {
              OutputStream out = s.getOutputStream();
              out.write(header[i]);
              out.flush();
            }
            Thread.sleep(250);
          }
        } catch (IOException | InterruptedException e) {
          // the server closed them: expected once their header deadline passed
        }
      }, "slow-senders");
      trickle.start();
      assertServed(g);
      assertTrue(System.nanoTime() - floodStart < HEADER_TIMEOUT.toNanos(),
          "served while the flood held its connections");
      for (Socket s : flood) assertTrue(closedByServer(s), "an idle connection is closed at the header timeout");
      for (Socket s : slow) assertTrue(closedByServer(s), "a slow sender is closed at the header timeout");
      trickle.join(GUARD.toMillis());
      for (Socket s : flood) s.close();
      for (Socket s : slow) s.close();
      // What stays open is the test's own HTTP client's pooled keep-alive connection.
      awaitAtMost(g, 1);
      assertServed(g);
      HttpResponse<String> metrics = get(g, "/metrics");
      assertTrue(metrics.body().contains("http_connections_header_timeouts_total 1300"), metrics.body());
      assertTrue(metrics.body().contains("process_resident_memory_bytes"), "memory gauges on /metrics");
      assertTrue(metrics.body().contains("nd4j_offheap_bytes"), "libnd4j bytes on /metrics");
    }
  }

  @Test
  void pastMaxConnectionsANewClientIsToldToRetryAtOnceAndServedOnceSlotsFree() throws Exception {
    try (HttpGateway g = HttpGateway.start(api, http(50)).toCompletableFuture().get(30, TimeUnit.SECONDS)) {
      List<Socket> flood = idle(g, 50);
      awaitOpen(g, 50);
      HttpResponse<String> refused = get(g, "/healthz");
      assertEquals(503, refused.statusCode(), refused.body());
      assertEquals("1", refused.headers().firstValue("Retry-After").orElse(""));
      assertTrue(refused.body().contains("UNAVAILABLE"), refused.body());
      // Within the header timeout the idle connections lose their slots.
      for (Socket s : flood) assertTrue(closedByServer(s));
      for (Socket s : flood) s.close();
      awaitOpen(g, 0);
      assertServed(g);
      assertTrue(get(g, "/metrics").body().contains("http_connections_refused_total 1"));
    }
  }

  @Test
  void aConnectFloodIsTakenAtTheConnectRateAndAWellFormedClientIsServed() throws Exception {
    AeronSettings settings = AeronSettings.from(ConfigFactory.parseString("""
            scorestream.aeron {
              ingress-channels = ["aeron:ipc"]
              ingress-stream-id = 7401
            }
            """).withFallback(ConfigFactory.load())).withConnectRate(20, 10);
    try (AeronGateway gateway = AeronGateway.start(api, settings);
         RawAeronClient raw = new RawAeronClient(gateway.driverDirectory(), 7401, 7499)) {
      long start = System.nanoTime();
      int sent = 2_000;
      for (int i = 0; i < sent; i++) raw.send(new Connect(i, "aeron:ipc", 7499, "", "flood-" + i));
      long guard = System.nanoTime() + GUARD.toNanos();
      while (gateway.stats().connects() + gateway.stats().connectsRejected()
          + gateway.stats().connectsThrottled() < sent) {
        assertTrue(System.nanoTime() < guard, "hang guard: every Connect seen: " + gateway.stats());
        Thread.sleep(10);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      long taken = gateway.stats().connects();
      assertTrue(taken <= 10 + 20 * seconds + 1, taken + " Connects taken in " + seconds + " s at 20/s, burst 10");
      assertTrue(gateway.stats().connectsThrottled() >= sent - taken, gateway.stats().toString());
      // The bucket refills; a well-formed client connects and is served.
      Thread.sleep(200);
      try (ScoreStreamClient client = ScoreStreamClient.connect(new ClientContext()
          .aeronDirectoryName(gateway.driverDirectory()).ingressStreamId(7401).clientName("well-formed"))) {
        var outcome = client.submit(GenerateRequest.of(8, 5, SamplerParams.pc(20)), io.scorestream.protocol.client.RequestListener.NONE).outcome()
            .toCompletableFuture().get(GUARD.toSeconds(), TimeUnit.SECONDS);
        assertInstanceOf(Completed.class, outcome);
      }
    }
  }
}
