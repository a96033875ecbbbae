package io.scorestream.streams.http;

import static io.scorestream.streams.http.HttpTestNode.HANG_GUARD_S;
import static io.scorestream.streams.http.HttpTestNode.assertSameSamples;
import static io.scorestream.streams.http.HttpTestNode.tree;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.Result;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.protocol.json.EventJson;
import io.scorestream.protocol.json.Json;
import io.scorestream.protocol.json.SampleStatus;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The HTTP gateway end to end against a real node: events over WebSocket and SSE, status, cancel, metrics. */
class HttpGatewayTest {
  private static HttpTestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = HttpTestNode.start("");
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
  }

  /** accepted first, at least one preview with one row (or null) per chain, then completed last. */
  private static EventJson.Completed assertWellFormed(List<EventJson> events, String id, int count) {
    assertFalse(events.isEmpty(), "no events");
    assertInstanceOf(EventJson.Accepted.class, events.get(0), "first event: " + events.get(0));
    List<EventJson.Preview> previews = events.stream().filter(e -> e instanceof EventJson.Preview)
        .map(e -> (EventJson.Preview) e).toList();
    assertFalse(previews.isEmpty(), "at least one preview");
    for (EventJson.Preview p : previews) {
      assertEquals(count, p.values().length);
      assertEquals(2, p.dim());
      assertTrue(p.step() <= p.totalSteps());
    }
    EventJson last = events.get(events.size() - 1);
    assertInstanceOf(EventJson.Completed.class, last, "last event: " + last);
    for (EventJson e : events.subList(0, events.size() - 1)) assertFalse(e.terminal(), "one terminal event, last");
    events.forEach(e -> assertEquals(id, e.id()));
    return (EventJson.Completed) last;
  }

  @Test
  void webSocketCarriesPreviewsThenSamplesIdenticalToInProcess() throws Exception {
    String id = node.submit("{\"count\": 64, \"steps\": 300, \"seed\": 7, \"sampler\": \"pc\", \"previewEvery\": 10}");
    HttpTestNode.WsCollector ws = node.webSocket(id, "");
    List<EventJson> events = ws.closed.get(HANG_GUARD_S, TimeUnit.SECONDS);
    assertEquals(1000, ws.closeCode, "normal closure after the terminal event");
    EventJson.Completed done = assertWellFormed(events, id, 64);
    assertEquals(64, done.count());
    assertEquals(List.of(1L), done.modelVersions());
    Result expected = node.inProcess(64, 7, SamplerSpec.pc(300), 10);
    assertSameSamples(expected, done.samples());
  }

  @Test
  void eightBitPreviewsAreTheFloatPreviewsWithinHalfAStepOfTheirRange() throws Exception {
    String id = node.submit("{\"count\": 40, \"steps\": 300, \"seed\": 5, \"sampler\": \"pc\", \"previewEvery\": 10}");
    HttpTestNode.WsCollector floats = node.webSocket(id, "");
    HttpTestNode.WsCollector bytes = node.webSocket(id, "?preview=8bit");
    List<EventJson> f = floats.closed.get(HANG_GUARD_S, TimeUnit.SECONDS);
    List<EventJson> b = bytes.closed.get(HANG_GUARD_S, TimeUnit.SECONDS);
    // The results are exact either way; only previews change form.
    assertSameSamples(node.inProcess(40, 5, SamplerSpec.pc(300), 10), assertWellFormed(b, id, 40).samples());
    java.util.Map<Integer, EventJson.Preview> byStep = new java.util.HashMap<>();
    for (EventJson e : f) {
      if (e instanceof EventJson.Preview p) {
        assertNull(p.pixels());
        byStep.put(p.step(), p);
      }
    }
    int compared = 0;
    for (EventJson e : b) {
      if (!(e instanceof EventJson.Preview p)) continue;
      assertNull(p.samples(), "an 8-bit preview carries no double rows");
      assertEquals(40 * 2, java.util.Base64.getDecoder().decode(p.pixels()).length);
      EventJson.Preview same = byStep.get(p.step());
      if (same == null) continue;
      double[][] want = same.samples();
      double[][] got = p.values();
      double tolerance = (p.hi() - p.lo()) / 508 + 1e-12;
      for (int i = 0; i < want.length; i++) {
        if (want[i] == null) {
          assertNull(got[i], "a chain that has not reported stays unreported");
          continue;
        }
        for (int k = 0; k < 2; k++) {
          assertTrue(want[i][k] >= p.lo() && want[i][k] <= p.hi(), "lo and hi bound the preview");
          assertEquals(want[i][k], got[i][k], tolerance, "step " + p.step() + " chain " + i);
        }
      }
      compared++;
    }
    assertTrue(compared >= 1, "previews of the same step in both forms: " + compared);
    HttpResponse<String> bad = node.get("/v1/samples/" + id + "/events?preview=jpeg");
    assertEquals(400, bad.statusCode(), bad.body());
    assertEquals("preview", tree(bad.body()).get("field").asText());
  }

  @Test
  void inpaintingKeepsTheKnownValuesAndEqualsTheSameRequestInProcess() throws Exception {
    // x0 known (4.0), x1 generated: every sample keeps x0 exactly.
    String id = node.submit("{\"count\": 32, \"steps\": 200, \"seed\": 9, \"sampler\": \"pc\","
        + " \"known\": [4.0, 0.0], \"mask\": [1, 0]}");
    EventJson.Completed done = assertWellFormed(node.webSocket(id), id, 32);
    io.scorestream.model.sample.Conditioning c = io.scorestream.model.sample.Conditioning.NONE
        .withMask(new boolean[] {true, false}, new double[] {4.0, 0.0});
    Result expected = node.api.generate(GenerateRequest.of(32, 9, SamplerSpec.pc(200)).withConditioning(c))
        .toCompletableFuture().get(HANG_GUARD_S, TimeUnit.SECONDS);
    assertSameSamples(expected, done.samples());
    Set<Double> generated = new HashSet<>();
    for (double[] r : done.samples()) {
      assertEquals(4.0, r[0], 0.0, "the known value is kept");
      generated.add(r[1]);
    }
    assertTrue(generated.size() > 16, "the unknown value is generated, chain by chain: " + generated.size());

    for (String[] bad : new String[][] {
        {"\"known\": [4.0, 0.0]", "mask"},
        {"\"mask\": [1, 0]", "known"},
        {"\"known\": [4.0, 0.0, 1.0], \"mask\": [1, 0, 1]", "known"},
        {"\"known\": [4.0, 0.0], \"mask\": [1, 2]", "mask"},
        {"\"known\": [4.0, \"x\"], \"mask\": [1, 0]", "known"},
        {"\"known\": [4.0, 0.0], \"mask\": [1]", "mask"},
        {"\"known\": [4.0, 0.0], \"mask\": [1, 4294967297]", "mask"}}) {
      HttpResponse<String> r = node.post("/v1/samples", "{\"count\": 2, " + bad[0] + "}");
      assertEquals(400, r.statusCode(), bad[0] + ": " + r.body());
      assertEquals(bad[1], tree(r.body()).get("field").asText(), bad[0] + ": " + r.body());
    }
  }

  @Test
  void serverSentEventsCarryTheSameStream() throws Exception {
    String body = "{\"count\": 48, \"steps\": 200, \"seed\": 11, \"sampler\": \"ode\", \"method\": \"heun\","
        + " \"previewEvery\": 5}";
    String id = node.submit(body);
    List<EventJson> events = node.sse(id);
    EventJson.Completed done = assertWellFormed(events, id, 48);
    assertSameSamples(node.inProcess(48, 11, SamplerSpec.ode("heun", 200), 5), done.samples());
  }

  @Test
  void statusHasTheSamplesOnceCompletedAndUnknownIdsAre404() throws Exception {
    HttpResponse<String> posted = node.post("/v1/samples", "{\"count\": 16, \"steps\": 100, \"seed\": 3}");
    assertEquals(202, posted.statusCode(), posted.body());
    JsonNode accepted = tree(posted.body());
    String id = accepted.get("id").asText();
    assertEquals(3, accepted.get("seed").asLong());
    assertEquals(16, accepted.get("chains").asInt());
    assertEquals("/v1/samples/" + id, posted.headers().firstValue("Location").orElseThrow());
    assertEquals("/v1/samples/" + id + "/events", accepted.get("events").asText());
    node.webSocket(id); // waits for the end

    HttpResponse<String> r = node.get("/v1/samples/" + id);
    assertEquals(200, r.statusCode(), r.body());
    SampleStatus s = Json.read(r.body(), SampleStatus.class);
    assertEquals("completed", s.state());
    assertEquals("pc", s.sampler());
    assertEquals(List.of(1L), s.modelVersions());
    assertNotNull(s.latencyMs());
    assertTrue(s.previews() >= 1);
    assertNull(s.error());
    assertSameSamples(node.inProcess(16, 3, SamplerSpec.pc(100), GenerateRequest.DEFAULT_PREVIEW), s.samples());

    HttpResponse<String> missing = node.get("/v1/samples/no-such-request");
    assertEquals(404, missing.statusCode());
    assertEquals("NOT_FOUND", tree(missing.body()).get("error").asText());
    assertEquals(404, node.get("/v1/samples/no-such-request/events").statusCode());
  }

  @Test
  void lateSubscriberGetsTheLatestPreviewAndTheResult() throws Exception {
    String id = node.submit("{\"count\": 8, \"steps\": 50, \"seed\": 5, \"previewEvery\": 10}");
    List<EventJson> first = node.webSocket(id);
    List<EventJson> late = node.webSocket(id);
    assertEquals(3, late.size(), "accepted, latest preview, completed: " + late);
    assertInstanceOf(EventJson.Accepted.class, late.get(0));
    assertInstanceOf(EventJson.Preview.class, late.get(1));
    EventJson.Completed a = (EventJson.Completed) first.get(first.size() - 1);
    EventJson.Completed b = (EventJson.Completed) late.get(2);
    assertTrue(java.util.Arrays.deepEquals(a.samples(), b.samples()));
    List<EventJson> lateSse = node.sse(id);
    assertEquals(late.stream().map(EventJson::type).toList(), lateSse.stream().map(EventJson::type).toList());
  }

  @Test
  void deleteCancelsAndTheStreamEndsCancelled() throws Exception {
    // Long enough (10,000 steps) that the cancellation lands while it runs.
    String id = node.submit("{\"count\": 256, \"steps\": 10000, \"seed\": 9, \"previewEvery\": 100}");
    HttpTestNode.WsCollector ws = node.webSocket(id, "");
    HttpResponse<String> cancel = node.delete("/v1/samples/" + id);
    assertEquals(202, cancel.statusCode(), cancel.body());
    assertEquals("cancelling", tree(cancel.body()).get("state").asText());
    List<EventJson> events = ws.closed.get(HANG_GUARD_S, TimeUnit.SECONDS);
    assertInstanceOf(EventJson.Cancelled.class, events.get(events.size() - 1), "last: " + events);
    SampleStatus s = Json.read(node.get("/v1/samples/" + id).body(), SampleStatus.class);
    assertEquals("cancelled", s.state());
    assertEquals("CANCELLED", s.error());
    assertNull(s.samples());
    HttpResponse<String> again = node.delete("/v1/samples/" + id);
    assertEquals(409, again.statusCode());
    assertEquals("ALREADY_FINISHED", tree(again.body()).get("error").asText());
    assertEquals(404, node.delete("/v1/samples/no-such-request").statusCode());
  }

  @Test
  void aStalledSubscriberDoesNotHoldTheRequestBack() throws Exception {
    String id = node.submit("{\"count\": 128, \"steps\": 600, \"seed\": 21, \"previewEvery\": 2}");
    HttpTestNode.WsCollector slow = new HttpTestNode.WsCollector();
    slow.paused = true; // takes the first message, then asks for nothing more
    slow.socket = node.client.newWebSocketBuilder().buildAsync(
        java.net.URI.create(node.base.replace("http://", "ws://") + "/v1/samples/" + id + "/events"), slow)
        .get(HANG_GUARD_S, TimeUnit.SECONDS);
    String state = "running";
    for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_GUARD_S);
         state.equals("running") && System.nanoTime() < deadline; Thread.sleep(20)) {
      state = tree(node.get("/v1/samples/" + id).body()).get("state").asText();
    }
    assertEquals("completed", state, "the request completes while its subscriber reads nothing");
    assertTrue(slow.events.size() <= 1, "the stalled subscriber took at most one message: " + slow.events.size());
    slow.paused = false;
    slow.socket.request(Long.MAX_VALUE);
    List<EventJson> events = slow.closed.get(HANG_GUARD_S, TimeUnit.SECONDS);
    assertInstanceOf(EventJson.Completed.class, events.get(events.size() - 1), "the terminal event is never dropped");
  }

  @Test
  void statusHealthAndThePage() throws Exception {
    HttpResponse<String> status = node.get("/v1/status");
    assertEquals(200, status.statusCode(), status.body());
    JsonNode s = tree(status.body());
    assertEquals("vp", s.get("sde").asText());
    assertEquals(1, s.get("model").get("version").asLong());
    assertEquals(1, s.get("samplers").size());
    assertTrue(s.get("samplers").get(0).get("alive").asBoolean());
    assertTrue(s.has("latency") && s.has("gateway"));

    HttpResponse<String> health = node.get("/healthz");
    assertEquals(200, health.statusCode());
    assertEquals("ok", tree(health.body()).get("status").asText());

    HttpResponse<String> page = node.get("/");
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
    for (String id : List.of("generate", "cancel", "status", "canvas", "previews", "sampler", "steps", "count")) {
      assertTrue(page.body().contains("id=\"" + id + "\""), "page has #" + id);
    }
    assertEquals(200, node.get("/web/app.js").statusCode());
    assertEquals(200, node.get("/web/style.css").statusCode());
    HttpResponse<String> nothing = node.get("/v2/nothing");
    assertEquals(404, nothing.statusCode());
    assertEquals("NOT_FOUND", tree(nothing.body()).get("error").asText());
    HttpResponse<String> method = node.client.send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create(node.base + "/v1/status")).PUT(java.net.http.HttpRequest.BodyPublishers.noBody())
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(405, method.statusCode());
    assertEquals("METHOD_NOT_ALLOWED", tree(method.body()).get("error").asText());
  }

  private static final Pattern SAMPLE_LINE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\""
          + "(?:,[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\")*})? (\\S+)$");

  @Test
  void metricsAreValidPrometheusTextWithEveryMetric() throws Exception {
    node.webSocket(node.submit("{\"count\": 8, \"steps\": 50, \"seed\": 1}"));
    HttpResponse<String> r = node.get("/metrics");
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
    Set<String> names = new HashSet<>();
    Set<String> typed = new HashSet<>();
    for (String line : r.body().split("\n")) {
      if (line.startsWith("# TYPE ")) {
        String[] p = line.split(" ");
        assertEquals(4, p.length, line);
        assertTrue(Set.of("gauge", "counter", "summary").contains(p[3]), line);
        assertTrue(typed.add(p[2]), "one TYPE line per metric: " + line);
        continue;
      }
      if (line.startsWith("#")) continue;
      var m = SAMPLE_LINE.matcher(line);
      assertTrue(m.matches(), "not a sample line: " + line);
      String value = m.group(3);
      if (!value.equals("NaN") && !value.endsWith("Inf")) Double.parseDouble(value);
      String name = m.group(1);
      names.add(name);
      String family = name.replaceFirst("_count$", "");
      assertTrue(typed.contains(name) || typed.contains(family), "TYPE before samples of " + name);
    }
    for (String want : List.of("scorestream_queued_requests", "scorestream_active_requests",
        "scorestream_active_chains", "scorestream_batch_occupancy", "scorestream_sampler_batch_occupancy",
        "scorestream_chain_steps_total", "scorestream_chain_steps_per_second",
        "scorestream_request_result_latency_seconds", "scorestream_request_result_latency_seconds_count",
        "scorestream_request_first_preview_latency_seconds", "scorestream_model_version", "scorestream_model_info",
        "scorestream_requests_accepted_total", "scorestream_requests_rejected_total",
        "scorestream_requests_ended_total", "scorestream_http_submitted_total", "scorestream_http_bad_requests_total",
        "scorestream_http_subscribers", "scorestream_http_retained_requests")) {
      assertTrue(names.contains(want), "metric " + want + " in\n" + r.body());
    }
    assertTrue(r.body().contains("scorestream_model_version 1\n"));
    assertTrue(r.body().contains("scorestream_request_result_latency_seconds{quantile=\"0.99\"} "));
  }

  @Test
  void finishedRequestsAreForgottenOldestFirstPastMaxFinished() throws Exception {
    HttpSettings one = node.gateway.settings().withPort(0).withRetention(Duration.ofMinutes(5), 1);
    try (HttpGateway small = HttpGateway.start(node.api, one).toCompletableFuture().get(HANG_GUARD_S,
        TimeUnit.SECONDS)) {
      String first = submitTo(small, "{\"count\": 4, \"steps\": 20, \"seed\": 1}");
      awaitFinished(small, first);
      String second = submitTo(small, "{\"count\": 4, \"steps\": 20, \"seed\": 2}");
      awaitFinished(small, second);
      for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_GUARD_S);
           small.sampleStatus(first).toCompletableFuture().get().isPresent() && System.nanoTime() < deadline; ) {
        Thread.sleep(10);
      }
      assertTrue(small.sampleStatus(first).toCompletableFuture().get().isEmpty(), "the oldest finished is forgotten");
      assertEquals("completed", small.sampleStatus(second).toCompletableFuture().get().orElseThrow().state());
    }
  }

  @Test
  void idleEventStreamsGetWebSocketPings() throws Exception {
    HttpSettings quick = HttpSettings.from(com.typesafe.config.ConfigFactory.parseString(
        "scorestream.http.stream-keep-alive = 100ms").withFallback(HttpTestNode.config())).withPort(0);
    try (HttpGateway g = HttpGateway.start(node.api, quick).toCompletableFuture().get(HANG_GUARD_S,
        TimeUnit.SECONDS)) {
      // No previews, and 10,000 steps: the stream is silent until it is cancelled.
      String id = submitTo(g, "{\"count\": 64, \"steps\": 10000, \"seed\": 4, \"previewEvery\": 0}");
      java.util.concurrent.CompletableFuture<Boolean> pinged = new java.util.concurrent.CompletableFuture<>();
      HttpTestNode.WsCollector ws = new HttpTestNode.WsCollector() {
        @Override
        public java.util.concurrent.CompletionStage<?> onPing(java.net.http.WebSocket w, java.nio.ByteBuffer m) {
          pinged.complete(true);
          return super.onPing(w, m);
        }
      };
      ws.socket = node.client.newWebSocketBuilder().buildAsync(
          java.net.URI.create(g.baseUrl().replace("http://", "ws://") + "/v1/samples/" + id + "/events"), ws)
          .get(HANG_GUARD_S, TimeUnit.SECONDS);
      assertTrue(pinged.get(HANG_GUARD_S, TimeUnit.SECONDS));
      node.client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(g.baseUrl() + "/v1/samples/" + id))
          .DELETE().build(), HttpResponse.BodyHandlers.ofString());
      List<EventJson> events = ws.closed.get(HANG_GUARD_S, TimeUnit.SECONDS);
      assertEquals(List.of("accepted", "cancelled"), events.stream().map(EventJson::type).toList());
    }
  }

  private static String submitTo(HttpGateway g, String body) throws Exception {
    HttpResponse<String> r = node.client.send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create(g.baseUrl() + "/v1/samples")).header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(202, r.statusCode(), r.body());
    return tree(r.body()).get("id").asText();
  }

  private static void awaitFinished(HttpGateway g, String id) throws Exception {
    for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_GUARD_S); System.nanoTime() < deadline;
         Thread.sleep(10)) {
      var s = g.sampleStatus(id).toCompletableFuture().get();
      if (s.isPresent() && !s.get().state().equals("running")) return;
    }
    throw new AssertionError("request " + id + " did not finish");
  }
}
