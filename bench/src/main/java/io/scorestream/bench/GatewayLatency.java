package io.scorestream.bench;

import akka.stream.javadsl.Sink;
import com.typesafe.config.Config;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.InitialModel;
import io.scorestream.actors.Programs;
import io.scorestream.actors.SampleEvent;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.protocol.SamplerParams;
import io.scorestream.protocol.Terminal;
import io.scorestream.protocol.client.ClientContext;
import io.scorestream.protocol.client.RequestHandle;
import io.scorestream.protocol.client.RequestListener;
import io.scorestream.protocol.client.ScoreStreamClient;
import io.scorestream.protocol.json.EventJson;
import io.scorestream.protocol.json.Json;
import io.scorestream.protocol.json.SampleAccepted;
import io.scorestream.protocol.json.SampleRequest;
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
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.BackoffIdleStrategy;

/**
 * Gateway latency: the time from a client's request to its first preview and to its result, through each way into a
 * node, on an idle node and under open-loop load, and what each gateway adds to the in-process path.
 *
 * <p><b>Set-up.</b> One {@link BenchNode} (one sampler, continuous batching, 2-D VP; the MLP {@code init:0} or,
 * with {@code --model analytic}, the analytic gmm8 score) with both gateways in front of it for the whole run: the
 * HTTP gateway on a free loopback port, and the Aeron gateway (its embedded media driver) listening on
 * {@code aeron:ipc} and {@code aeron:udp?endpoint=127.0.0.1:0}. The clients run in the same JVM, on the same
 * cores as the node (so on a small machine their CPU, the WebSocket client's above all, slows the sampler too):
 * <ul>
 *   <li>{@code inproc}: {@code ScoreStream.submit}, events read by a {@code Sink.foreach};</li>
 *   <li>{@code aeron-ipc}: a {@code ScoreStreamClient} on the gateway's own media driver, IPC both ways;</li>
 *   <li>{@code aeron-udp}: a {@code ScoreStreamClient} with its own embedded media driver, UDP to the gateway's
 *       loopback endpoint and back to an ephemeral loopback port;</li>
 *   <li>{@code websocket}: the JDK HTTP client over HTTP/1.1: {@code POST /v1/samples}, then
 *       {@code GET /v1/samples/{id}/events} upgraded to a WebSocket (a new connection per request).</li>
 * </ul>
 * Every request asks for {@code --chains} chains of the SDE's default predictor-corrector program with
 * {@code --steps} steps and a preview every {@code --preview-every} steps; its seed comes from {@code --seed}.
 *
 * <p><b>What is timed.</b> From just before the client call that sends the request ({@code ScoreStream.submit},
 * {@code ScoreStreamClient.submit}, or the POST) to the arrival at the client of the first preview ({@code ttfp})
 * and of the completed result ({@code result}). In-process: when the stream hands over the event. Aeron: the
 * {@code RequestHandle}'s instants, taken by the client's polling thread in the duty cycle that reads the event.
 * WebSocket: when the last frame of the event's text message arrives, before it is parsed; this figure includes
 * the POST's round trip (the gateway answers 202 once the node has admitted the request) and the WebSocket
 * handshake, and loses nothing meanwhile, since the gateway replays a request's latest state (its latest preview,
 * its result) to a late subscriber. Latencies go into HdrHistograms (microseconds, 4 significant digits).
 *
 * <p><b>Idle</b> ({@code --loads idle}): one request at a time, each sent when the node is idle (nothing queued,
 * nothing on a sampler), {@code --requests} per transport, in rounds that send one request through each transport
 * in turn, so that slow drifts of the machine fall on every transport alike. Each idle line also has
 * {@code tick_p50_ms}, the median over its requests of the sampler's mean tick time while the request ran: when
 * it differs between transports, the node itself ran slower (e.g. the gateways' threads took a core), which shows
 * in {@code result} far more than in {@code ttfp}. All clients are connected for the whole run, and before the
 * first measurement each transport sends {@code --warmup} such requests that are not recorded (JIT, connections,
 * the gateways' first sessions).
 *
 * <p><b>Load</b> ({@code --loads 0.8}, any fractions): the capacity C is measured as {@code LoadGenerator} does
 * ({@link BenchNode#measureCapacity}: chain-steps/s of a full batch of {@code --batch-rows} chains, in process;
 * or given by {@code --capacity}); then requests arrive as a Poisson process for {@code --duration} at the rate
 * f C / (chains x network calls per request). <em>All requests go through the measured transport</em>, none in
 * process beside them: a line is what a client of that transport sees when the node's whole load arrives that
 * way, and the gateway's own CPU (its agents, the media drivers, JSON, the WebSocket connections), which shares
 * the cores with the sampler, is part of it. The arrival times and seeds depend only on {@code --seed} and the
 * load, so every transport sees the same schedule and the lines of one load are paired. Arrivals are open-loop and
 * latencies are measured from the scheduled time (no coordinated omission). After the last arrival, requests get
 * {@code --drain} to finish; the rest are counted as unfinished (not in the percentiles) and cancelled.
 *
 * <p><b>Overhead.</b> {@code inproc} is always measured first (first in each idle round, first at each load); each
 * line then carries, for its load, {@code ttfp_overhead_ms} and {@code result_overhead_ms} (its median minus the
 * in-process median) and {@code ttfp_ratio} and {@code result_ratio} (its median over the in-process median); NaN
 * without {@code inproc}.
 *
 * <p><b>Output.</b> One line per transport and load on stdout, e.g.
 * {@code transport=aeron-ipc load=idle requests=100 ttfp_p50_ms=... ttfp_p99_ms=... result_p50_ms=...
 * result_p99_ms=... ttfp_overhead_ms=... ttfp_ratio=... result_overhead_ms=... result_ratio=...}, then the
 * completed, rejected, failed, cancelled, lost (transport error) and unfinished counts; idle lines add
 * {@code tick_p50_ms} and {@code warmup}, load lines {@code offered_rps}, {@code capacity_chain_steps_per_s} and
 * {@code duration_s} and, as {@code LoadGenerator}, what the sampler did from the first arrival to the end of the
 * drain ({@code run_chain_steps_per_s}, {@code run_tick_ms}, {@code run_busy_fraction}: a transport that shows a
 * longer tick at the same offered load took CPU from the sampler); every line ends with the request shape and the
 * model. Progress goes to stderr.
 *
 * <p><b>Options.</b> {@code --transports inproc,aeron-ipc,aeron-udp,websocket --loads idle,0.8 --requests 100
 * --warmup 10 --duration 30s --drain 60s --chains 64 --steps 200 --preview-every 10 --model mlp|analytic --sde vp
 * --batch-rows 4096 --threads 1 --queue-bound 256 --capacity-seconds 5s --capacity CHAIN_STEPS_PER_S (skip
 * measuring) --idle-max-park 1ms --seed 1}. {@code --idle-max-park} (e.g. {@code 0.05ms}) is the longest park of
 * the Aeron gateway's agents and embedded driver and of the Aeron clients' polling threads: at 1 ms (the gateway's
 * default) an idle request waits for several parked threads to wake, which is most of the Aeron overhead at idle.
 * The UDP client's own media driver always backs off to 1 ms parks ({@code ClientContext.embeddedDriver}).
 *
 * <p>The Aeron media driver needs {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED} on the java command line.
 * Main thread only; the clients' callbacks only write their request's {@code Probe}.
 */
