package io.scorestream.streams.http;

import static io.scorestream.streams.http.HttpTestNode.HANG_GUARD_S;
import static io.scorestream.streams.http.HttpTestNode.assertSameSamples;
import static io.scorestream.streams.http.HttpTestNode.tree;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.protocol.json.EventJson;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad request bodies get a 4xx whose JSON names the field at fault and change nothing, while well-formed requests
 * submitted at the same time all complete with the samples they would get in process.
 */
class HttpValidationTest {
  private static HttpTestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = HttpTestNode.start("");
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
  }

  /** A bad body, the status it gets, the error code and the field its answer must name (null: none). */
  private record Bad(String body, int status, String error, String field) {}

  private static final List<Bad> BAD = List.of(
      new Bad("{\"count\": \"many\"}", 400, "INVALID_ARGUMENT", "count"),
      new Bad("{\"count\": 4, \"steps\": \"ten\"}", 400, "INVALID_ARGUMENT", "steps"),
      new Bad("{\"count\": 4, \"seed\": 1.5}", 400, "INVALID_ARGUMENT", "seed"),
      new Bad("{\"count\": 4, \"denoise\": \"yes\"}", 400, "INVALID_ARGUMENT", "denoise"),
      new Bad("{\"count\": 4, \"sampler\": 3}", 400, "INVALID_ARGUMENT", "sampler"),
      new Bad("{}", 400, "INVALID_ARGUMENT", "count"),
      new Bad("{\"steps\": 10, \"seed\": 1}", 400, "INVALID_ARGUMENT", "count"),
      new Bad("{\"count\": null}", 400, "INVALID_ARGUMENT", "count"),
      new Bad("{\"count\": 100000}", 400, "INVALID_ARGUMENT", "count"),
      new Bad("{\"count\": 1e12}", 400, "INVALID_ARGUMENT", "count"),
      new Bad("{\"count\": 99999999999999999999999}", 400, "INVALID_ARGUMENT", "count"),
      new Bad("{\"count\": 0}", 400, "INVALID_ARGUMENT", "count"),
      new Bad("{\"count\": 4, \"snr\": NaN}", 400, "INVALID_ARGUMENT", "snr"),
      new Bad("{\"count\": 4, \"stepSize\": Infinity, \"sampler\": \"ald\"}", 400, "INVALID_ARGUMENT", "stepSize"),
      new Bad("{\"count\": 4, \"rtol\": \"NaN\", \"sampler\": \"ode\"}", 400, "INVALID_ARGUMENT", "rtol"),
      new Bad("{\"count\": 4, \"steps\": -5}", 400, "INVALID_ARGUMENT", "steps"),
      new Bad("{\"count\": 4, \"steps\": 20000}", 400, "INVALID_ARGUMENT", "steps"),
      new Bad("{\"count\": 4, \"previewEvery\": -2}", 400, "INVALID_ARGUMENT", "previewEvery"),
      new Bad("{\"count\": 4, \"priority\": \"high\"}", 400, "INVALID_ARGUMENT", "priority"),
      new Bad("{\"count\": 4, \"priority\": 1.5}", 400, "INVALID_ARGUMENT", "priority"),
      new Bad("{\"count\": 4, \"deadlineMs\": 0}", 400, "INVALID_ARGUMENT", "deadlineMs"),
      new Bad("{\"count\": 4, \"sde\": \"brownian\"}", 400, "INVALID_ARGUMENT", "sde"),
      new Bad("{\"count\": 4, \"sde\": \"ve\"}", 400, "INVALID_ARGUMENT", "sde"),
      new Bad("{\"count\": 4, \"sampler\": \"plms\"}", 400, "INVALID_ARGUMENT", "sampler"),
      new Bad("{\"count\": 4, \"predictor\": \"leapfrog\"}", 400, "INVALID_ARGUMENT", "predictor"),
      new Bad("{\"count\": 4, \"sampler\": \"ddim\", \"schedule\": \"cosine\"}", 400, "INVALID_ARGUMENT", "schedule"),
      new Bad("{\"count\": 4, \"sampler\": \"edm\", \"churn\": -1}", 400, "INVALID_ARGUMENT", "churn"),
      new Bad("{\"count\": 4, \"stpes\": 10}", 400, "UNKNOWN_FIELD", "stpes"),
      new Bad("{\"count\": 4, \"count\": 5}", 400, "MALFORMED_JSON", "count"),
      // Checked by the node's coordinator, not the parser: the gateway still names the field.
      new Bad("{\"count\": 4, \"sampler\": \"langevin\", \"t\": 5}", 400, "INVALID_ARGUMENT", "t"),
      new Bad("{\"count\": 4, \"correctorSteps\": 500}", 400, "INVALID_ARGUMENT", "correctorSteps"),
      new Bad("{\"count\": 4, \"deadlineMs\": 86400000}", 400, "INVALID_ARGUMENT", "deadlineMs"),
      new Bad("{\"count\": 4, \"sampler\": \"ddim\", \"eta\": 1.5}", 400, "INVALID_ARGUMENT", "eta"),
      new Bad("{\"count\": 4, \"sampler\": \"edm\", \"eta\": 0.5}", 400, "INVALID_ARGUMENT", "eta"),
      new Bad("{\"count\": 4, \"sampler\": \"ddim\", \"churn\": 3}", 400, "INVALID_ARGUMENT", "churn"),
      new Bad("{\"count\": 4, \"labels\": [1, 2.5]}", 400, "INVALID_ARGUMENT", "labels"),
      new Bad("{\"count\": 4, \"labels\": 3}", 400, "INVALID_ARGUMENT", "labels"),
      new Bad("{\"count\": 4, \"labels\": [-2]}", 400, "INVALID_ARGUMENT", "labels"),
      new Bad("{\"count\": 4, \"labels\": [99]}", 400, "INVALID_ARGUMENT", "labels"),
      new Bad("{\"count\": 4, \"labels\": [1], \"guidance\": -1}", 400, "INVALID_ARGUMENT", "guidance"),
      new Bad("{\"count\": 4, \"model\": \"Not A Name\"}", 400, "INVALID_ARGUMENT", "model"),
      new Bad("{\"count\": 4, \"model\": 7}", 400, "INVALID_ARGUMENT", "model"),
      new Bad("{\"count\": 4, \"model\": \"elsewhere\"}", 400, "INVALID_ARGUMENT", "model"),
      new Bad("{\"count\": 4, \"sampler\": \"ald\", \"sigmaMin\": 30, \"sigmaMax\": 20}", 400,
          "INVALID_ARGUMENT", "sigmaMin"),
      new Bad("this is not JSON", 400, "MALFORMED_JSON", null),
      new Bad("{\"count\": 4", 400, "MALFORMED_JSON", null),
      new Bad("[{\"count\": 4}]", 400, "MALFORMED_JSON", null),
      new Bad("", 400, "MALFORMED_JSON", null),
      new Bad("{\"count\": 4, \"seed\": 1, \"pad\": \"" + "x".repeat(70_000) + "\"}", 413, "PAYLOAD_TOO_LARGE", null));

  private static void assertRefused(Bad bad, HttpResponse<String> r) throws Exception {
    String shown = bad.body().length() > 80 ? bad.body().substring(0, 80) + "..." : bad.body();
    assertEquals(bad.status(), r.statusCode(), shown + " -> " + r.body());
    JsonNode e = tree(r.body());
    assertEquals(bad.error(), e.get("error").asText(), shown + " -> " + r.body());
    if (bad.field() != null) {
      assertEquals(bad.field(), e.path("field").asText(null), shown + " -> " + r.body());
      assertTrue(e.get("message").asText().contains(bad.field()), "message names the field: " + r.body());
    }
    assertTrue(e.get("message").asText().length() > 10, "a message for a person: " + r.body());
  }

  @Test
  void badBodiesAreRefusedNamingTheFieldWhileGoodOnesAllComplete() throws Exception {
    long acceptedBefore = node.api.status().toCompletableFuture().get().accepted();
    int good = 8;
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      // The well-formed load: submitted concurrently with the bad bodies, each followed to its end over SSE.
      List<Future<List<EventJson>>> load = new ArrayList<>();
      List<Future<HttpResponse<String>>> refused = new ArrayList<>();
      for (int i = 0; i < Math.max(good, BAD.size()); i++) {
        if (i < good) {
          long seed = 100 + i;
          load.add(pool.submit(() -> node.sse(node.submit("{\"count\": 32, \"steps\": 200, \"seed\": " + seed
              + ", \"previewEvery\": 20}"))));
        }
        if (i < BAD.size()) {
          String body = BAD.get(i).body();
          refused.add(pool.submit(() -> node.post("/v1/samples", body)));
        }
      }
      for (int i = 0; i < BAD.size(); i++) {
        assertRefused(BAD.get(i), refused.get(i).get(HANG_GUARD_S, TimeUnit.SECONDS));
      }
      for (int i = 0; i < good; i++) {
        List<EventJson> events = load.get(i).get(HANG_GUARD_S, TimeUnit.SECONDS);
        EventJson last = events.get(events.size() - 1);
        assertInstanceOf(EventJson.Completed.class, last, "request " + i + " ended " + last);
        assertSameSamples(node.inProcess(32, 100 + i, SamplerSpec.pc(200), 20), ((EventJson.Completed) last).samples());
      }
    } finally {
      pool.shutdownNow();
    }
    // Nothing bad reached admission, and every good request was admitted once: the in-process comparisons add 8.
    long accepted = node.api.status().toCompletableFuture().get().accepted() - acceptedBefore;
    assertEquals(2L * good, accepted, "admitted requests: the load and its in-process twins, no bad one");
    String metrics = node.get("/metrics").body();
    long bad = metrics.lines().filter(l -> l.startsWith("scorestream_http_bad_requests_total "))
        .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(' ') + 1))).findFirst().orElseThrow();
    assertTrue(bad >= BAD.size(), "bad requests counted: " + bad);
  }

  @Test
  void drainingALoneNodeIsRefusedWith409AndItKeepsServing() throws Exception {
    HttpResponse<String> r = node.post("/v1/admin/drain", "");
    assertEquals(409, r.statusCode(), r.body());
    assertEquals("NOT_CLUSTERED", tree(r.body()).get("error").asText());
    assertTrue(node.api.status().toCompletableFuture().get().samplers().stream().allMatch(s -> s.alive()));
    assertEquals(405, node.get("/v1/admin/drain").statusCode(), "drain is a POST");
  }

  @Test
  void aBodyThatIsNotJsonContentIsRefusedWith415() throws Exception {
    HttpResponse<String> r = node.client.send(HttpRequest.newBuilder(URI.create(node.base + "/v1/samples"))
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("{\"count\": 4}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(415, r.statusCode(), r.body());
    assertEquals("UNSUPPORTED_MEDIA_TYPE", tree(r.body()).get("error").asText());
  }

  @Test
  void eventsNeedWebSocketOrAnEventStreamAcceptAndTheGatewaysOrigin() throws Exception {
    String id = node.submit("{\"count\": 4, \"steps\": 20, \"seed\": 1}");
    HttpResponse<String> json = node.client.send(HttpRequest.newBuilder(
            URI.create(node.base + "/v1/samples/" + id + "/events")).header("Accept", "application/json").build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(406, json.statusCode(), json.body());
    assertEquals("NOT_ACCEPTABLE", tree(json.body()).get("error").asText());
    CompletableFuture<?> foreign = node.client.newWebSocketBuilder().header("Origin", "http://evil.example")
        .buildAsync(URI.create(node.base.replace("http://", "ws://") + "/v1/samples/" + id + "/events"),
            new HttpTestNode.WsCollector());
    Throwable refused = null;
    try {
      foreign.get(HANG_GUARD_S, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      refused = e.getCause();
    }
    assertTrue(refused != null, "a page from another origin may not open the event stream");
    String self = node.base;
    HttpTestNode.WsCollector own = new HttpTestNode.WsCollector();
    own.socket = node.client.newWebSocketBuilder().header("Origin", self)
        .buildAsync(URI.create(node.base.replace("http://", "ws://") + "/v1/samples/" + id + "/events"), own)
        .get(HANG_GUARD_S, TimeUnit.SECONDS);
    List<EventJson> events = own.closed.get(HANG_GUARD_S, TimeUnit.SECONDS);
    assertInstanceOf(EventJson.Completed.class, events.get(events.size() - 1));
  }
}
