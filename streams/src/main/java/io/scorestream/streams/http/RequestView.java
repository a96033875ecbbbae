package io.scorestream.streams.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.stream.typed.javadsl.ActorSink;
import io.scorestream.actors.ErrorCode;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.Result;
import io.scorestream.actors.SampleEvent;
import io.scorestream.actors.ScoreStream;
import io.scorestream.protocol.json.SampleStatus;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The HTTP gateway's view of one request: it runs the request's event stream ({@link ScoreStream#submit}) into
 * itself with backpressure (one event at a time, acknowledged at once, so the node's own conflation of previews is
 * what bounds the work here), keeps the request's state (admission, latest preview, terminal event, delivery
 * counts) for status reads and late subscribers, and fans each event out to its subscribers. A subscriber is the
 * actor end of a bounded drop-oldest buffer ({@link HttpRoutes}): a slow WebSocket or SSE client loses stale previews
 * and never slows the sampler or its fellow subscribers; the terminal event is the last one sent, so it is never the
 * one dropped. After its terminal event the view stays readable for the retention TTL (or until the
 * {@link RequestBoard} evicts it) and then stops. State is confined to the actor.
 */
final class RequestView extends AbstractBehavior<RequestView.Command> {

  sealed interface Command
      permits Get, Subscribe, Unsubscribe, Delivered, Cancel, StreamStarted, Event, StreamCompleted, StreamFailed,
          Expire {}

  /** Reads the request's status; the reply is never empty (the board answers empty for unknown ids). */
  record Get(ActorRef<Optional<SampleStatus>> replyTo) implements Command {}

  /** Adds a subscriber; it is sent the current state first (accepted, latest preview, terminal event). */
  record Subscribe(ActorRef<Outbound> subscriber, Transport transport) implements Command {}

  /** A subscriber's stream ended (its client went away, or it took the terminal event). */
  record Unsubscribe(ActorRef<Outbound> subscriber) implements Command {}

  /** A subscriber's stream handed a preview to its connection. */
  record Delivered(Transport transport) implements Command {}

  /** Cancels the request at the node; its stream then ends with Cancelled. */
  record Cancel(ActorRef<CancelReply> replyTo) implements Command {}

  private record StreamStarted(ActorRef<Ack> ackTo) implements Command {}

  private record Event(SampleEvent event, ActorRef<Ack> ackTo) implements Command {}

  private enum StreamCompleted implements Command { INSTANCE }

  private record StreamFailed(Throwable cause) implements Command {}

  private enum Expire implements Command { INSTANCE }

  /** The acknowledgement that pulls the next event of the request's stream. */
  enum Ack { INSTANCE }

  /** How a subscriber is connected. */
  enum Transport { WEBSOCKET, SSE }

  /** What a subscriber's buffer receives: an event, or word that the request is unknown (the stream ends empty). */
  sealed interface Outbound permits Deliver, Gone {}

  record Deliver(SampleEvent event) implements Outbound {}

  enum Gone implements Outbound { INSTANCE }

  /** The answer to the submitter: the node admitted the request, or refused it (then the view is gone). */
  sealed interface Admission permits Admitted, Refused {}

  record Admitted(SampleEvent.Accepted accepted) implements Admission {}

  record Refused(SampleEvent.Rejected rejected) implements Admission {}

  /** The answer to a cancellation. */
  sealed interface CancelReply permits Cancelling, AlreadyFinished, NotFound {}

  record Cancelling(String id) implements CancelReply {}

  record AlreadyFinished(String id, String state) implements CancelReply {}

  enum NotFound implements CancelReply { INSTANCE }

  /**
   * @param request   the request, with its id and seed set
   * @param sampler   the sampler kind it asked for, for status
   * @param admission gets the first event's verdict
   * @param finished  told the request's id once its terminal event arrived
   */
  static Behavior<Command> create(ScoreStream api, GenerateRequest request, String sampler, Duration retentionTtl,
                                  ActorRef<Admission> admission, ActorRef<String> finished) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new RequestView(ctx, timers, api, request, sampler, retentionTtl, admission, finished)));
  }

  private final TimerScheduler<Command> timers;
  private final ScoreStream api;
  private final GenerateRequest request;
  private final String sampler;
  private final Duration retentionTtl;
  private final ActorRef<String> finished;
  private ActorRef<Admission> admission;
  private final Map<ActorRef<Outbound>, Transport> subscribers = new LinkedHashMap<>();
  private SampleEvent.Accepted accepted;
  private SampleEvent.Preview latest;
  private SampleEvent terminal;
  private long previews;
  private long websocketPreviews;
  private long ssePreviews;

  private RequestView(ActorContext<Command> ctx, TimerScheduler<Command> timers, ScoreStream api,
                      GenerateRequest request, String sampler, Duration retentionTtl, ActorRef<Admission> admission,
                      ActorRef<String> finished) {
    super(ctx);
    this.timers = timers;
    this.api = api;
    this.request = request;
    this.sampler = sampler;
    this.retentionTtl = retentionTtl;
    this.admission = admission;
    this.finished = finished;
    ActorRef<Command> self = ctx.getSelf();
    api.submit(request).runWith(ActorSink.<SampleEvent, Command, Ack>actorRefWithBackpressure(self,
        (ackTo, e) -> new Event(e, ackTo), StreamStarted::new, Ack.INSTANCE, StreamCompleted.INSTANCE,
        StreamFailed::new), ctx.getSystem());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(StreamStarted.class, this::onStreamStarted)
        .onMessage(Event.class, this::onEvent)
        .onMessageEquals(StreamCompleted.INSTANCE, this::onStreamCompleted)
        .onMessage(StreamFailed.class, this::onStreamFailed)
        .onMessage(Get.class, this::onGet)
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(Unsubscribe.class, this::onUnsubscribe)
        .onMessage(Delivered.class, this::onDelivered)
        .onMessage(Cancel.class, this::onCancel)
        .onMessageEquals(Expire.INSTANCE, Behaviors::stopped)
        .build();
  }

  private Behavior<Command> onStreamStarted(StreamStarted s) {
    s.ackTo().tell(Ack.INSTANCE);
    return this;
  }

  private Behavior<Command> onEvent(Event m) {
    SampleEvent e = m.event();
    if (e instanceof SampleEvent.Rejected r) {
      admit(new Refused(r));
      return Behaviors.stopped();
    }
    if (terminal != null) {
      // Nothing follows a terminal event; an event after one would be a node bug, not a client's concern.
      m.ackTo().tell(Ack.INSTANCE);
      return this;
    }
    if (e instanceof SampleEvent.Accepted a) {
      accepted = a;
      admit(new Admitted(a));
    } else if (e instanceof SampleEvent.Preview p) {
      latest = p;
      previews++;
    }
    publish(e);
    m.ackTo().tell(Ack.INSTANCE);
    return this;
  }

  private Behavior<Command> onStreamCompleted() {
    if (admission != null) {
      admit(new Refused(new SampleEvent.Rejected(request.requestId(), ErrorCode.UNAVAILABLE,
          "the node's event stream ended before admission", null)));
      return Behaviors.stopped();
    }
    if (terminal == null) {
      end(new SampleEvent.Failed(request.requestId(), ErrorCode.INTERNAL,
          "the node's event stream ended without a terminal event"));
    }
    return this;
  }

  private Behavior<Command> onStreamFailed(StreamFailed f) {
    String why = "the node's event stream failed: " + f.cause();
    if (admission != null) {
      admit(new Refused(new SampleEvent.Rejected(request.requestId(), ErrorCode.UNAVAILABLE, why, null)));
      return Behaviors.stopped();
    }
    if (terminal == null) end(new SampleEvent.Failed(request.requestId(), ErrorCode.INTERNAL, why));
    return this;
  }

  private void admit(Admission a) {
    if (admission != null) {
      admission.tell(a);
      admission = null;
    }
  }

  private void publish(SampleEvent e) {
    if (e.terminal()) {
      end(e);
      return;
    }
    Deliver d = new Deliver(e);
    subscribers.keySet().forEach(s -> s.tell(d));
  }

  /** Records the terminal event, hands it to every subscriber (their streams end with it) and starts the TTL. */
  private void end(SampleEvent e) {
    terminal = e;
    Deliver d = new Deliver(e);
    subscribers.keySet().forEach(s -> s.tell(d));
    finished.tell(request.requestId());
    timers.startSingleTimer(Expire.INSTANCE, retentionTtl);
  }

  private Behavior<Command> onSubscribe(Subscribe s) {
    if (accepted != null) s.subscriber().tell(new Deliver(accepted));
    // The latest preview even after completion: a late subscriber sees the request's last picture of the
    // denoising, then its result.
    if (latest != null) s.subscriber().tell(new Deliver(latest));
    if (terminal != null) {
      s.subscriber().tell(new Deliver(terminal));
    } else {
      subscribers.put(s.subscriber(), s.transport());
    }
    return this;
  }

  private Behavior<Command> onUnsubscribe(Unsubscribe u) {
    subscribers.remove(u.subscriber());
    return this;
  }

  private Behavior<Command> onDelivered(Delivered d) {
    if (d.transport() == Transport.WEBSOCKET) websocketPreviews++;
    else ssePreviews++;
    return this;
  }

  private Behavior<Command> onCancel(Cancel c) {
    if (terminal != null) {
      c.replyTo().tell(new AlreadyFinished(request.requestId(), state()));
    } else {
      api.cancel(request.requestId());
      c.replyTo().tell(new Cancelling(request.requestId()));
    }
    return this;
  }

  private Behavior<Command> onGet(Get g) {
    g.replyTo().tell(Optional.of(status()));
    return this;
  }

  private String state() {
    if (terminal == null) return "running";
    if (terminal instanceof SampleEvent.Completed) return "completed";
    if (terminal instanceof SampleEvent.Cancelled) return "cancelled";
    return "failed";
  }

  private SampleStatus status() {
    Integer dim = latest == null ? null : latest.dim();
    double[][] samples = null;
    java.util.List<Long> versions = null;
    Long calls = null;
    Double latencyMs = null;
    String error = null;
    String message = null;
    if (terminal instanceof SampleEvent.Completed c) {
      Result r = c.result();
      dim = r.dim();
      samples = r.rows();
      versions = r.modelVersions();
      calls = r.networkCalls();
      latencyMs = r.latency().toNanos() / 1e6;
    } else if (terminal instanceof SampleEvent.Failed f) {
      error = f.code().name();
      message = f.message();
    } else if (terminal instanceof SampleEvent.Cancelled c) {
      error = ErrorCode.CANCELLED.name();
      message = c.reason();
    }
    return new SampleStatus(request.requestId(), state(), request.seed(), request.count(), sampler,
        accepted == null ? 0 : accepted.queuePosition(), accepted == null ? 0 : JsonEvents.millis(accepted.eta()),
        latest == null ? 0 : latest.step(), latest == null ? 0 : latest.totalSteps(), previews, websocketPreviews,
        ssePreviews, dim, samples, versions, calls, latencyMs, error, message);
  }
}