public final class GatewayLatency {
  private GatewayLatency() {}

  private static final List<String> TRANSPORTS = List.of("inproc", "aeron-ipc", "aeron-udp", "websocket");
  /** Guards against hangs only: no request of a benchmark should take this long. */
  private static final Duration HANG_GUARD = Duration.ofMinutes(10);
  private static final Duration IDLE_WAIT = Duration.ofSeconds(60);
  /** Transport errors printed per transport and load; the rest are only counted. */
  private static final int ERRORS_SHOWN = 5;

  public static void main(String[] argv) {
    BenchArgs.run(() -> new GatewayLatency().measure(argv));
  }

  // ---- Options ----
  private List<String> transports;
  private List<String> loads;
  private int requests;
  private int warmup;
  private Duration duration;
  private Duration drain;
  private int chains;
  private int steps;
  private int previewEvery;
  private String model;
  private String sde;
  private int batchRows;
  private int threads;
  private int queueBound;
  private Duration capacityMeasure;
  private double capacity;
  private Duration idleMaxPark;
  private long seed;

  private BenchNode node;
  /** The in-process medians (ttfp, result; microseconds) per load, for the overhead columns. */
  private final Map<String, long[]> inProcessMedians = new HashMap<>();
  private final AtomicInteger errorsShown = new AtomicInteger();

