package io.scorestream.it;

import static io.scorestream.it.ClusterMember.awaitCondition;
import static io.scorestream.it.ClusterMember.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scorestream.protocol.json.EventJson;
import io.scorestream.protocol.json.Json;
import io.scorestream.protocol.json.SampleAccepted;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A cluster that trains online, as three {@code serve --cluster --cluster-transport aeron-udp} processes without
 * {@code --model}: node 1 (gateway
 * and sampler, the seed), node 2 (the trainer alone) and node 3 (sampler only). The trainer's versions reach both
 * sampler members, whose registries publish them and whose samplers swap to them (their status lines show versions
 * of the trainer's steps), and a request through node 1's gateway, split over both members' samplers, names the
 * trained versions it used. Time limits are hang guards only.
 */
class ClusterTrainingProcessesTest {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Path LOGS = Path.of("target", "cluster-training-logs");
  /** serve's status line: its registry's current version and the trainer step it came from. */
  private static final Pattern MODEL = Pattern.compile("model v(\\d+) \\(train step (\\d+)\\)");
  private static final List<ClusterMember> NODES = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    int seedPort = freePort();
    // Versions every 20 train steps; status lines every second (the sampler member has no gateway to ask).
    // Over Artery's Aeron UDP transport (the other process tests use its default, TCP).
    List<String> common = List.of("--status-every", "1s", "--seed", "3", "--cluster-transport", "aeron-udp");
    List<String> trainer = new ArrayList<>(common);
    trainer.addAll(List.of("--out", LOGS.resolve("trainer-out").toString()));
    NODES.add(ClusterMember.launch(LOGS, "node1", seedPort, seedPort, freePort(), "gateway,sampler", common));
    NODES.add(ClusterMember.launch(LOGS, "node2", freePort(), seedPort, 0, "trainer",
        withPublishEvery(trainer)));
    NODES.add(ClusterMember.launch(LOGS, "node3", freePort(), seedPort, 0, "sampler", common));
    for (ClusterMember n : NODES) n.awaitLog("scorestream serve is up:");
  }

  private static List<String> withPublishEvery(List<String> args) {
    List<String> out = new ArrayList<>(args);
    out.add("-Dscorestream.trainer.publish-every=20");
    return out;
  }

  @AfterAll
  static void stop() throws Exception {
    ClusterMember.stopAll(NODES);
  }

  /** The latest (version, train step) a member's status line shows, or null. */
  private static long[] latestModel(ClusterMember n) throws Exception {
    Matcher m = MODEL.matcher(Files.readString(n.log()));
    long[] last = null;
    while (m.find()) last = new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
    return last;
  }

  @Test
  void theTrainersVersionsReachBothSamplerMembersAndResultsNameThem() throws Exception {
    ClusterMember gateway = NODES.get(0);
    ClusterMember samplerOnly = NODES.get(2);
    for (ClusterMember n : List.of(gateway, samplerOnly)) {
      awaitCondition(n.name() + " serving a trained version", () -> {
        long[] v = latestModel(n);
        return v != null && v[0] > 1 && v[1] > 0;
      });
    }
    awaitCondition("node 1 routing to both samplers", () -> {
      JsonNode status = MAPPER.readTree(get(gateway, "/v1/status").body());
      int live = 0;
      for (JsonNode s : status.get("samplers")) if (s.get("alive").asBoolean()) live++;
      return live == 2;
    });
    // 256 chains: split over node 1's and node 3's samplers (split-min-chains 64).
    HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(URI.create(gateway.url("/v1/samples")))
        .timeout(Duration.ofSeconds(ClusterMember.HANG_GUARD_S)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"count\": 256, \"steps\": 100, \"seed\": 5, "
            + "\"previewEvery\": 0}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(202, posted.statusCode(), posted.body());
    String id = Json.read(posted.body(), SampleAccepted.class).id();
    JsonNode done = null;
    long end = System.nanoTime() + Duration.ofSeconds(ClusterMember.HANG_GUARD_S).toNanos();
    while (System.nanoTime() < end) {
      done = MAPPER.readTree(get(gateway, "/v1/samples/" + id).body());
      if (!done.get("state").asText().equals("running")) break;
      Thread.sleep(100);
    }
    assertEquals("completed", done.get("state").asText(), done::toString);
    List<Long> versions = new ArrayList<>();
    for (JsonNode v : done.get("modelVersions")) versions.add(v.asLong());
    assertFalse(versions.isEmpty());
    assertTrue(versions.stream().allMatch(v -> v > 1), "the result names trained versions: " + versions);
    // Both sampler members ran chains of it, each with its own registry's numbering of the trainer's versions.
    JsonNode status = MAPPER.readTree(get(gateway, "/v1/status").body());
    for (JsonNode s : status.get("samplers")) {
      assertTrue(s.get("alive").asBoolean(), s::toString);
    }
    assertTrue(Files.readString(NODES.get(1).log()).contains("scorestream serve is up:"));
    System.out.printf("cluster training: node 1 at %s, node 3 at %s (version, train step); result versions %s%n",
        java.util.Arrays.toString(latestModel(gateway)), java.util.Arrays.toString(latestModel(samplerOnly)),
        versions);
  }

  private static HttpResponse<String> get(ClusterMember n, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(n.url(path)))
        .timeout(Duration.ofSeconds(ClusterMember.HANG_GUARD_S)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
