package io.scorestream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.stream.javadsl.Sink;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.Result;
import io.scorestream.actors.SampleEvent;
import io.scorestream.actors.ScoreStream;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.protocol.Cancelled;
import io.scorestream.protocol.Completed;
import io.scorestream.protocol.Preview;
import io.scorestream.protocol.SamplerParams;
import io.scorestream.protocol.Terminal;
import io.scorestream.protocol.client.ClientContext;
import io.scorestream.protocol.client.RequestHandle;
import io.scorestream.protocol.client.RequestListener;
import io.scorestream.protocol.client.ScoreStreamClient;
import io.scorestream.protocol.json.CancelAccepted;
import io.scorestream.protocol.json.EventJson;
import io.scorestream.protocol.json.Json;
import io.scorestream.protocol.json.SampleAccepted;
import io.scorestream.streams.aeron.AeronGateway;
import io.scorestream.streams.aeron.AeronSettings;
import io.scorestream.streams.http.HttpGateway;
import io.scorestream.streams.http.HttpSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One node (the reference configuration: analytic gmm8 over the VP SDE, dim 2) behind both gateways at once, driven
 * over every path a client has: the in-process API, ScoreStreamClient over Aeron IPC and over UDP on loopback (its own
 * embedded driver), and HTTP with WebSocket and server-sent-event streams. Proves that the same request gives
 * bit-identical samples on all five paths with accepted, previews and completed in order; that a cancel over each
 * transport ends that request Cancelled and leaves the node with nothing active; and that requests from all the
 * transports at once complete, each with the samples its seed gives on every other path.
 */
class GatewaysEndToEndTest {
  /** Guards against hangs only; never a performance bound. */
  private static final long HANG_GUARD_S = 120;

  private static ScoreStream api;
  private static HttpGateway httpGateway;
  private static AeronGateway aeronGateway;
  private static ScoreStreamClient ipc;
  private static ScoreStreamClient udp;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();

  @BeforeAll
  static void start() throws Exception {
    // A second model beside the primary one (NCSN's mixture over the VE SDE), batched apart from it.
    Config config = ConfigFactory.parseString("akka.loglevel = WARNING\n"
        + "scorestream.extra-models { ncsn { source = \"analytic:ncsn-gmm\", sde = ve } }")
        .withFallback(ConfigFactory.load()).resolve();
    api = ScoreStream.start(config);
    httpGateway = HttpGateway.start(api, HttpSettings.from(config).withPort(0)).toCompletableFuture()
        .get(HANG_GUARD_S, TimeUnit.SECONDS);
    aeronGateway = AeronGateway.start(api, AeronSettings.from(config)
        .withIngressChannels(List.of("aeron:ipc", "aeron:udp?endpoint=127.0.0.1:0")));
    long connectTimeoutNs = TimeUnit.SECONDS.toNanos(HANG_GUARD_S);
    ipc = ScoreStreamClient.connect(new ClientContext().aeronDirectoryName(aeronGateway.driverDirectory())
        .ingressChannel("aeron:ipc").ingressStreamId(aeronGateway.ingressStreamId()).egressChannel("aeron:ipc")
        .clientName("e2e-ipc").connectTimeoutNs(connectTimeoutNs));
    udp = ScoreStreamClient.connect(new ClientContext().embeddedDriver(true)
        .ingressChannel(aeronGateway.ingressChannels().get(1)).ingressStreamId(aeronGateway.ingressStreamId())
        .egressChannel("aeron:udp?endpoint=127.0.0.1:0").clientName("e2e-udp").connectTimeoutNs(connectTimeoutNs));
  }

  @AfterAll
  static void stop() throws Exception {
    CloseHelper.closeAll(ipc, udp, aeronGateway, httpGateway, api);
    if (api != null) api.system().getWhenTerminated().toCompletableFuture().get(HANG_GUARD_S, TimeUnit.SECONDS);
  }