  private void measure(String[] argv) throws Exception {
    BenchArgs args = new BenchArgs("GatewayLatency", argv);
    transports = args.list("transports", String.join(",", TRANSPORTS));
    loads = args.list("loads", "idle,0.8");
    requests = args.integer("requests", 100);
    warmup = args.integer("warmup", 10);
    duration = args.duration("duration", "30s");
    drain = args.duration("drain", "60s");
    chains = args.integer("chains", 64);
    steps = args.integer("steps", 200);
    previewEvery = args.integer("preview-every", 10);
    model = args.string("model", "mlp");
    sde = args.string("sde", "vp");
    batchRows = args.integer("batch-rows", 4096);
    threads = args.integer("threads", 1);
    queueBound = args.integer("queue-bound", 256);
    capacityMeasure = args.duration("capacity-seconds", "5s");
    capacity = args.number("capacity", 0);
    idleMaxPark = args.duration("idle-max-park", "1ms");
    seed = args.longValue("seed", 1);
    args.done();
    for (String t : transports) {
      if (!TRANSPORTS.contains(t)) throw args.usage("--transports takes " + TRANSPORTS + ", got '" + t + "'");
    }
    for (String l : loads) {
      if (!l.equals("idle") && !(parseLoad(l) > 0)) {
        throw args.usage("--loads takes idle and fractions of capacity > 0, got '" + l + "'");
      }
    }
    if (transports.isEmpty() || loads.isEmpty()) throw args.usage("--transports and --loads must not be empty");
    if (requests < 1 || warmup < 0) throw args.usage("need --requests >= 1 and --warmup >= 0");
    if (chains < 1 || chains > batchRows) throw args.usage("need 1 <= --chains <= --batch-rows");
    if (previewEvery < 1 || steps < previewEvery) {
      throw args.usage("need 1 <= --preview-every <= --steps (a request must send a preview to be timed)");
    }
    if (!List.of("mlp", "analytic").contains(model)) throw args.usage("--model must be mlp or analytic");
    if (idleMaxPark.toNanos() < 1_000) throw args.usage("--idle-max-park must be at least 0.001ms");

    // inproc first: the other transports' lines compare with its medians.
    Set<String> order = new LinkedHashSet<>();
    if (transports.contains("inproc")) order.add("inproc");
    order.addAll(transports);

    try (BenchNode n = BenchNode.start(overrides())) {
      node = n;
      Config config = node.system.settings().config();
      HttpGateway http = HttpGateway.start(node.api, HttpSettings.from(config).withPort(0)).toCompletableFuture()
          .get(IDLE_WAIT.toSeconds(), TimeUnit.SECONDS);
      try (AeronGateway aeron = AeronGateway.start(node.api, AeronSettings.from(config)
          .withIngressChannels(List.of("aeron:ipc", "aeron:udp?endpoint=127.0.0.1:0")))) {
        System.err.printf(Locale.ROOT, "GatewayLatency: %s on %s, %d chains x %d steps, a preview every %d steps; "
                + "HTTP %s, Aeron %s (driver %s)%n", InitialModel.from(node.settings.model()).description(),
            sde, chains, steps, previewEvery, http.baseUrl(), aeron.ingressChannels(), aeron.driverDirectory());
        if (capacity <= 0 && loads.stream().anyMatch(l -> !l.equals("idle"))) {
          capacity = node.measureCapacity(batchRows, BenchNode.CAPACITY_STEPS, seed, capacityMeasure);
        }
        List<Transport> clients = new ArrayList<>();
        try {
          for (String name : order) clients.add(open(name, http, aeron));
          for (Transport t : clients) warmUp(t);
          for (String load : loads) {
            if (load.equals("idle")) {
              idle(clients).forEach(this::print);
            } else {
              for (Transport t : clients) print(underLoad(t, parseLoad(load)));
            }
          }
        } finally {
          clients.forEach(Transport::close);
        }
      } finally {
        http.close();
      }
    }
  }

