package io.scorestream.streams.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.EntityContext;
import akka.cluster.sharding.typed.javadsl.EntityRef;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.stream.typed.javadsl.ActorSink;
import io.scorestream.actors.ClusterMessage;
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
 * The HTTP gateway's view of one request, keyed by its id: it runs the request's event stream ({@link ScoreStream#submit}) into
 * itself with backpressure (one event at a time, acknowledged at once, so the node's own conflation of previews is
 * what bounds the work here), keeps the request's state (admission, latest preview, terminal event, delivery
 * counts) for status reads and late subscribers, and fans each event out to its subscribers. A subscriber is the
 * actor end of a bounded drop-oldest buffer ({@link HttpRoutes}): a slow WebSocket or SSE client loses stale previews
 * and never slows the sampler or its fellow subscribers; the terminal event is the last one sent, so it is never the
 * one dropped. After its terminal event the view stays readable for the retention TTL (or until the
 * {@link RequestBoard} evicts it) and then stops. State is confined to the actor.
 *
 * <p>In a cluster the views are entities of Cluster Sharding ({@link #TYPE_KEY}, on the gateway members): a request
 * posted to any member's gateway lives in one view on one gateway member (its node runs the request), and every
 * member's gateway reads, follows and cancels it through that view. Messages that may cross members are
 * {@link ClusterMessage}s. A view whose member leaves fails its running request with UNAVAILABLE (nothing moves a
 * running request's session between members); a member's board tells its own subscribers of a view that was lost
 * with its member ({@link Hosted}).
 */
final class RequestView extends AbstractBehavior<RequestView.Command> {

  sealed interface Command
      permits Start, Get, Subscribe, Unsubscribe, Delivered, Cancel, Evict, HandOff, StreamStarted, Event,
          StreamCompleted, StreamFailed, Expire {}

  /** The sharding entity type of the views (cluster mode); the entity id is the request id. */
  static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "scorestream-request");

  /**
   * Runs the request (its id and seed set) on this view's node; admission gets the verdict, finished the request's
   * id once it ends (refused included). Sent once, by the board of the gateway that took the POST.
   *
   * @param sampler the sampler kind it asked for, for status
   * @param watcher in a cluster, the board, told which actor hosts the view (null on a lone node)
   */
  record Start(GenerateRequest request, String sampler, ActorRef<Admission> admission, ActorRef<Finished> finished,
               ActorRef<Hosted> watcher) implements Command, ClusterMessage {}

  /** Reads the request's status (empty for an id no gateway started, or one forgotten). */
  record Get(ActorRef<Status> replyTo) implements Command, ClusterMessage {}

  /**
   * Adds a subscriber; it is sent the current state first (accepted, latest preview, terminal event). In a cluster
   * the subscribing board (watcher, or null) is told which actor hosts the view ({@link Hosted}).
   */
  record Subscribe(ActorRef<Outbound> subscriber, Transport transport, ActorRef<Hosted> watcher)
      implements Command, ClusterMessage {
    Subscribe(ActorRef<Outbound> subscriber, Transport transport) {
      this(subscriber, transport, null);
    }
  }

  /** A subscriber's stream ended (its client went away, or it took the terminal event). */
  record Unsubscribe(ActorRef<Outbound> subscriber) implements Command, ClusterMessage {}

  /** A subscriber's stream handed a preview to its connection. */
  record Delivered(Transport transport) implements Command, ClusterMessage {}

  /** Cancels the request at the node; its stream then ends with Cancelled. */
  record Cancel(ActorRef<CancelReply> replyTo) implements Command, ClusterMessage {}

  /** The board that started the request forgets it (retention.max-finished): the view stops if it has finished. */
  enum Evict implements Command, ClusterMessage { INSTANCE }

  /**
   * Stop (sharding's stop message: the view's member is leaving, or the view passivates): a running request is
   * cancelled and its subscribers get Failed UNAVAILABLE.
   */
  enum HandOff implements Command { INSTANCE }

  /** The answer to a status read: the request's status, or null when the id is unknown. */
  record Status(SampleStatus status) implements ClusterMessage {
    Optional<SampleStatus> optional() {
      return Optional.ofNullable(status);
    }
  }

  /** The request of this id has ended (told to the board that started it). */
  record Finished(String id) implements ClusterMessage {}

  /** The actor hosting the view of request id (cluster mode), for the subscribing board to watch. */
  record Hosted(String id, ActorRef<Command> view) implements ClusterMessage {}

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
  sealed interface Outbound extends ClusterMessage permits Deliver, Gone {}

  record Deliver(SampleEvent event) implements Outbound {}

  enum Gone implements Outbound { INSTANCE }

  /** The answer to the submitter: the node admitted the request, or refused it (then the view is gone). */
  sealed interface Admission extends ClusterMessage permits Admitted, Refused {}

  record Admitted(SampleEvent.Accepted accepted) implements Admission {}

  record Refused(SampleEvent.Rejected rejected) implements Admission {}

  /** The answer to a cancellation. */
  sealed interface CancelReply extends ClusterMessage permits Cancelling, AlreadyFinished, NotFound {}

  record Cancelling(String id) implements CancelReply {}

  record AlreadyFinished(String id, String state) implements CancelReply {}

  enum NotFound implements CancelReply { INSTANCE }

  /** A view of one node's gateway (not sharded) that runs start at once. */
  static Behavior<Command> create(ScoreStream api, Start start, Duration retentionTtl) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RequestView(ctx, timers, api, start,
        retentionTtl, null)));
  }

  /**
   * The sharded view of request id: before a {@link Start} it answers for an unknown id (empty status, Gone, not
   * found) and passivates; a Start runs the request.
   */
  static Behavior<Command> entity(EntityContext<Command> entity, ScoreStream api, Duration retentionTtl) {
    ActorRef<ClusterSharding.ShardCommand> shard = entity.getShard();
    EntityRef<Command> again = ClusterSharding.get(api.system()).entityRefFor(TYPE_KEY, entity.getEntityId());
    return Behaviors.setup(ctx -> Behaviors.receive(Command.class)
        .onMessage(Start.class, start -> Behaviors.withTimers(timers ->
            new RequestView(ctx, timers, api, start, retentionTtl, shard)))
        .onMessage(Get.class, g -> {
          g.replyTo().tell(new Status(null));
          return stopping(ctx, shard, again);
        })
        .onMessage(Subscribe.class, sub -> {
          sub.subscriber().tell(Gone.INSTANCE);
          return stopping(ctx, shard, again);
        })
        .onMessage(Cancel.class, c -> {
          c.replyTo().tell(NotFound.INSTANCE);
          return stopping(ctx, shard, again);
        })
        .onMessageEquals(HandOff.INSTANCE, Behaviors::stopped)
        .onAnyMessage(m -> stopping(ctx, shard, again))
        .build());
  }

  /**
   * Asks the shard to stop this unstarted entity, then sends what still reaches it back through sharding (the shard
   * keeps it for a fresh entity), so that a Start racing an unknown-id read is not lost.
   */
  private static Behavior<Command> stopping(ActorContext<Command> ctx, ActorRef<ClusterSharding.ShardCommand> shard,
                                            EntityRef<Command> again) {
    shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
    return Behaviors.receive(Command.class)
        .onMessageEquals(HandOff.INSTANCE, Behaviors::stopped)
        .onAnyMessage(m -> {
          again.tell(m);
          return Behaviors.same();
        })
        .build();
  }

  /** Asks the shard to stop this entity (messages meanwhile are kept for a new one); stops at once if not sharded. */
  private static Behavior<Command> passivate(ActorContext<Command> ctx, ActorRef<ClusterSharding.ShardCommand> shard) {
    if (shard == null) return Behaviors.stopped();
    shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
    return Behaviors.same();
  }

  private final TimerScheduler<Command> timers;
  private final ScoreStream api;
  private final GenerateRequest request;
  private final String sampler;
  private final Duration retentionTtl;
  private final ActorRef<Finished> finished;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private ActorRef<Admission> admission;
  private final Map<ActorRef<Outbound>, Transport> subscribers = new LinkedHashMap<>();
  private SampleEvent.Accepted accepted;
  private SampleEvent.Preview latest;
  private SampleEvent terminal;
  private long previews;
  private long websocketPreviews;
  private long ssePreviews;

  private RequestView(ActorContext<Command> ctx, TimerScheduler<Command> timers, ScoreStream api, Start start,
                      Duration retentionTtl, ActorRef<ClusterSharding.ShardCommand> shard) {
    super(ctx);
    this.timers = timers;
    this.api = api;
    this.request = start.request();
    this.sampler = start.sampler();
    this.retentionTtl = retentionTtl;
    this.admission = start.admission();
    this.finished = start.finished();
    this.shard = shard;
    if (start.watcher() != null) start.watcher().tell(new Hosted(request.requestId(), ctx.getSelf()));
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
        .onMessage(Start.class, this::onStartAgain)
        .onMessageEquals(Expire.INSTANCE, () -> passivate(getContext(), shard))
        .onMessageEquals(Evict.INSTANCE, this::onEvict)
        .onMessageEquals(HandOff.INSTANCE, this::onHandOff)
        .build();
  }

  /** Another POST with this id (only possible with a chosen id): refused; this request runs on. */
  private Behavior<Command> onStartAgain(Start s) {
    s.admission().tell(new Refused(new SampleEvent.Rejected(request.requestId(), ErrorCode.INVALID_ARGUMENT,
        "a request with id '" + request.requestId() + "' already exists", null)));
    return this;
  }

  private Behavior<Command> onEvict() {
    return terminal == null ? this : passivate(getContext(), shard);
  }

  private Behavior<Command> onHandOff() {
    if (terminal == null) {
      api.cancel(request.requestId());
      admit(new Refused(new SampleEvent.Rejected(request.requestId(), ErrorCode.UNAVAILABLE,
          "the gateway member holding this request is leaving", null)));
      if (accepted != null) {
        end(new SampleEvent.Failed(request.requestId(), ErrorCode.UNAVAILABLE,
            "the gateway member holding this request left the cluster"));
      }
    }
    return Behaviors.stopped();
  }

  private Behavior<Command> onStreamStarted(StreamStarted s) {
    s.ackTo().tell(Ack.INSTANCE);
    return this;
  }

  private Behavior<Command> onEvent(Event m) {
    SampleEvent e = m.event();
    if (e instanceof SampleEvent.Rejected r) {
      admit(new Refused(r));
      return passivate(getContext(), shard);
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
      return passivate(getContext(), shard);
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
      return passivate(getContext(), shard);
    }
    if (terminal == null) end(new SampleEvent.Failed(request.requestId(), ErrorCode.INTERNAL, why));
    return this;
  }

  private void admit(Admission a) {
    if (admission != null) {
      admission.tell(a);
      admission = null;
      // A refused request has ended: the board that started it forgets it in time (retention.max-finished).
      if (a instanceof Refused) finished.tell(new Finished(request.requestId()));
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
    finished.tell(new Finished(request.requestId()));
    timers.startSingleTimer(Expire.INSTANCE, retentionTtl);
  }

  private Behavior<Command> onSubscribe(Subscribe s) {
    if (s.watcher() != null) s.watcher().tell(new Hosted(request.requestId(), getContext().getSelf()));
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
    g.replyTo().tell(new Status(status()));
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
