package io.scorestream.streams.http;

import static io.scorestream.streams.http.HttpTestNode.HANG_GUARD_S;
import static io.scorestream.streams.http.HttpTestNode.tree;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.protocol.json.EventJson;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A full admission queue answers 429 with Retry-After; a taken port fails the start. */
class HttpOverloadTest {

  @Test
  void aFullQueueAnswers429WithRetryAfterAndLosesNothingAccepted() throws Exception {
    // One sampler of 64 rows and room for one waiting request.
    try (HttpTestNode node = HttpTestNode.start("",
        "scorestream.sampler.max-batch-rows = 64\nscorestream.coordinator.queue-bound = 1")) {
      String running = node.submit("{\"count\": 64, \"steps\": 10000, \"seed\": 1, \"previewEvery\": 0}");
      HttpResponse<String> queued = node.post("/v1/samples", "{\"count\": 64, \"steps\": 50, \"seed\": 2}");
      assertEquals(202, queued.statusCode(), queued.body());
      assertEquals(1, tree(queued.body()).get("queuePosition").asInt(), "waits for the running request's rows");
      HttpResponse<String> refused = node.post("/v1/samples", "{\"count\": 8, \"steps\": 50, \"seed\": 3}");
      assertEquals(429, refused.statusCode(), refused.body());
      assertEquals("OVERLOADED", tree(refused.body()).get("error").asText());
      long retryAfter = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
      assertTrue(retryAfter >= 1, "Retry-After in whole seconds: " + retryAfter);

      // Freeing the rows lets the queued request run to completion.
      assertEquals(202, node.delete("/v1/samples/" + running).statusCode());
      List<EventJson> events = node.webSocket(tree(queued.body()).get("id").asText());
      assertInstanceOf(EventJson.Completed.class, events.get(events.size() - 1));
    }
  }

  @Test
  void aTakenPortFailsTheStart() throws Exception {
    try (HttpTestNode node = HttpTestNode.start("")) {
      HttpSettings same = node.gateway.settings().withPort(node.gateway.port());
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> HttpGateway.start(node.api, same).toCompletableFuture().get(HANG_GUARD_S, TimeUnit.SECONDS));
      assertTrue(String.valueOf(e.getCause()).contains(Integer.toString(node.gateway.port())), e.toString());
    }
  }
}