  private String overrides() {
    // The gateways' own limits must admit what the benchmark sends; idle strategies as chosen.
    return String.format(Locale.ROOT, """
        scorestream {
          http { max-count = %d, max-steps = %d }
          aeron { idle-max-park = %dns }
        }
        """, Math.max(4096, chains), Math.max(10_000, steps), idleMaxPark.toNanos())
        + BenchNode.overrides(model, sde, 1, threads, batchRows, "continuous", queueBound);
  }

  private static double parseLoad(String load) {
    try {
      return Double.parseDouble(load);
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  // ---- Requests as a client sees them ----

  /** How a request ended, as the client saw it. */
  private enum Outcome { COMPLETED, REJECTED, FAILED, CANCELLED, LOST }

  /**
   * One request: when it was due, when its first preview and its end reached the client, and how to cancel it.
   * Written by the transport's callback threads, read by the main thread.
   */
  private static final class Probe {
    final String id;
    final long seed;
    final long startNs;
    final CompletableFuture<Outcome> ended = new CompletableFuture<>();
    private long firstPreviewNs;
    private long endedNs;
    private Runnable cancel = () -> {};

    Probe(String id, long seed, long startNs) {
      this.id = id;
      this.seed = seed;
      this.startNs = startNs;
    }

    synchronized void previewAt(long nowNs) {
      if (firstPreviewNs == 0) firstPreviewNs = nowNs;
    }

    /** The first end counts; later ones (a stream closing after its terminal event) are ignored. */
    synchronized void end(Outcome outcome, long nowNs) {
      if (ended.isDone()) return;
      endedNs = nowNs;
      ended.complete(outcome);
    }

    synchronized long firstPreviewNs() {
      return firstPreviewNs;
    }

    synchronized long endedNs() {
      return endedNs;
    }

    synchronized void cancelWith(Runnable c) {
      cancel = c;
    }

    void cancel() {
      Runnable c;
      synchronized (this) {
        c = cancel;
      }
      c.run();
    }
  }

  /** A way into the node. {@link #send} must not block: the open-loop arrival loop calls it. */
  private interface Transport extends AutoCloseable {
    String name();

    /** Sends the request of probe and arranges for its events to reach it. */
    void send(Probe probe);

    @Override
    void close();
  }

  private Transport open(String name, HttpGateway http, AeronGateway aeron) {
    return switch (name) {
      case "inproc" -> new InProcess();
      case "aeron-ipc" -> new AeronClient(name, client(name).aeronDirectoryName(aeron.driverDirectory())
          .ingressChannel("aeron:ipc").ingressStreamId(aeron.ingressStreamId()).egressChannel("aeron:ipc"));
      case "aeron-udp" -> new AeronClient(name, client(name).embeddedDriver(true)
          .ingressChannel(aeron.ingressChannels().stream().filter(c -> c.startsWith("aeron:udp")).findFirst()
              .orElseThrow()).ingressStreamId(aeron.ingressStreamId())
          .egressChannel("aeron:udp?endpoint=127.0.0.1:0"));
      case "websocket" -> new WebSocketClient(http.baseUrl());
      default -> throw new IllegalArgumentException("unknown transport " + name);
    };
  }

  /** The client's default idle strategy, with the same longest park as the gateway's agents. */
  private ClientContext client(String name) {
    return new ClientContext().clientName("gateway-latency-" + name)
        .idleStrategy(new BackoffIdleStrategy(1, 1, 1_000, idleMaxPark.toNanos()));
  }

  private final class InProcess implements Transport {
    @Override
    public String name() {
      return "inproc";
    }

    @Override
    public void send(Probe p) {
      p.cancelWith(() -> node.api.cancel(p.id));
      GenerateRequest r = new GenerateRequest(p.id, chains, p.seed, SamplerSpec.pc(steps), previewEvery, null);
      node.api.submit(r).runWith(Sink.foreach(e -> {
        long now = System.nanoTime();
        if (e instanceof SampleEvent.Preview) {
          p.previewAt(now);
        } else if (e.terminal()) {
          p.end(e instanceof SampleEvent.Completed ? Outcome.COMPLETED
              : e instanceof SampleEvent.Rejected ? Outcome.REJECTED
              : e instanceof SampleEvent.Failed ? Outcome.FAILED : Outcome.CANCELLED, now);
        }
      }), node.system).whenComplete((done, error) -> {
        if (error != null) lost("inproc", p, error);
        p.end(Outcome.LOST, System.nanoTime());
      });
    }

    @Override
    public void close() {}
  }

  private final class AeronClient implements Transport {
    private final String name;
    private final ScoreStreamClient client;

    AeronClient(String name, ClientContext ctx) {
      this.name = name;
      this.client = ScoreStreamClient.connect(ctx);
      System.err.printf(Locale.ROOT, "%s: session %d, egress %s%n", name, client.sessionId(), client.egressChannel());
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public void send(Probe p) {
      RequestHandle h = client.submit(io.scorestream.protocol.GenerateRequest.of(chains, p.seed,
          SamplerParams.pc(steps)).withPreviewEvery(previewEvery), RequestListener.NONE);
      p.cancelWith(h::cancel);
      // Completes on the client's polling thread, after the handle has taken its instants.
      h.outcome().whenComplete((terminal, error) -> {
        if (h.firstPreviewNs() != 0) p.previewAt(h.firstPreviewNs());
        if (error != null) lost(name, p, error);
        p.end(error != null ? Outcome.LOST : outcome(terminal), h.endedNs() != 0 ? h.endedNs() : System.nanoTime());
      });
    }

    private static Outcome outcome(Terminal t) {
      if (t instanceof io.scorestream.protocol.Completed) return Outcome.COMPLETED;
      if (t instanceof io.scorestream.protocol.Rejected) return Outcome.REJECTED;
      if (t instanceof io.scorestream.protocol.Failed) return Outcome.FAILED;
      return Outcome.CANCELLED;
    }

    @Override
    public void close() {
      client.close();
    }
  }

  private final class WebSocketClient implements Transport {
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(30)).build();
    private final String base;

    WebSocketClient(String base) {
      this.base = base;
    }

    @Override
    public String name() {
      return "websocket";
    }

    @Override
    public void send(Probe p) {
      String body = Json.write(new SampleRequest(chains, p.seed, null, "pc", steps, null, null, null, null, null, null,
          null, null, null, null, null, null, null, null, null, null, previewEvery, null));
      HttpRequest post = HttpRequest.newBuilder(URI.create(base + "/v1/samples")).timeout(HANG_GUARD)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
      http.sendAsync(post, HttpResponse.BodyHandlers.ofString()).thenCompose(response -> {
        if (response.statusCode() != 202) {
          // Refused at admission (400, 429 OVERLOADED, 503): the HTTP form of Rejected.
          if (errorsShown.getAndIncrement() < ERRORS_SHOWN) {
            System.err.println("websocket: POST answered " + response.statusCode() + ": " + response.body());
          }
          p.end(Outcome.REJECTED, System.nanoTime());
          return CompletableFuture.completedFuture(null);
        }
        SampleAccepted accepted = Json.read(response.body(), SampleAccepted.class);
        p.cancelWith(() -> http.sendAsync(HttpRequest.newBuilder(URI.create(base + accepted.status())).DELETE()
            .build(), HttpResponse.BodyHandlers.discarding()));
        return http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30))
            .buildAsync(URI.create(base.replace("http://", "ws://") + accepted.events()), new Events(p));
      }).whenComplete((socket, error) -> {
        if (error != null) {
          lost("websocket", p, error);
          p.end(Outcome.LOST, System.nanoTime());
        }
      });
    }

    @Override
    public void close() {}
  }

