package io.scorestream.streams.http;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.marshalling.sse.EventStreamMarshalling;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.MediaRange;
import akka.http.javadsl.model.MediaTypes;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Accept;
import akka.http.javadsl.model.headers.HttpChallenge;
import akka.http.javadsl.model.headers.Location;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.model.headers.WWWAuthenticate;
import akka.http.javadsl.model.sse.ServerSentEvent;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.model.ws.TextMessage;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.MethodRejection;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import akka.http.scaladsl.model.EntityStreamSizeException;
import akka.stream.Materializer;
import akka.stream.OverflowStrategy;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.typed.javadsl.ActorSource;
import io.scorestream.actors.Coordinator;
import io.scorestream.actors.ErrorCode;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.ModelRegistry;
import io.scorestream.actors.RequestSession;
import io.scorestream.actors.SessionDirectory;
import io.scorestream.actors.SampleEvent;
import io.scorestream.actors.ScoreStream;
import io.scorestream.actors.ScoreStreamNode;
import io.scorestream.model.memory.NativeMemory;
import io.scorestream.protocol.json.CancelAccepted;
import io.scorestream.protocol.json.DrainAccepted;
import io.scorestream.protocol.json.ErrorBody;
import io.scorestream.protocol.json.EventJson;
import io.scorestream.protocol.json.Health;
import io.scorestream.protocol.json.Json;
import io.scorestream.protocol.json.JsonShapeException;
import io.scorestream.protocol.json.SampleAccepted;
import io.scorestream.protocol.json.SampleRequest;
import io.scorestream.protocol.json.ServerStatus;
import io.scorestream.protocol.json.SampleStatus;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The routes of the HTTP gateway (see {@link HttpGateway} for the list). Request state lives in each request's
 * {@link RequestSession}, reached by id through {@link ScoreStream}; the routes parse, validate, ask, and stream. Every error answer is an
 * {@link ErrorBody} JSON document; 4xx answers for a request's content are counted for /metrics. Built once per
 * gateway; the route it returns is safe for concurrent requests.
 */
final class HttpRoutes extends AllDirectives {
  private static final ContentType.WithFixedCharset JSON = ContentTypes.APPLICATION_JSON;

  private final ScoreStream api;
  private final HttpSettings settings;
  private final String nodeSde;
  private final ActorSystem<?> system;
  private final Materializer materializer;
  private final PrometheusMetrics metrics = new PrometheusMetrics();
  private final LongAdder badRequests = new LongAdder();
  private final byte[] tokenBytes;

  private final ConnectionStats connections;

  HttpRoutes(ScoreStream api, HttpSettings settings, String nodeSde, ConnectionStats connections) {
    this.connections = connections;
    this.api = api;
    this.settings = settings;
    this.nodeSde = nodeSde;
    this.system = api.system();
    this.materializer = Materializer.matFromSystem(system);
    this.tokenBytes = ("Bearer " + settings.bearerToken()).getBytes(StandardCharsets.UTF_8);
  }

  Route route() {
    return mapResponse(this::countBadRequest, () -> handleExceptions(exceptions(), () ->
        handleRejections(rejections(), () -> concat(
            pathSingleSlash(() -> get(() -> getFromResource("web/index.html", ContentTypes.TEXT_HTML_UTF8))),
            pathPrefix("web", () -> get(() -> getFromResourceDirectory("web"))),
            path("healthz", () -> get(this::health)),
            path("metrics", () -> authenticated(false, () -> get(this::metrics))),
            pathPrefix("v1", () -> concat(
                path("status", () -> authenticated(false, () -> get(this::status))),
                path(PathMatchers.segment("admin").slash("drain"), () -> authenticated(false, () -> post(this::drain))),
                pathPrefix("samples", () -> concat(
                    pathEnd(() -> authenticated(false, () -> post(this::submit))),
                    pathPrefix(PathMatchers.segment(), id -> concat(
                        pathEnd(() -> authenticated(false, () -> concat(
                            get(() -> sample(id)),
                            delete(() -> cancel(id))))),
                        path("events", () -> authenticated(true, () -> get(() -> events(id))))))))))))));
  }