  /** One request, as each path spells it: the node's GenerateRequest, the SBE message, the JSON body. */
  record Ask(int count, long seed, String kind, String method, int steps, int previewEvery, Double eta,
             String schedule, Double churn, List<Integer> labels, Double guidance, String model,
             io.scorestream.protocol.Inpainting inpainting) {
    Ask(int count, long seed, String kind, String method, int steps, int previewEvery, Double eta, String schedule,
        Double churn) {
      this(count, seed, kind, method, steps, previewEvery, eta, schedule, churn, List.of(), null, null, null);
    }

    /** The same request, class-conditional (gmm8's components) with a guidance scale. */
    Ask withLabels(List<Integer> ls, Double w) {
      return new Ask(count, seed, kind, method, steps, previewEvery, eta, schedule, churn, ls, w, model, inpainting);
    }

    /** The same request for the node's model of that name. */
    Ask withModel(String name) {
      return new Ask(count, seed, kind, method, steps, previewEvery, eta, schedule, churn, labels, guidance, name,
          inpainting);
    }

    /** The same request inpainting the dimensions where mask is false, keeping known where it is true. */
    Ask withInpainting(double[] known, boolean[] mask) {
      return new Ask(count, seed, kind, method, steps, previewEvery, eta, schedule, churn, labels, guidance, model,
          new io.scorestream.protocol.Inpainting(known, mask));
    }

    /** The node's per-SDE predictor-corrector default (VP: Euler-Maruyama). */
    static Ask pc(int count, long seed, int steps, int previewEvery) {
      return new Ask(count, seed, "pc", null, steps, previewEvery, null, null, null);
    }

    /** The probability-flow ODE with Heun's method. */
    static Ask heun(int count, long seed, int steps, int previewEvery) {
      return new Ask(count, seed, "ode", "heun", steps, previewEvery, null, null, null);
    }

    /** A few-step solver (ddim | dpmpp-2m | dpmpp-2m-sde | edm) with the given fields (null: its defaults). */
    static Ask fewStep(String kind, int count, long seed, int steps, int previewEvery, Double eta, String schedule,
                       Double churn) {
      return new Ask(count, seed, kind, null, steps, previewEvery, eta, schedule, churn);
    }

    GenerateRequest node() {
      SamplerSpec s = switch (kind) {
        case "pc" -> SamplerSpec.pc(steps);
        case "ode" -> SamplerSpec.ode(method, steps);
        default -> SamplerSpec.fewStep(kind, steps).withFewStep(eta, schedule, churn);
      };
      io.scorestream.model.sample.Conditioning c =
          io.scorestream.model.sample.Conditioning.ofRequest(labels, guidance);
      if (inpainting != null) c = c.withMask(inpainting.mask(), inpainting.known());
      return GenerateRequest.of(count, seed, s).withPreviewEvery(previewEvery).withConditioning(c).withModel(model);
    }

    io.scorestream.protocol.GenerateRequest wire() {
      SamplerParams p = switch (kind) {
        case "pc" -> SamplerParams.pc(steps);
        case "ode" -> SamplerParams.ode(method, steps);
        default -> SamplerParams.fewStep(kind, steps).withFewStep(eta, schedule, churn);
      };
      return io.scorestream.protocol.GenerateRequest.of(count, seed, p).withPreviewEvery(previewEvery)
          .withLabels(labels, guidance).withModel(model == null ? "" : model).withInpainting(inpainting);
    }

    String json() {
      StringBuilder sampler = new StringBuilder("\"sampler\": \"" + kind + "\"");
      if (method != null) sampler.append(", \"method\": \"").append(method).append('"');
      if (eta != null) sampler.append(", \"eta\": ").append(eta);
      if (schedule != null) sampler.append(", \"schedule\": \"").append(schedule).append('"');
      if (churn != null) sampler.append(", \"churn\": ").append(churn);
      if (!labels.isEmpty()) sampler.append(", \"labels\": ").append(labels);
      if (guidance != null) sampler.append(", \"guidance\": ").append(guidance);
      if (model != null) sampler.append(", \"model\": \"").append(model).append('"');
      if (inpainting != null) {
        sampler.append(", \"known\": ").append(java.util.Arrays.toString(inpainting.known()));
        StringBuilder flags = new StringBuilder();
        for (boolean m : inpainting.mask()) flags.append(flags.length() == 0 ? "" : ", ").append(m ? 1 : 0);
        sampler.append(", \"mask\": [").append(flags).append(']');
      }
      return String.format(Locale.ROOT, "{\"count\": %d, \"seed\": %d, %s, \"steps\": %d, \"previewEvery\": %d}",
          count, seed, sampler, steps, previewEvery);
    }
  }

