package io.scorestream.streams.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.Result;
import io.scorestream.actors.ScoreStream;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.protocol.json.EventJson;
import io.scorestream.protocol.json.Json;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** A node (default gmm8 over VP, dim 2) with an HTTP gateway on a free loopback port, and a JDK HTTP client. */
final class HttpTestNode implements AutoCloseable {
  /** Guards against hangs only; never a performance bound. */
  static final long HANG_GUARD_S = 120;

  final ScoreStream api;
  final HttpGateway gateway;
  final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
  final String base;
  private String token = "";

  private HttpTestNode(ScoreStream api, HttpGateway gateway) {
    this.api = api;
    this.gateway = gateway;
    this.base = gateway.baseUrl();
  }

  static Config config() {
    return ConfigFactory.parseResources("http-test.conf").withFallback(ConfigFactory.load()).resolve();
  }

  /** A node and a gateway with the reference settings except port 0 and the given token. */
  static HttpTestNode start(String bearerToken) throws Exception {
    return start(bearerToken, "");
  }

  /** As {@link #start(String)}, with node settings overridden by HOCON overrides. */
  static HttpTestNode start(String bearerToken, String overrides) throws Exception {
    Config config = ConfigFactory.parseString(overrides).withFallback(config()).resolve();
    ScoreStream api = ScoreStream.start(config);
    try {
      HttpGateway gateway = HttpGateway.start(api, HttpSettings.from(config).withPort(0).withBearerToken(bearerToken))
          .toCompletableFuture().get(HANG_GUARD_S, TimeUnit.SECONDS);
      HttpTestNode n = new HttpTestNode(api, gateway);
      n.token = bearerToken;
      return n;
    } catch (Exception e) {
      api.close();
      throw e;
    }
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(HANG_GUARD_S));
    if (!token.isEmpty()) b.header("Authorization", "Bearer " + token);
    return b;
  }

  HttpResponse<String> post(String path, String json) throws Exception {
    return client.send(request(path).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path) throws Exception {
    return client.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> delete(String path) throws Exception {
    return client.send(request(path).DELETE().build(), HttpResponse.BodyHandlers.ofString());
  }

  /** POSTs body, asserts 202, returns the request id. */
  String submit(String json) throws Exception {
    HttpResponse<String> r = post("/v1/samples", json);
    assertEquals(202, r.statusCode(), r.body());
    return tree(r.body()).get("id").asText();
  }

  static JsonNode tree(String json) throws Exception {
    return Json.mapper().readTree(json);
  }

  /** Every event of request id over server-sent events, until the stream closes. */
  List<EventJson> sse(String id) throws Exception {
    HttpResponse<InputStream> r = client.send(request("/v1/samples/" + id + "/events")
        .header("Accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
    List<EventJson> events = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String type = null;
      StringBuilder data = new StringBuilder();
      for (String line; (line = in.readLine()) != null; ) {
        if (line.startsWith("event:")) {
          type = line.substring(6).trim();
        } else if (line.startsWith("data:")) {
          data.append(line.substring(5).stripLeading());
        } else if (line.isEmpty() && data.length() > 0) {
          EventJson e = Json.read(data.toString(), EventJson.class);
          assertEquals(e.type(), type, "SSE event name is the event's type");
          events.add(e);
          type = null;
          data.setLength(0);
        }
      }
    }
    return events;
  }

  /** A WebSocket subscription to request id that collects every event until the server closes. */
  WsCollector webSocket(String id, String query) throws Exception {
    WsCollector c = new WsCollector();
    WebSocket.Builder b = client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30));
    URI uri = URI.create(base.replace("http://", "ws://") + "/v1/samples/" + id + "/events" + query);
    c.socket = b.buildAsync(uri, c).get(HANG_GUARD_S, TimeUnit.SECONDS);
    return c;
  }

  /** Every event of request id over a WebSocket, until the server closes it. */
  List<EventJson> webSocket(String id) throws Exception {
    return webSocket(id, "").closed.get(HANG_GUARD_S, TimeUnit.SECONDS);
  }

  /** Collects text messages; {@link #closed} completes with them when the server closes the socket. */
  static class WsCollector implements WebSocket.Listener {
    final List<EventJson> events = java.util.Collections.synchronizedList(new ArrayList<>());
    final CompletableFuture<List<EventJson>> closed = new CompletableFuture<>();
    volatile int closeCode = -1;
    volatile boolean paused;
    WebSocket socket;
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        events.add(Json.read(partial.toString(), EventJson.class));
        partial.setLength(0);
      }
      if (!paused) ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      closeCode = statusCode;
      closed.complete(List.copyOf(events));
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      closed.completeExceptionally(error);
    }
  }

  /** The in-process result of the same request, for bit-for-bit comparison. */
  Result inProcess(int count, long seed, SamplerSpec spec, int previewEvery) throws Exception {
    return api.generate(GenerateRequest.of(count, seed, spec).withPreviewEvery(previewEvery)).toCompletableFuture()
        .get(HANG_GUARD_S, TimeUnit.SECONDS);
  }

  /** Asserts rows equal result's samples bit for bit. */
  static void assertSameSamples(Result expected, double[][] rows) {
    assertEquals(expected.count(), rows.length, "rows");
    for (int i = 0; i < rows.length; i++) {
      double[] want = expected.sample(i);
      assertEquals(want.length, rows[i].length, "dim of row " + i);
      for (int j = 0; j < want.length; j++) {
        assertEquals(Double.doubleToRawLongBits(want[j]), Double.doubleToRawLongBits(rows[i][j]),
            "sample " + i + "[" + j + "]: " + want[j] + " vs " + rows[i][j]);
      }
    }
  }

  @Override
  public void close() {
    gateway.close();
    api.close();
    try {
      api.system().getWhenTerminated().toCompletableFuture().get(HANG_GUARD_S, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the node did not stop", e);
    }
  }
}
