package io.scorestream.streams.http;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.AskPattern;
import akka.NotUsed;
import akka.actor.typed.javadsl.Adapter;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.settings.ServerSettings;
import akka.stream.KillSwitches;
import akka.stream.Materializer;
import akka.stream.SharedKillSwitch;
import akka.stream.TLSProtocol.SslTlsInbound;
import akka.stream.TLSProtocol.SslTlsOutbound;
import akka.stream.javadsl.BidiFlow;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.TLSPlacebo;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import io.scorestream.actors.ScoreStream;
import io.scorestream.protocol.json.SampleStatus;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The HTTP gateway of a node: Akka HTTP in the node's actor system, in front of the in-process {@link ScoreStream}
 * API. Routes (JSON shapes in {@code io.scorestream.protocol.json}; every error is an {@code ErrorBody}):
 * <ul>
 *   <li>{@code POST /v1/samples} ({@code SampleRequest}) -> 202 {@code SampleAccepted} with a Location header;
 *       400 naming the field; 413 past max-body-bytes; 415 unless application/json; 429 OVERLOADED with
 *       Retry-After (seconds); 503 when no sampler runs. The request runs in its session ({@code RequestSession}),
 *       which keeps its state for {@code retention.ttl} after its end, so its events and result can be read after
 *       the POST, through this member or (in a cluster) any other.</li>
 *   <li>{@code GET /v1/samples/{id}/events}: WebSocket (upgrade) or server-sent events (Accept:
 *       text/event-stream), one {@code EventJson} per message: the state so far, then previews (conflated per
 *       subscriber: a slow one gets the latest and never slows the sampler), then the terminal event; then the
 *       stream closes.</li>
 *   <li>{@code GET /v1/samples/{id}} -> {@code SampleStatus} (with the samples once completed);
 *       {@code DELETE /v1/samples/{id}} -> 202 {@code CancelAccepted} (the stream ends cancelled), 409 when it
 *       already ended, 404 when unknown.</li>
 *   <li>{@code POST /v1/admin/drain} (cluster members) -> 200 {@code DrainAccepted} once this member's samplers
 *       have handed their chains, with their states, to the other members' samplers and take no more (stop the
 *       member next); 409 NOT_CLUSTERED on a lone node.</li>
 *   <li>{@code GET /v1/status} -> {@code ServerStatus}; {@code GET /healthz} -> {@code Health} (200 or 503);
 *       {@code GET /metrics} -> Prometheus text ({@link PrometheusMetrics}).</li>
 *   <li>{@code GET /} -> the live page (static files under {@code web/} on the class path, also at
 *       {@code /web/*}).</li>
 * </ul>
 * When a bearer token is configured, /v1 routes and /metrics need {@code Authorization: Bearer TOKEN} (the event
 * streams also accept {@code ?access_token=TOKEN}, since browsers cannot add headers to a WebSocket or
 * EventSource); / , /web and /healthz stay open so that a load balancer can probe and a person can load the page.
 *
 * <p>Flood protection ({@link #start}): {@code max-connections}, {@code header-timeout} and {@code idle-timeout}.
 *
 * <p>Thread-safe. {@link #close} unbinds, ends open connections and stops the gateway's actors; it does not stop
 * the node.
 */
public final class HttpGateway implements AutoCloseable {
  private static final AtomicLong GATEWAYS = new AtomicLong();
  /** How long {@link #close} lets open requests finish before their connections are cut. */
  private static final Duration CLOSE_GRACE = Duration.ofSeconds(3);

  /** What a connection past max-connections gets before it is closed. */
  private static final ByteString BUSY = busy();

  private static ByteString busy() {
    String body = "{\"error\":\"UNAVAILABLE\",\"field\":null,\"message\":\"too many open connections; retry shortly\"}";
    return ByteString.fromString("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        + "Retry-After: 1\r\nConnection: close\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
  }

  private final ScoreStream api;
  private final HttpSettings settings;
  private final Tcp.ServerBinding binding;
  private final SharedKillSwitch connections;
  private final ConnectionStats stats;

  private HttpGateway(ScoreStream api, HttpSettings settings, Tcp.ServerBinding binding,
                      SharedKillSwitch connections, ConnectionStats stats) {
    this.api = api;
    this.settings = settings;
    this.binding = binding;
    this.connections = connections;
    this.stats = stats;
  }

  /**
   * Binds the gateway in api's actor system. A request's {@code sde}, when it names one, must be the node's
   * ({@link ScoreStream#sde()}).
   *
   * <p>The gateway binds TCP itself and runs Akka HTTP's server layer on each connection, so that it can protect
   * itself from connection floods: past {@code max-connections} a new connection is answered 503 and closed at
   * once (not left in the accept queue, where a flood would starve every client); a connection must complete its
   * first request's header within {@code header-timeout} ({@link FirstHeaderDeadline}); and any connection idle
   * for {@code idle-timeout} is closed.
   *
   * @return completes once bound (failed if the port is taken or the interface does not exist)
   */
  public static CompletionStage<HttpGateway> start(ScoreStream api, HttpSettings settings) {
    String nodeSde = api.sde().kind().name().toLowerCase(Locale.ROOT);
    ActorSystem<?> system = api.system();
    long id = GATEWAYS.incrementAndGet();
    ConnectionStats stats = new ConnectionStats();
    HttpRoutes routes = new HttpRoutes(api, settings, nodeSde, stats);
    // WebSocket pings on idle event streams (a queued request may be silent for long), so neither the server's
    // idle timeout nor a proxy closes them.
    ServerSettings server = ServerSettings.create(Adapter.toClassic(system));
    server = server.withWebsocketSettings(server.getWebsocketSettings().withPeriodicKeepAliveMaxIdle(scala(
            settings.streamKeepAlive())))
        .withTimeouts(server.getTimeouts().withIdleTimeout(scala(settings.idleTimeout())));
    Flow<HttpRequest, HttpResponse, NotUsed> handler = routes.route().flow(system);
    @SuppressWarnings({"unchecked", "rawtypes"})
    BidiFlow<SslTlsOutbound, ByteString, ByteString, SslTlsInbound, NotUsed> plain =
        (BidiFlow) TLSPlacebo.getInstance();
    ServerSettings serverSettings = server;
    SharedKillSwitch kill = KillSwitches.shared("http-gateway-" + id);
    Materializer mat = Materializer.matFromSystem(system);
    return Tcp.get(system).bind(settings.bindInterface(), settings.port(), 1024, List.of(), false,
            Optional.of(settings.idleTimeout()))
        .to(Sink.foreach(connection -> {
          if (!stats.tryOpen(settings.maxConnections())) {
            connection.handleWith(Flow.fromSinkAndSourceCoupled(Sink.ignore(), Source.single(BUSY)), mat);
            return;
          }
          Flow<ByteString, ByteString, NotUsed> http = handler.join(Http.get(system)
              .serverLayer(serverSettings, Optional.of(connection.remoteAddress()), system.classicSystem().log())
              .atop(plain));
          connection.handleWith(Flow.<ByteString>create()
              .via(new FirstHeaderDeadline(settings.headerTimeout(), stats::headerTimeout))
              .via(http)
              .via(kill.flow())
              .watchTermination((m, done) -> {
                done.whenComplete((d, e) -> stats.closed());
                return m;
              }), mat);
        }))
        .run(mat)
        .thenApply(b -> new HttpGateway(api, settings, b, kill, stats));
  }

  private static scala.concurrent.duration.FiniteDuration scala(Duration d) {
    return scala.concurrent.duration.Duration.fromNanos(d.toNanos());
  }

  /** Open connections now. */
  public int openConnections() {
    return stats.open();
  }

  /** The bound port (the chosen one when the settings said 0). */
  public int port() {
    return binding.localAddress().getPort();
  }

  /** The bound address. */
  public InetSocketAddress address() {
    return binding.localAddress();
  }

  /** The base URL, e.g. {@code http://127.0.0.1:8080}. */
  public String baseUrl() {
    InetSocketAddress a = address();
    String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
    if (host.contains(":")) host = "[" + host + "]";
    return "http://" + host + ":" + a.getPort();
  }

  public HttpSettings settings() {
    return settings;
  }

  /** What the gateway knows of request id (the body of {@code GET /v1/samples/{id}}); empty when unknown. */
  public CompletionStage<Optional<SampleStatus>> sampleStatus(String id) {
    return api.lookup(id).thenApply(s -> s.map(StatusViews::sample));
  }

  /**
   * Unbinds, gives open connections a short grace and cuts the rest (their event streams end); requests started
   * through this gateway run on in their sessions, which belong to the node.
   */
  public CompletionStage<Done> stop() {
    return binding.unbind().thenCompose(u -> awaitDrained(System.nanoTime() + CLOSE_GRACE.toNanos()))
        .thenApply(d -> {
          connections.shutdown();
          return Done.getInstance();
        });
  }

  /** Completes once no connection is open or at the deadline (System.nanoTime()), whichever comes first. */
  private CompletionStage<Done> awaitDrained(long deadlineNanos) {
    if (stats.open() == 0 || System.nanoTime() >= deadlineNanos) return CompletableFuture.completedFuture(Done.done());
    return akka.pattern.Patterns.after(Duration.ofMillis(50), api.system().classicSystem().scheduler(),
        api.system().executionContext(), () -> awaitDrained(deadlineNanos));
  }

  @Override
  public void close() {
    try {
      stop().toCompletableFuture().get(CLOSE_GRACE.toMillis() * 2, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      api.system().log().warn("HTTP gateway did not stop cleanly: {}", e.toString());
    }
  }
}