  /** Reads one request's event stream: its first preview and its terminal event. */
  private final class Events implements WebSocket.Listener {
    private final Probe probe;
    private final StringBuilder text = new StringBuilder();

    Events(Probe probe) {
      this.probe = probe;
    }

    @Override
    public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        long now = System.nanoTime();
        EventJson e = Json.read(text.toString(), EventJson.class);
        text.setLength(0);
        if (e instanceof EventJson.Preview) {
          probe.previewAt(now);
        } else if (e.terminal()) {
          probe.end(e instanceof EventJson.Completed ? Outcome.COMPLETED
              : e instanceof EventJson.Failed ? Outcome.FAILED : Outcome.CANCELLED, now);
        }
      }
      socket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
      if (!probe.ended.isDone()) lost("websocket", probe, new IllegalStateException("closed " + statusCode + " "
          + reason + " before a terminal event"));
      probe.end(Outcome.LOST, System.nanoTime());
      return null;
    }

    @Override
    public void onError(WebSocket socket, Throwable error) {
      lost("websocket", probe, error);
      probe.end(Outcome.LOST, System.nanoTime());
    }
  }

  private void lost(String transport, Probe p, Throwable error) {
    if (p.ended.isDone() || errorsShown.getAndIncrement() >= ERRORS_SHOWN) return;
    System.err.println(transport + ": request " + p.id + " lost: " + error);
  }

  // ---- Idle ----

  private void warmUp(Transport t) throws Exception {
    System.err.printf(Locale.ROOT, "%s: %d warm-up request(s)%n", t.name(), warmup);
    for (int i = 0; i < warmup; i++) sequential(t, "warmup", i, seed * 1_000_003L + 500_000 + i);
  }

  /**
   * Idle rounds: each sends one request through every transport in turn, each alone on an idle node, so that slow
   * drifts of the machine fall on every transport alike.
   */
  private List<Run> idle(List<Transport> open) throws Exception {
    errorsShown.set(0);
    List<List<Probe>> probes = new ArrayList<>();
    List<Histogram> ticks = new ArrayList<>();
    for (int k = 0; k < open.size(); k++) {
      probes.add(new ArrayList<>(requests));
      ticks.add(new Histogram(4));
    }
    for (int i = 0; i < requests; i++) {
      for (int k = 0; k < open.size(); k++) {
        node.awaitIdle(IDLE_WAIT);
        BenchNode.Counters c0 = node.counters();
        probes.get(k).add(sequential(open.get(k), "idle", i, seed * 1_000_003L + i));
        node.awaitIdle(IDLE_WAIT);
        BenchNode.Counters c1 = node.counters();
        ticks.get(k).recordValue(Math.max(1,
            (c1.busyNanos() - c0.busyNanos()) / 1000 / Math.max(1, c1.ticks() - c0.ticks())));
      }
      if ((i + 1) % 25 == 0 && i + 1 < requests) System.err.printf(Locale.ROOT, "idle: %d/%d%n", i + 1, requests);
    }
    List<Run> runs = new ArrayList<>();
    for (int k = 0; k < open.size(); k++) {
      runs.add(summarise(open.get(k).name(), "idle", probes.get(k), Double.NaN, ticks.get(k), null, null));
    }
    return runs;
  }

  /** Sends one request when the node is idle and waits for its end; it must complete with a preview. */
  private Probe sequential(Transport t, String phase, int i, long requestSeed) throws Exception {
    node.awaitIdle(IDLE_WAIT);
    Probe p = new Probe(String.format(Locale.ROOT, "%s-%s-%05d", t.name(), phase, i), requestSeed, System.nanoTime());
    t.send(p);
    Outcome o = p.ended.get(HANG_GUARD.toSeconds(), TimeUnit.SECONDS);
    if (o != Outcome.COMPLETED || p.firstPreviewNs() == 0) {
      throw new IllegalStateException(t.name() + " " + phase + " request " + i + " ended " + o
          + (p.firstPreviewNs() == 0 ? " without a preview" : ""));
    }
    return p;
  }

  // ---- Open-loop load ----

  private Run underLoad(Transport t, double load) throws Exception {
    errorsShown.set(0);
    int calls = Programs.build(SamplerSpec.pc(steps), InitialModel.from(node.settings.model()).sde(),
        node.settings.coordinator()).nominalCalls();
    double rate = load * capacity / ((double) chains * calls);
    List<Long> offsets = schedule(rate, Math.round(load * 1000));
    System.err.printf(Locale.ROOT, "%s at load %s: %d requests over %.1f s (%.2f/s offered, %d chains x %d calls)%n",
        t.name(), Report.trim(load), offsets.size(), duration.toMillis() / 1000.0, rate, chains, calls);
    node.awaitIdle(IDLE_WAIT);

    List<Probe> probes = new ArrayList<>(offsets.size());
    BenchNode.Counters before = node.counters();
    long start = System.nanoTime() + 100_000_000L;
    for (int i = 0; i < offsets.size(); i++) {
      long scheduled = start + offsets.get(i);
      for (long wait = scheduled - System.nanoTime(); wait > 0; wait = scheduled - System.nanoTime()) {
        LockSupport.parkNanos(wait);
      }
      Probe p = new Probe(String.format(Locale.ROOT, "%s-%s-%05d", t.name(), Report.trim(load), i),
          seed * 1_000_003L + i, scheduled);
      probes.add(p);
      t.send(p);
    }
    long arrivalsEnd = Math.max(System.nanoTime(), start + duration.toNanos());
    System.err.printf(Locale.ROOT, "%s at load %s: arrivals done, %d running%n", t.name(), Report.trim(load),
        probes.stream().filter(p -> !p.ended.isDone()).count());
    while (probes.stream().anyMatch(p -> !p.ended.isDone()) && System.nanoTime() < arrivalsEnd + drain.toNanos()) {
      Thread.sleep(10);
    }
    // Before the cancellations below end anything.
    Run run = summarise(t.name(), Report.trim(load), probes, rate, null, before, node.counters());
    for (Probe p : probes) if (!p.ended.isDone()) p.cancel();
    for (Probe p : probes) {
      try {
        p.ended.get(IDLE_WAIT.toSeconds(), TimeUnit.SECONDS);
      } catch (Exception e) {
        // a request whose POST never came back cannot be cancelled through its transport; the node's wait below
        // still holds the next run until the node is idle
      }
    }
    node.awaitIdle(IDLE_WAIT);
    return run;
  }

  /** Poisson arrival offsets (nanoseconds after the start) over the duration; the same for every transport. */
  private List<Long> schedule(double rate, long stream) {
    SplittableRandom random = new SplittableRandom(seed * 1_000_003L + stream);
    List<Long> out = new ArrayList<>();
    double t = 0;
    while (true) {
      t += -Math.log(1 - random.nextDouble()) / rate;                      // exponential inter-arrival times
      if (t * 1e9 >= duration.toNanos()) return out;
      out.add(Math.round(t * 1e9));
    }
  }

  // ---- Results ----

  /**
   * What one transport at one load measured; latencies in microseconds. Idle: offeredRps is NaN, tick holds the
   * sampler's mean tick time while each request ran alone, nodeBefore and nodeAfter are null. Load: the samplers'
   * counters at the start of the arrivals and at the end of the drain, tick is null.
   */
  private record Run(String transport, String load, int requests, Histogram ttfp, Histogram result, int completed,
                     int rejected, int failed, int cancelled, int lost, int unfinished, double offeredRps,
                     Histogram tick, BenchNode.Counters nodeBefore, BenchNode.Counters nodeAfter) {}

  private static Run summarise(String transport, String load, List<Probe> probes, double offeredRps,
                               Histogram tick, BenchNode.Counters nodeBefore, BenchNode.Counters nodeAfter) {
    Histogram ttfp = new Histogram(4);
    Histogram result = new Histogram(4);
    int[] counts = new int[Outcome.values().length];
    int unfinished = 0;
    for (Probe p : probes) {
      if (p.firstPreviewNs() != 0) ttfp.recordValue(Report.micros(p.firstPreviewNs() - p.startNs));
      Outcome o = p.ended.getNow(null);
      if (o == null) {
        unfinished++;
        continue;
      }
      counts[o.ordinal()]++;
      if (o == Outcome.COMPLETED) result.recordValue(Report.micros(p.endedNs() - p.startNs));
    }
    return new Run(transport, load, probes.size(), ttfp, result, counts[Outcome.COMPLETED.ordinal()],
        counts[Outcome.REJECTED.ordinal()], counts[Outcome.FAILED.ordinal()], counts[Outcome.CANCELLED.ordinal()],
        counts[Outcome.LOST.ordinal()], unfinished, offeredRps, tick, nodeBefore, nodeAfter);
  }

  private void print(Run r) {
    long ttfp50 = median(r.ttfp());
    long result50 = median(r.result());
    if (r.transport().equals("inproc")) inProcessMedians.put(r.load(), new long[] {ttfp50, result50});
    long[] base = inProcessMedians.getOrDefault(r.load(), new long[] {-1, -1});
    StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
        "transport=%s load=%s requests=%d ttfp_p50_ms=%s ttfp_p99_ms=%s result_p50_ms=%s result_p99_ms=%s "
            + "ttfp_overhead_ms=%s ttfp_ratio=%s result_overhead_ms=%s result_ratio=%s completed=%d rejected=%d "
            + "failed=%d cancelled=%d lost=%d unfinished=%d",
        r.transport(), r.load(), r.requests(), ms(r.ttfp(), 50), ms(r.ttfp(), 99), ms(r.result(), 50),
        ms(r.result(), 99), overhead(ttfp50, base[0]), ratio(ttfp50, base[0]), overhead(result50, base[1]),
        ratio(result50, base[1]), r.completed(), r.rejected(), r.failed(), r.cancelled(), r.lost(), r.unfinished()));
    if (r.load().equals("idle")) {
      line.append(String.format(Locale.ROOT, " tick_p50_ms=%s warmup=%d", ms(r.tick(), 50), warmup));
    } else {
      BenchNode.Counters b = r.nodeBefore();
      BenchNode.Counters a = r.nodeAfter();
      double seconds = (a.atNanos() - b.atNanos()) / 1e9;
      line.append(String.format(Locale.ROOT, " offered_rps=%.3f capacity_chain_steps_per_s=%.0f duration_s=%.1f "
              + "run_chain_steps_per_s=%.0f run_tick_ms=%.3f run_busy_fraction=%.3f", r.offeredRps(), capacity,
          duration.toMillis() / 1000.0, (a.chainSteps() - b.chainSteps()) / seconds,
          (a.busyNanos() - b.busyNanos()) / 1e6 / Math.max(1, a.ticks() - b.ticks()),
          (a.busyNanos() - b.busyNanos()) / 1e9 / seconds));
    }
    line.append(String.format(Locale.ROOT, " chains=%d steps=%d preview_every=%d model=%s", chains, steps,
        previewEvery, model));
    System.out.println(line);
  }

  private static long median(Histogram h) {
    return h.getTotalCount() == 0 ? -1 : h.getValueAtPercentile(50);
  }

  private static String overhead(long micros, long baseMicros) {
    if (micros < 0 || baseMicros < 0) return "NaN";
    return String.format(Locale.ROOT, "%.3f", (micros - baseMicros) / 1000.0);
  }

  private static String ratio(long micros, long baseMicros) {
    if (micros < 0 || baseMicros <= 0) return "NaN";
    return String.format(Locale.ROOT, "%.3f", (double) micros / baseMicros);
  }

  private static String ms(Histogram h, double percentile) {
    return Report.ms(h, percentile, 3);
  }
}