  // ---- POST /v1/samples ----

  private Route submit() {
    return withSizeLimit(settings.maxBodyBytes(), () -> extractRequest(request -> {
      if (!request.entity().getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON)) {
        return error(StatusCodes.UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", null,
            "the body must be application/json, got " + request.entity().getContentType());
      }
      return entity(Unmarshaller.entityToString(), body -> {
        GenerateRequest r;
        String sampler;
        try {
          SampleRequest parsed = SampleRequest.parse(body);
          long seed = parsed.seed() != null ? parsed.seed() : ThreadLocalRandom.current().nextLong();
          r = SampleRequests.toGenerateRequest(parsed, UUID.randomUUID().toString(), seed, settings, api.models());
          sampler = parsed.sampler() == null ? "pc" : parsed.sampler();
        } catch (JsonShapeException e) {
          return error(StatusCodes.BAD_REQUEST, e.toBody());
        }
        CompletionStage<RequestSession.Admission> admission = api.start(r, sampler, settings.retentionTtl(),
                settings.retentionMaxFinished())
            .whenComplete((a, e) -> {
              // The client gets 503 and no id: a request admitted after all must not run unseen.
              if (e != null) api.cancel(r.requestId());
            });
        return onSuccess(admission, a -> admitted(r, a));
      });
    }));
  }

  private Route admitted(GenerateRequest r, RequestSession.Admission admission) {
    if (admission instanceof RequestSession.Admission.Admitted a) {
      String id = r.requestId();
      String status = "/v1/samples/" + id;
      SampleAccepted body = new SampleAccepted(id, r.seed(), a.accepted().chains(), a.accepted().queuePosition(),
          JsonEvents.millis(a.accepted().eta()), status, status + "/events");
      return respondWithHeader(Location.create(status), () -> json(StatusCodes.ACCEPTED, body));
    }
    SampleEvent.Rejected rejected = ((RequestSession.Admission.Refused) admission).rejected();
    String field = rejected.code() == ErrorCode.INVALID_ARGUMENT ? SampleRequests.fieldOf(rejected.message()) : null;
    // The node speaks of its own names (a deadline, not deadlineMs): lead with the JSON field's.
    String message = field == null || rejected.message().startsWith(field + " ") ? rejected.message()
        : field + ": " + rejected.message();
    ErrorBody body = new ErrorBody(rejected.code().name(), field, message);
    return switch (rejected.code()) {
      case INVALID_ARGUMENT -> error(StatusCodes.BAD_REQUEST, body);
      case OVERLOADED -> {
        Duration retry = rejected.retryAfter() == null ? Duration.ofSeconds(1) : rejected.retryAfter();
        long seconds = Math.max(1, (retry.toMillis() + 999) / 1000);
        yield respondWithHeader(RawHeader.create("Retry-After", Long.toString(seconds)),
            () -> error(StatusCodes.TOO_MANY_REQUESTS, body));
      }
      case UNAVAILABLE -> error(StatusCodes.SERVICE_UNAVAILABLE, body);
      default -> error(StatusCodes.INTERNAL_SERVER_ERROR, body);
    };
  }

  // ---- GET and DELETE /v1/samples/{id} ----

  private Route sample(String id) {
    CompletionStage<Optional<SampleStatus>> status = api.lookup(id).thenApply(s -> s.map(StatusViews::sample));
    return onSuccess(status, s -> s.isPresent() ? json(StatusCodes.OK, s.get()) : notFound(id));
  }

  private Route cancel(String id) {
    CompletionStage<RequestSession.CancelReply> reply = api.cancelRequest(id);
    return onSuccess(reply, r -> {
      if (r instanceof RequestSession.CancelReply.Cancelling c) {
        return json(StatusCodes.ACCEPTED, new CancelAccepted(c.id(), "cancelling"));
      }
      if (r instanceof RequestSession.CancelReply.AlreadyFinished f) {
        return error(StatusCodes.CONFLICT, "ALREADY_FINISHED", null,
            "request " + f.id() + " already ended: " + f.state());
      }
      return notFound(id);
    });
  }

  // ---- GET /v1/samples/{id}/events: WebSocket or server-sent events ----

  private Route events(String id) {
    return parameterOptional("preview", preview -> {
      String form = preview.orElse("float");
      if (!form.equals("float") && !form.equals(EIGHT_BIT)) {
        return error(StatusCodes.BAD_REQUEST, "INVALID_ARGUMENT", "preview",
            "preview must be float or " + EIGHT_BIT + ", got " + form);
      }
      boolean eightBit = form.equals(EIGHT_BIT);
      CompletionStage<Optional<RequestSession.Snapshot>> known = api.lookup(id);
      return onSuccess(known, s -> s.isEmpty() ? notFound(id) : sameOrigin(() -> concat(
          extractWebSocketUpgrade(upgrade -> complete(upgrade.handleMessagesWith(webSocket(id, eightBit)))),
          extractRequest(request -> acceptsEventStream(request)
              ? completeOK(serverSentEvents(id, eightBit), EventStreamMarshalling.toEventStream())
              : error(StatusCodes.NOT_ACCEPTABLE, "NOT_ACCEPTABLE", null,
                  "events are served over WebSocket (an upgrade request) or as server-sent events "
                      + "(Accept: text/event-stream)")))));
    });
  }

  /** The query value ({@code ?preview=8bit}) for previews as one byte a value ({@link EventJson.Preview#pixels}). */
  static final String EIGHT_BIT = "8bit";

  /**
   * The events of request id for one subscriber: Accepted, the latest preview, then its events, ending after the
   * terminal one. The request's session conflates this subscriber's previews while its connection is busy (beyond
   * {@code subscriber-buffer} events in flight), so a slow connection gets the latest preview and the terminal
   * event, and nothing waits for it.
   */
  private Source<SampleEvent, NotUsed> subscription(String id, String channel) {
    return api.follow(id, channel).buffer(settings.subscriberBuffer(), OverflowStrategy.backpressure());
  }

  private Flow<Message, Message, NotUsed> webSocket(String id, boolean eightBit) {
    // Incoming messages are drained and ignored: cancellation is DELETE /v1/samples/{id}.
    Sink<Message, ?> in = Sink.foreach(m -> {
      if (m.isText()) m.asTextMessage().getStreamedText().runWith(Sink.ignore(), materializer);
      else m.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), materializer);
    });
    Source<Message, NotUsed> out = subscription(id, "websocket")
        .map(e -> TextMessage.create(Json.write(JsonEvents.of(e, eightBit))));
    return Flow.fromSinkAndSourceCoupled(in, out);
  }

  private Source<ServerSentEvent, NotUsed> serverSentEvents(String id, boolean eightBit) {
    return subscription(id, "sse")
        .map(e -> {
          EventJson j = JsonEvents.of(e, eightBit);
          return ServerSentEvent.create(Json.write(j), j.type());
        })
        .keepAlive(settings.streamKeepAlive(), ServerSentEvent::heartbeat);
  }

  private static boolean acceptsEventStream(HttpRequest request) {
    Optional<Accept> accept = request.getHeader(Accept.class);
    if (accept.isEmpty()) return true;
    for (MediaRange range : accept.get().getMediaRanges()) {
      if (range.matches(MediaTypes.TEXT_EVENT_STREAM)) return true;
    }
    return false;
  }

  /**
   * Browsers let any page open a WebSocket to any host; refuse pages from other origins than this gateway's own
   * (and the configured allowed-origins), so a foreign page cannot read a local node's events.
   */
  private Route sameOrigin(Supplier<Route> inner) {
    return optionalHeaderValueByName("Origin", origin -> optionalHeaderValueByName("Host", host -> {
      if (origin.isEmpty() || settings.allowedOrigins().contains("*")
          || settings.allowedOrigins().contains(origin.get())
          || host.isPresent() && (origin.get().equals("http://" + host.get())
              || origin.get().equals("https://" + host.get()))) {
        return inner.get();
      }
      return error(StatusCodes.FORBIDDEN, "FORBIDDEN", null, "origin " + origin.get() + " may not read events "
          + "(add it to scorestream.http.allowed-origins)");
    }));
  }

  // ---- POST /v1/admin/drain ----

  private Route drain() {
    if (!api.clustered()) {
      return error(StatusCodes.CONFLICT, "NOT_CLUSTERED", null,
          "this node is not a cluster member: its chains have nowhere to move (serve --cluster)");
    }
    return onSuccess(api.drainSamplers(), n -> json(StatusCodes.OK,
        new DrainAccepted(io.scorestream.actors.NodeRoles.address(system), n, "drained")));
  }

  // ---- GET /v1/status, /healthz, /metrics ----

  private Route status() {
    return onSuccess(snapshot().thenCombine(servedModels(), (n, models) -> StatusViews.serverStatus(n.status(),
            n.versions(), api.latencies(), n.counts(), nodeSde, api.shape(), api.classes(), models)),
        status -> json(StatusCodes.OK, status));
  }

  private Route health() {
    CompletionStage<HttpResponse> response = api.status().handle((s, e) -> {
      int alive = s == null ? 0 : (int) s.samplers().stream().filter(v -> v.alive()).count();
      boolean ok = e == null && alive > 0;
      return jsonResponse(ok ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE,
          new Health(ok ? "ok" : "unavailable", alive));
    });
    return completeWithFuture(response);
  }

  private Route metrics() {
    return onSuccess(snapshot(), n -> {
      String text = metrics.render(new PrometheusMetrics.Inputs(n.status(), n.versions().current(), api.latencies(),
          n.counts(), badRequests.sum(), connections.snapshot(), NativeMemory.snapshot()), System.nanoTime());
      return complete(HttpResponse.create().withEntity(HttpEntities.create(
          ContentTypes.parse(PrometheusMetrics.CONTENT_TYPE), text.getBytes(StandardCharsets.UTF_8))));
    });
  }

  /** The node's status, its model versions and its session directory's counts, asked for together. */
  private record NodeSnapshot(Coordinator.NodeStatus status, ModelRegistry.Versions versions,
                              SessionDirectory.Counts counts) {}

  private CompletionStage<NodeSnapshot> snapshot() {
    CompletionStage<SessionDirectory.Counts> counts = api.sessions();
    CompletionStage<ModelRegistry.Versions> versions = api.versions();
    return api.status().thenCompose(s -> versions.thenCombine(counts, (v, c) -> new NodeSnapshot(s, v, c)));
  }

  /** Every served model's entry of the status, asked of its coordinator and registry. */
  private CompletionStage<List<ServerStatus.Served>> servedModels() {
    CompletableFuture<List<ServerStatus.Served>> all = CompletableFuture.completedFuture(new ArrayList<>());
    for (ScoreStreamNode.ServedModel m : api.models()) {
      CompletionStage<ServerStatus.Served> one = api.status(m.name())
          .thenCombine(api.versions(m.name()), (s, v) -> StatusViews.served(m, s, v));
      all = all.thenCombine(one, (list, e) -> {
        list.add(e);
        return list;
      });
    }
    return all.thenApply(List::copyOf);
  }

  // ---- Authentication, errors ----

  /**
   * When a bearer token is configured: the request must carry {@code Authorization: Bearer TOKEN}, or, where
   * queryAllowed (the event streams, which browsers open without custom headers), {@code ?access_token=TOKEN}.
   */
  private Route authenticated(boolean queryAllowed, Supplier<Route> inner) {
    if (!settings.authenticated()) return inner.get();
    return optionalHeaderValueByName("Authorization", header -> parameterOptional("access_token", query -> {
      boolean ok = header.isPresent() && constantTimeEquals(header.get().getBytes(StandardCharsets.UTF_8), tokenBytes)
          || queryAllowed && query.isPresent() && constantTimeEquals(
              ("Bearer " + query.get()).getBytes(StandardCharsets.UTF_8), tokenBytes);
      if (ok) return inner.get();
      return respondWithHeader(WWWAuthenticate.create(HttpChallenge.createOAuth2("scorestream")),
          () -> error(StatusCodes.UNAUTHORIZED, "UNAUTHORIZED", null, header.isPresent() || query.isPresent()
              ? "the bearer token is wrong" : "this route needs Authorization: Bearer <token>"));
    }));
  }

  private static boolean constantTimeEquals(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }

  private ExceptionHandler exceptions() {
    return ExceptionHandler.newBuilder()
        .match(EntityStreamSizeException.class, e -> error(StatusCodes.PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", null,
            "the body exceeds max-body-bytes (" + settings.maxBodyBytes() + " bytes)"))
        .match(TimeoutException.class, e -> error(StatusCodes.SERVICE_UNAVAILABLE, "UNAVAILABLE", null,
            "the node did not answer within " + settings.askTimeout()))
        .matchAny(e -> {
          Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
              ? e.getCause() : e;
          if (cause instanceof EntityStreamSizeException) {
            return error(StatusCodes.PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", null,
                "the body exceeds max-body-bytes (" + settings.maxBodyBytes() + " bytes)");
          }
          if (cause instanceof TimeoutException) {
            return error(StatusCodes.SERVICE_UNAVAILABLE, "UNAVAILABLE", null,
                "the node did not answer within " + settings.askTimeout());
          }
          system.log().error("HTTP route failed", cause);
          return error(StatusCodes.INTERNAL_SERVER_ERROR, "INTERNAL", null, "internal error: " + cause);
        })
        .build();
  }

  private RejectionHandler rejections() {
    return RejectionHandler.newBuilder()
        .handleAll(MethodRejection.class, rs -> error(StatusCodes.METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", null,
            "use " + rs.stream().map(r -> r.supported().name()).distinct().collect(Collectors.joining(" or "))))
        .handleNotFound(error(StatusCodes.NOT_FOUND, "NOT_FOUND", null, "no such route"))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(r -> r.entity().getContentType().equals(JSON) ? r
            : jsonResponse(r.status(), new ErrorBody(code(r.status()), null, strictText(r))));
  }

  private static String code(StatusCode status) {
    return status.reason().toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]+", "_");
  }

  private static String strictText(HttpResponse r) {
    return r.entity() instanceof akka.http.javadsl.model.HttpEntity.Strict s
        ? s.getData().utf8String() : r.status().reason();
  }

  private HttpResponse countBadRequest(HttpResponse r) {
    int s = r.status().intValue();
    if (s == 400 || s == 401 || s == 403 || s == 413 || s == 415) badRequests.increment();
    return r;
  }

  private Route notFound(String id) {
    return error(StatusCodes.NOT_FOUND, "NOT_FOUND", null, "no request '" + id + "' (unknown, or finished and "
        + "forgotten after the retention)");
  }

  private Route error(StatusCode status, String code, String field, String message) {
    return error(status, new ErrorBody(code, field, message));
  }

  private Route error(StatusCode status, ErrorBody body) {
    return json(status, body);
  }

  private Route json(StatusCode status, Object body) {
    return complete(jsonResponse(status, body));
  }

  private static HttpResponse jsonResponse(StatusCode status, Object body) {
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(JSON, Json.writeBytes(body)));
  }

  /** For tests and the gateway: the counter of 4xx answers for content, size or credentials. */
  long badRequests() {
    return badRequests.sum();
  }
}