  /** What one path saw of a request: its event types in arrival order, and the samples if it completed. */
  record Run(String path, List<String> events, int count, int dim, double[] samples) {
    String last() {
      return events.isEmpty() ? "(none)" : events.get(events.size() - 1);
    }
  }

  // ------------------------------------------------------------------------------------------------ the paths

  private static CompletableFuture<Run> inProcess(Ask ask) {
    return api.submit(ask.node()).runWith(Sink.seq(), api.system()).toCompletableFuture()
        .thenApply(GatewaysEndToEndTest::inProcessRun);
  }

  private static Run inProcessRun(List<SampleEvent> events) {
    List<String> types = events.stream().map(e -> e.getClass().getSimpleName().toLowerCase(Locale.ROOT)).toList();
    if (!events.isEmpty() && events.get(events.size() - 1) instanceof SampleEvent.Completed c) {
      Result r = c.result();
      return new Run("in-process", types, r.count(), r.dim(), r.samples());
    }
    return new Run("in-process", types, -1, -1, null);
  }

  /** Submits over Aeron; the listener appends each event's type to events. */
  private static RequestHandle submitAeron(ScoreStreamClient client, Ask ask, List<String> events) {
    return client.submit(ask.wire(), new RequestListener() {
      @Override
      public void onAccepted(io.scorestream.protocol.Accepted a) {
        events.add("accepted");
      }

      @Override
      public void onPreview(Preview p) {
        events.add("preview");
      }

      @Override
      public void onTerminal(Terminal t) {
        events.add(t.getClass().getSimpleName().toLowerCase(Locale.ROOT));
      }
    });
  }

  private static CompletableFuture<Run> overAeron(String path, ScoreStreamClient client, Ask ask) {
    List<String> events = new CopyOnWriteArrayList<>();
    return submitAeron(client, ask, events).outcome().thenApply(t -> t instanceof Completed c
        ? new Run(path, List.copyOf(events), c.count(), c.dim(), c.samples())
        : new Run(path, List.copyOf(events), -1, -1, null));
  }

