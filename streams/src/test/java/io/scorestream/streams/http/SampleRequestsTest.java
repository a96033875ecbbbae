package io.scorestream.streams.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import io.scorestream.actors.ScoreStreamNode;
import io.scorestream.model.sde.Sde;
import io.scorestream.protocol.json.SampleRequest;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A POST body's fields become the node's request: here the priority, which orders admission. */
class SampleRequestsTest {
  private static final List<ScoreStreamNode.ServedModel> MODELS = List.of(new ScoreStreamNode.ServedModel("default",
      "analytic gmm8", null, null, List.of(), Sde.named("vp"), 2, new long[] {2}, 8));
  private static final HttpSettings LIMITS = HttpSettings.from(ConfigFactory.load());

  @Test
  void theBodysPriorityReachesTheNodeAndDefaultsToZero() {
    assertEquals(5, SampleRequests.toGenerateRequest(SampleRequest.parse("{\"count\": 4, \"priority\": 5}"), "a", 1,
        LIMITS, MODELS).priority());
    assertEquals(-2, SampleRequests.toGenerateRequest(SampleRequest.parse("{\"count\": 4, \"priority\": -2}"), "b",
        1, LIMITS, MODELS).priority());
    assertEquals(0, SampleRequests.toGenerateRequest(SampleRequest.parse("{\"count\": 4}"), "c", 1, LIMITS, MODELS)
        .priority());
  }
}
