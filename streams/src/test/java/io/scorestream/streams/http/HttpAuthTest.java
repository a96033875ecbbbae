package io.scorestream.streams.http;

import static io.scorestream.streams.http.HttpTestNode.HANG_GUARD_S;
import static io.scorestream.streams.http.HttpTestNode.tree;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.protocol.json.EventJson;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** With a bearer token configured, /v1 and /metrics need it; /, /web and /healthz do not. */
class HttpAuthTest {
  private static final String TOKEN = "s3cret-t0ken";
  private static HttpTestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = HttpTestNode.start(TOKEN);
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
  }

  private static HttpResponse<String> send(String method, String path, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.base + path));
    if (authorization != null) b.header("Authorization", authorization);
    if (method.equals("POST")) {
      b.header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"count\": 2, \"steps\": 10}"));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return node.client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void protectedRoutesNeedTheToken() throws Exception {
    for (String[] route : List.of(new String[] {"GET", "/v1/status"}, new String[] {"GET", "/metrics"},
        new String[] {"POST", "/v1/samples"}, new String[] {"GET", "/v1/samples/x"},
        new String[] {"DELETE", "/v1/samples/x"}, new String[] {"GET", "/v1/samples/x/events"})) {
      for (String auth : new String[] {null, "Bearer wrong", "Basic " + TOKEN, "Bearer " + TOKEN + "x", TOKEN}) {
        HttpResponse<String> r = send(route[0], route[1], auth);
        assertEquals(401, r.statusCode(), route[0] + " " + route[1] + " with " + auth + ": " + r.body());
        assertEquals("UNAUTHORIZED", tree(r.body()).get("error").asText());
        assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"), r.headers().toString());
      }
    }
    assertEquals(200, send("GET", "/v1/status", "Bearer " + TOKEN).statusCode());
    assertEquals(200, send("GET", "/metrics", "Bearer " + TOKEN).statusCode());
  }

  @Test
  void openRoutesDoNot() throws Exception {
    assertEquals(200, send("GET", "/healthz", null).statusCode());
    assertEquals(200, send("GET", "/", null).statusCode());
    assertEquals(200, send("GET", "/web/app.js", null).statusCode());
  }

  @Test
  void eventStreamsAlsoTakeTheTokenAsAQueryParameter() throws Exception {
    HttpResponse<String> posted = send("POST", "/v1/samples", "Bearer " + TOKEN);
    assertEquals(202, posted.statusCode(), posted.body());
    String id = tree(posted.body()).get("id").asText();
    List<EventJson> events = node.webSocket(id, "?access_token=" + TOKEN).closed.get(HANG_GUARD_S, TimeUnit.SECONDS);
    assertInstanceOf(EventJson.Completed.class, events.get(events.size() - 1));
    // Only the event streams: other routes ignore the query parameter.
    assertEquals(401, send("GET", "/v1/samples/" + id + "?access_token=" + TOKEN, null).statusCode());
    assertEquals(401, send("GET", "/v1/samples/" + id + "/events?access_token=wrong", null).statusCode());
  }
}