  private static HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(httpGateway.baseUrl() + path)).timeout(Duration.ofSeconds(HANG_GUARD_S));
  }

  /** POST /v1/samples; completes with the request id once the node accepted it (202). */
  private static CompletableFuture<String> post(Ask ask) {
    HttpRequest r = request("/v1/samples").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(ask.json())).build();
    return HTTP.sendAsync(r, HttpResponse.BodyHandlers.ofString()).thenApply(resp -> {
      assertEquals(202, resp.statusCode(), resp.body());
      return Json.read(resp.body(), SampleAccepted.class).id();
    });
  }

  private static Run httpRun(String path, List<EventJson> events) {
    List<String> types = events.stream().map(EventJson::type).toList();
    if (!events.isEmpty() && events.get(events.size() - 1) instanceof EventJson.Completed c) {
      double[] flat = Arrays.stream(c.samples()).flatMapToDouble(Arrays::stream).toArray();
      return new Run(path, types, c.count(), c.dim(), flat);
    }
    return new Run(path, types, -1, -1, null);
  }

  /** The request's events over a WebSocket, until the server closes it after the terminal event. */
  private static CompletableFuture<Run> webSocket(String id) {
    WsText listener = new WsText();
    URI uri = URI.create(httpGateway.baseUrl().replace("http://", "ws://") + "/v1/samples/" + id + "/events");
    return HTTP.newWebSocketBuilder().buildAsync(uri, listener).thenCompose(ws -> listener.closed)
        .thenApply(text -> httpRun("websocket", text.lines().map(m -> Json.read(m, EventJson.class)).toList()));
  }

  /** Gathers the text messages, one line each (compact JSON has no raw newline); completes when the server closes. */
  private static final class WsText implements WebSocket.Listener {
    final CompletableFuture<String> closed = new CompletableFuture<>();
    // The JDK calls a listener's methods one at a time, each after the previous one returned.
    private final StringBuilder text = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence part, boolean lastPart) {
      text.append(part);
      if (lastPart) text.append('\n');
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      closed.complete(text.toString());
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      closed.completeExceptionally(error);
    }
  }

  /** The request's events as server-sent events; the server ends the response after the terminal event. */
  private static CompletableFuture<Run> serverSentEvents(String id) {
    HttpRequest r = request("/v1/samples/" + id + "/events").header("Accept", "text/event-stream").GET().build();
    return HTTP.sendAsync(r, HttpResponse.BodyHandlers.ofString()).thenApply(resp -> {
      assertEquals(200, resp.statusCode(), resp.body());
      List<EventJson> events = new ArrayList<>();
      for (String block : resp.body().split("\n\n")) {
        String name = null;
        StringBuilder data = new StringBuilder();
        for (String line : block.split("\n")) {
          if (line.startsWith("event:")) name = line.substring(6).trim();
          if (line.startsWith("data:")) data.append(line.substring(5).stripLeading());
        }
        if (data.length() == 0) continue; // a keep-alive comment
        EventJson e = Json.read(data.toString(), EventJson.class);
        assertEquals(e.type(), name, "the SSE event name is the event's type");
        events.add(e);
      }
      return httpRun("sse", events);
    });
  }

  /** Every path at once for one request: in-process, Aeron IPC and UDP, HTTP WebSocket and SSE. */
  private static List<CompletableFuture<Run>> everyPath(Ask ask) {
    return List.of(inProcess(ask), overAeron("aeron-ipc", ipc, ask), overAeron("aeron-udp", udp, ask),
        post(ask).thenCompose(GatewaysEndToEndTest::webSocket),
        post(ask).thenCompose(GatewaysEndToEndTest::serverSentEvents));
  }

  // ----------------------------------------------------------------------------------------------- assertions

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(HANG_GUARD_S, TimeUnit.SECONDS);
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_GUARD_S);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) throw new AssertionError("hang guard: " + what);
      Thread.sleep(5);
    }
  }

  /** accepted first, then only previews (at least one), completed last; count x 2 samples. */
  private static void assertCompletedInOrder(Run r, Ask ask) {
    List<String> e = r.events();
    assertTrue(e.size() >= 3 && e.get(0).equals("accepted") && r.last().equals("completed"),
        r.path() + ": accepted first, completed last: " + e);
    assertTrue(e.subList(1, e.size() - 1).stream().allMatch("preview"::equals), r.path() + ": " + e);
    assertEquals(ask.count(), r.count(), r.path() + ": count");
    assertEquals(2, r.dim(), r.path() + ": dim");
    assertEquals(ask.count() * 2, r.samples().length, r.path() + ": values");
  }

  private static void assertBitIdentical(double[] expected, Run r) {
    assertEquals(expected.length, r.samples().length, r.path() + ": values");
    for (int i = 0; i < expected.length; i++) {
      if (Double.doubleToRawLongBits(expected[i]) != Double.doubleToRawLongBits(r.samples()[i])) {
        throw new AssertionError(r.path() + ": value " + i + " (chain " + i / 2 + ") is " + r.samples()[i]
            + ", the reference has " + expected[i]);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------- tests

  static Stream<Ask> samplers() {
    // The few-step solvers carry their new fields on every wire: noise (eta, churn), registers and a schedule.
    return Stream.of(Ask.pc(64, 42, 60, 10), Ask.heun(64, 43, 60, 10),
        Ask.fewStep("dpmpp-2m-sde", 64, 44, 20, 5, 0.7, "logsnr", null),
        Ask.fewStep("edm", 64, 45, 12, 4, null, "karras", 15.0),
        Ask.fewStep("ddim", 64, 46, 25, 5, 0.5, "uniform", null),
        // Class labels (gmm8's components; -1: none) and classifier-free guidance travel on every wire too.
        Ask.fewStep("ddim", 64, 47, 25, 5, null, null, null).withLabels(List.of(0, 3, -1, 6), 2.0),
        // The node's second model, named on every wire.
        Ask.pc(64, 48, 60, 10).withModel("ncsn"),
        // Inpainting: the first coordinate known (kept at 1.5), the second generated, on every wire.
        Ask.fewStep("ddim", 64, 50, 25, 5, null, null, null).withInpainting(new double[] {1.5, 0.0},
            new boolean[] {true, false}));
  }

  @Test
  void theSecondModelIsItsOwnAndTheStatusListsBoth() throws Exception {
    Ask primary = Ask.pc(16, 49, 40, 0);
    double[] a = api.generate(primary.node()).toCompletableFuture().get(HANG_GUARD_S, TimeUnit.SECONDS).samples();
    double[] b = api.generate(primary.withModel("ncsn").node()).toCompletableFuture()
        .get(HANG_GUARD_S, TimeUnit.SECONDS).samples();
    assertFalse(java.util.Arrays.equals(a, b), "the same seed on another model gives other samples");
    HttpResponse<String> status = HTTP.send(HttpRequest.newBuilder(
        URI.create(httpGateway.baseUrl() + "/v1/status")).build(),
        HttpResponse.BodyHandlers.ofString());
    com.fasterxml.jackson.databind.JsonNode models = io.scorestream.protocol.json.Json.mapper().readTree(status.body())
        .get("models");
    assertEquals(2, models.size(), status.body());
    assertEquals("default", models.get(0).get("name").asText());
    assertEquals("vp", models.get(0).get("sde").asText());
    assertEquals("ncsn", models.get(1).get("name").asText());
    assertEquals("ve", models.get(1).get("sde").asText());
    HttpResponse<String> unknown = HTTP.send(HttpRequest.newBuilder(
            URI.create(httpGateway.baseUrl() + "/v1/samples"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"count\": 2, \"model\": \"nope\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(400, unknown.statusCode(), unknown.body());
    assertTrue(unknown.body().contains("\"field\":\"model\"") && unknown.body().contains("default, ncsn"),
        unknown.body());
  }

  @ParameterizedTest
  @MethodSource("samplers")
  void everyPathGivesTheInProcessSamplesBitForBit(Ask ask) throws Exception {
    double[] expected = api.generate(ask.node()).toCompletableFuture().get(HANG_GUARD_S, TimeUnit.SECONDS)
        .samples();
    if (ask.inpainting() != null) {
      // The kept coordinate ends at its known value (the last reset is to a nearly noiseless forward sample).
      for (int i = 0; i < ask.count(); i++) {
        assertEquals(ask.inpainting().known()[0], expected[2 * i], 0.1, "chain " + i + " keeps its known x");
      }
    }
    for (CompletableFuture<Run> f : everyPath(ask)) {
      Run r = await(f);
      assertCompletedInOrder(r, ask);
      assertBitIdentical(expected, r);
    }
  }

  @Test
  void anInpaintingConditionOfAnotherDimensionIsRejectedOverAeron() throws Exception {
    // gmm8 is 2-D; three known values are a typed refusal, and the node runs nothing for it.
    Ask wrong = Ask.fewStep("ddim", 4, 51, 10, 0, null, null, null)
        .withInpainting(new double[] {0.1, 0.2, 0.3}, new boolean[] {true, false, true});
    for (ScoreStreamClient client : List.of(ipc, udp)) {
      Terminal t = await(submitAeron(client, wrong, new CopyOnWriteArrayList<>()).outcome());
      io.scorestream.protocol.Rejected r = assertInstanceOf(io.scorestream.protocol.Rejected.class, t, t.toString());
      assertEquals(io.scorestream.protocol.ErrorCode.INVALID_ARGUMENT, r.code(), r.toString());
      assertTrue(r.message().contains("inpainting mask of 3"), r.message());
    }
  }

  @Test
  void cancelOverEachTransportEndsCancelledAndLeavesNothingActive() throws Exception {
    // 1,024 chains x 10,000 steps: running for far longer than any cancellation takes to land.
    Ask longAsk = Ask.pc(1024, 5, 10_000, 100);

    for (ScoreStreamClient client : List.of(ipc, udp)) {
      List<String> events = new CopyOnWriteArrayList<>();
      RequestHandle h = submitAeron(client, longAsk, events);
      await("accepted over Aeron", () -> h.acceptedNs() != 0 || h.outcome().isDone());
      h.cancel();
      Cancelled c = assertInstanceOf(Cancelled.class, await(h.outcome()));
      assertEquals(h.requestId(), c.requestId());
      assertEquals("accepted", events.get(0), events.toString());
      assertEquals("cancelled", events.get(events.size() - 1), events.toString());
    }

    String id = await(post(longAsk));
    CompletableFuture<Run> ws = webSocket(id);
    HttpResponse<String> deleted = HTTP.send(request("/v1/samples/" + id).DELETE().build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(202, deleted.statusCode(), deleted.body());
    assertEquals("cancelling", Json.read(deleted.body(), CancelAccepted.class).state());
    Run overWs = await(ws);
    assertEquals("cancelled", overWs.last(), overWs.events().toString());
    Run lateSse = await(serverSentEvents(id));
    assertEquals("cancelled", lateSse.last(), "a late SSE subscriber sees the end: " + lateSse.events());

    CompletableFuture<Void> accepted = new CompletableFuture<>();
    CompletableFuture<Run> local = api.submit(longAsk.node().withRequestId("e2e-cancel-in-process"))
        .wireTap(e -> {
          if (e instanceof SampleEvent.Accepted) accepted.complete(null);
        })
        .runWith(Sink.seq(), api.system()).toCompletableFuture().thenApply(GatewaysEndToEndTest::inProcessRun);
    await(accepted);
    api.cancel("e2e-cancel-in-process");
    Run inProcess = await(local);
    assertEquals("accepted", inProcess.events().get(0), inProcess.events().toString());
    assertEquals("cancelled", inProcess.last(), inProcess.events().toString());

    await("no active or queued request on the node", () -> {
      var s = api.status().toCompletableFuture().join();
      return s.activeRequests() == 0 && s.queuedRequests() == 0;
    });
  }

  @Test
  void requestsFromEveryTransportAtOnceAllComplete() throws Exception {
    // Six requests per path, all in flight together; the same seed on two paths must give the same samples.
    Map<Ask, List<CompletableFuture<Run>>> all = new LinkedHashMap<>();
    for (int i = 0; i < 6; i++) {
      Ask ask = i % 2 == 0 ? Ask.pc(16 + 8 * i, 900 + i, 80, 10) : Ask.heun(16 + 8 * i, 900 + i, 40, 10);
      all.put(ask, everyPath(ask));
    }
    for (Map.Entry<Ask, List<CompletableFuture<Run>>> entry : all.entrySet()) {
      Run first = null;
      for (CompletableFuture<Run> f : entry.getValue()) {
        Run r = await(f);
        assertCompletedInOrder(r, entry.getKey());
        for (double v : r.samples()) assertTrue(Double.isFinite(v), r.path() + ": a non-finite sample " + v);
        if (first == null) {
          first = r;
        } else {
          assertBitIdentical(first.samples(), r);
        }
      }
    }
  }
}
