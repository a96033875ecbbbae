package io.scorestream.actors;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.cluster.sharding.typed.ShardingEnvelope;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * A member's index of request sessions ({@link RequestSession}), behind {@link ScoreStream}: it holds no request's
 * state, only where each session is. On a lone node the sessions are its children, found by request id. In a cluster
 * they are sharded entities, and every start, read, subscription, acknowledgement and cancellation goes through the
 * shard region, so any member reaches any request. It watches the sessions its subscribers follow: if one is lost with
 * its member before it ended, their streams end with Failed UNAVAILABLE rather than wait forever.
 *
 * <p>It bounds what is retained of the requests started here: past a start's {@code maxFinished} finished ones, the
 * oldest is evicted (each session also stops after its retention). Running requests are never evicted; the
 * coordinators' admission queues bound them. It records the latencies of the requests started here detached (those
 * submitted with a stream are recorded by the stream, as their submitter sees them). State is
 * confined to the actor.
 */
public final class SessionDirectory extends AbstractBehavior<SessionDirectory.Command> {

  public sealed interface Command
      permits Start, Adopt, Subscribe, Acked, Unsubscribe, Get, Cancel, GetCounts, Stop, Watched, SessionStopped,
          EndLate {}

  /**
   * Starts request (its id and seed set) in a new session; admission (or null) is told Admitted or Refused.
   *
   * @param retention   how long the session stays readable after its end (zero: until its subscribers took it)
   * @param maxFinished most finished requests started here that stay readable
   * @param owner       the subscription that owns the request (subscribed before it is submitted), or null
   */
  public record Start(GenerateRequest request, String label, Duration retention, int maxFinished,
                      ActorRef<RequestSession.Admission> admission, Subscribe owner) implements Command {}

  /**
   * Lone node: the session of request id that its owner's stream spawned and started itself (its acknowledgements
   * go straight to it); the directory lists it, watches it and follows its owner (subscriber, key, end).
   */
  public record Adopt(String id, ActorRef<RequestSession.Command> session, ActorRef<SampleEvent> subscriber,
                      String key, CompletableFuture<Optional<SampleEvent>> end) implements Command {}

  /**
   * Subscribes an actor source (whose ack message is {@link Acked}(id, key)) to request id; end completes with
   * Failed when the session is lost, or empty when the id is unknown.
   */
  public record Subscribe(String id, ActorRef<SampleEvent> subscriber, String key, String channel, boolean owner,
                          CompletableFuture<Optional<SampleEvent>> end) implements Command {}

  /** A subscriber of request id took its last event (the ack message of its actor source). */
  public record Acked(String id, String key) implements Command {}

  /** A subscriber's stream ended; early: before its terminal event (the session is told to drop it). */
  public record Unsubscribe(String id, String key, boolean early) implements Command {}

  /** Reads request id. */
  public record Get(String id, ActorRef<RequestSession.Status> replyTo) implements Command {}

  /** Cancels request id. */
  public record Cancel(String id, ActorRef<RequestSession.CancelReply> replyTo) implements Command {}

  public record GetCounts(ActorRef<Counts> replyTo) implements Command {}

  /**
   * What the directory holds.
   *
   * @param retained    requests started here with a session (running and finished)
   * @param running     of those, not finished
   * @param subscribers open event streams through this directory
   * @param submitted   requests started here since it started (admitted or not)
   */
  public record Counts(int retained, int running, int subscribers, long submitted) {}

  /**
   * Told to a subscriber's source (on this member) to end it after the element it holds; the subscription's future
   * then says why (a Failed, or nothing for an unknown id). Compared by identity, never sent to another member.
   */
  static final SampleEvent ENDED = new SampleEvent.Cancelled("", "the session directory ended this subscription");

  /** Stops the directory (the facade is closing; sessions run on). */
  public enum Stop implements Command { INSTANCE }

  private record Watched(RequestSession.Watch watch) implements Command {}

  private record SessionStopped(String id, ActorRef<RequestSession.Command> session) implements Command {}

  /** Subscriptions of a session that stopped after its end, still open a grace period later. */
  private record EndLate(java.util.Collection<Follower> followers) implements Command {}

  /** How long a subscription may still wait, after its session stopped after its end, for that end to arrive. */
  private static final Duration END_GRACE = Duration.ofSeconds(1);

  /** watch is completed with the directory's address for its sessions' {@link RequestSession.Watch} reports. */
  static Behavior<Command> create(ActorRef<ShardingEnvelope<RequestSession.Command>> region,
                                  Function<GenerateRequest, ActorRef<Coordinator.Command>> coordinators,
                                  Duration linger, RequestLatencies latencies,
                                  CompletableFuture<ActorRef<RequestSession.Watch>> watch) {
    return Behaviors.setup(ctx -> {
      SessionDirectory d = new SessionDirectory(ctx, region, coordinators, linger, latencies);
      watch.complete(d.watchAdapter);
      return d;
    });
  }

  private final ActorRef<ShardingEnvelope<RequestSession.Command>> region;
  private final Function<GenerateRequest, ActorRef<Coordinator.Command>> coordinators;
  private final Duration linger;
  private final RequestLatencies latencies;
  private final ActorRef<RequestSession.Watch> watchAdapter;
  /** Lone node: every session by request id. */
  private final Map<String, ActorRef<RequestSession.Command>> children = new HashMap<>();
  /** Requests started here that still have a session, with their bound on finished ones. */
  private final Map<String, Integer> retained = new LinkedHashMap<>();
  /** Starts sent, by request id, with their bound: retained once the session confirms it took the start. */
  private final Map<String, Integer> starting = new HashMap<>();
  /** Lone node: requests whose session has ended but not stopped (a start of the same id replaces it). */
  private final Set<String> over = new HashSet<>();
  /** Finished requests started here, oldest first: the eviction order. */
  private final LinkedHashSet<String> finished = new LinkedHashSet<>();
  /** A subscription: its source, and the future that says why the directory ended it early. */
  private record Follower(ActorRef<SampleEvent> source, CompletableFuture<Optional<SampleEvent>> end) {
    void end(Optional<SampleEvent> why) {
      end.complete(why);
      source.tell(ENDED);
    }
  }

  /** Open subscriptions by request id, by key. */
  private final Map<String, Map<String, Follower>> following = new HashMap<>();
  /** Followed requests that have ended (their streams end by their terminal event). */
  private final Set<String> ended = new HashSet<>();
  private final Set<ActorRef<RequestSession.Command>> watched = new HashSet<>();
  private long submitted;
  private long sessions;

  private SessionDirectory(ActorContext<Command> ctx, ActorRef<ShardingEnvelope<RequestSession.Command>> region,
                           Function<GenerateRequest, ActorRef<Coordinator.Command>> coordinators, Duration linger,
                           RequestLatencies latencies) {
    super(ctx);
    this.region = region;
    this.coordinators = coordinators;
    this.linger = linger;
    this.latencies = latencies;
    this.watchAdapter = ctx.messageAdapter(RequestSession.Watch.class, Watched::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Start.class, this::onStart)
        .onMessage(Adopt.class, this::onAdopt)
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(Acked.class, a -> {
          toSession(a.id(), new RequestSession.Ack(a.key()));
          return this;
        })
        .onMessage(Unsubscribe.class, this::onUnsubscribe)
        .onMessage(Get.class, g -> {
          if (!toSession(g.id(), new RequestSession.Get(g.replyTo()))) g.replyTo().tell(new RequestSession.Status(null));
          return this;
        })
        .onMessage(Cancel.class, c -> {
          if (!toSession(c.id(), new RequestSession.Cancel(c.replyTo()))) {
            c.replyTo().tell(RequestSession.CancelReply.NotFound.INSTANCE);
          }
          return this;
        })
        .onMessage(GetCounts.class, this::onGetCounts)
        .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
        .onMessage(Watched.class, this::onWatched)
        .onMessage(SessionStopped.class, this::onSessionStopped)
        .onMessage(EndLate.class, e -> {
          // Its end reached it, or it never reached the session (sent as the session stopped): end it either way.
          e.followers().forEach(f -> f.end(Optional.empty()));
          return this;
        })
        .build();
  }

  /** Sends c to the session of request id: through sharding, or to the child; false if there is no such child. */
  private boolean toSession(String id, RequestSession.Command c) {
    if (region != null) {
      region.tell(new ShardingEnvelope<>(id, c));
      return true;
    }
    ActorRef<RequestSession.Command> session = children.get(id);
    if (session == null) return false;
    session.tell(c);
    return true;
  }

  private Behavior<Command> onStart(Start s) {
    String id = s.request().requestId();
    submitted++;
    RequestSession.Subscribe owner = null;
    if (s.owner() != null) {
      Subscribe o = s.owner();
      following.computeIfAbsent(id, k -> new HashMap<>()).put(o.key(), new Follower(o.subscriber(), o.end()));
      owner = new RequestSession.Subscribe(o.subscriber(), o.key(), o.channel(), true, watchAdapter);
    }
    RequestSession.Start start = new RequestSession.Start(s.request(), s.label(), s.retention(), s.admission(),
        watchAdapter, owner);
    starting.put(id, s.maxFinished());
    if (region == null && takesFresh(id)) {
      register(id, getContext().spawn(RequestSession.create(start, coordinators, linger), "session-" + ++sessions));
    } else {
      toSession(id, start);
    }
    return this;
  }

  private Behavior<Command> onAdopt(Adopt a) {
    String id = a.id();
    submitted++;
    following.computeIfAbsent(id, k -> new HashMap<>()).put(a.key(), new Follower(a.subscriber(), a.end()));
    if (!takesFresh(id)) {
      // A duplicate of a running or retained request: its coordinator refuses it; the id stays the first's.
      watch(id, a.session());
      return this;
    }
    register(id, a.session());
    retained.put(id, 0);
    return this;
  }

  /** Lone node: whether a start of id gets a fresh session (none holds it, or the one that does has ended). */
  private boolean takesFresh(String id) {
    return !children.containsKey(id) || over.contains(id);
  }

  /** Lone node: session now holds id; one that ended under it is forgotten here and left to stop on its own. */
  private void register(String id, ActorRef<RequestSession.Command> session) {
    over.remove(id);
    if (children.containsKey(id)) {
      retained.remove(id);
      finished.remove(id);
    }
    children.put(id, session);
    watch(id, session);
  }

  private Behavior<Command> onSubscribe(Subscribe s) {
    boolean sent = toSession(s.id(), new RequestSession.Subscribe(s.subscriber(), s.key(), s.channel(), s.owner(),
        watchAdapter));
    Follower follower = new Follower(s.subscriber(), s.end());
    if (!sent) {
      follower.end(Optional.empty());
      return this;
    }
    following.computeIfAbsent(s.id(), k -> new HashMap<>()).put(s.key(), follower);
    return this;
  }

  private Behavior<Command> onUnsubscribe(Unsubscribe u) {
    Map<String, Follower> subs = following.get(u.id());
    if (subs != null && subs.remove(u.key()) != null && subs.isEmpty()) {
      following.remove(u.id());
      if (!retained.containsKey(u.id())) ended.remove(u.id());
    }
    // After its end the session has let the subscriber go (and may have stopped): nothing to tell it.
    if (u.early()) toSession(u.id(), new RequestSession.Unsubscribe(u.key()));
    return this;
  }

  private Behavior<Command> onWatched(Watched w) {
    if (w.watch() instanceof RequestSession.Hosted h && h.key() == null) {
      // The answer to a start: the session took it, or refused it as a duplicate of a running or retained request.
      Integer bound = starting.remove(h.id());
      if (h.session() != null && bound != null) {
        retained.putIfAbsent(h.id(), bound);
        watch(h.id(), h.session());
      }
    } else if (w.watch() instanceof RequestSession.Hosted h) {
      if (h.session() == null) {
        // An id no session holds: that subscription ends empty.
        Map<String, Follower> subs = following.get(h.id());
        Follower f = subs == null ? null : subs.remove(h.key());
        if (f != null) f.end(Optional.empty());
        if (subs != null && subs.isEmpty()) following.remove(h.id());
      } else if (following.containsKey(h.id()) || retained.containsKey(h.id())) {
        watch(h.id(), h.session());
      }
    } else if (w.watch() instanceof RequestSession.Finished f) {
      onFinished(f);
    }
    return this;
  }

  private void watch(String id, ActorRef<RequestSession.Command> session) {
    if (watched.add(session)) getContext().watchWith(session, new SessionStopped(id, session));
  }

  private void onFinished(RequestSession.Finished f) {
    String id = f.id();
    if (following.containsKey(id)) ended.add(id);
    if (region == null && children.containsKey(id)) over.add(id);
    Integer bound = retained.get(id);
    if (bound == null || finished.contains(id)) return;
    if (bound == 0) {
      // Owned by its submitter's stream, which records its latencies; kept until its subscribers took its end.
      retained.remove(id);
      return;
    }
    // Started detached (an HTTP POST): its latencies as its session saw them.
    if (f.firstPreviewNanos() >= 0) latencies.recordFirstPreview(f.firstPreviewNanos());
    if (f.resultNanos() >= 0) latencies.recordResult(f.resultNanos());
    finished.add(id);
    for (Iterator<String> it = finished.iterator(); finished.size() > bound; ) {
      String oldest = it.next();
      it.remove();
      retained.remove(oldest);
      toSession(oldest, RequestSession.Evict.INSTANCE);
    }
  }

  /**
   * A session stopped: after its end its subscribers have had their terminal event; if it had not ended, it was lost
   * (with its member, or by a failure), and their streams end with Failed rather than wait forever.
   */
  private Behavior<Command> onSessionStopped(SessionStopped s) {
    watched.remove(s.session());
    String id = s.id();
    if (region == null && children.get(id) != s.session()) return this; // replaced by a fresh session of the id
    children.remove(id);
    over.remove(id);
    boolean wasEnded = ended.remove(id) || finished.contains(id);
    // Gone for good (a session lost before its end counts as ended here).
    retained.remove(id);
    finished.remove(id);
    Map<String, Follower> subs = following.remove(id);
    if (subs == null) return this;
    if (wasEnded) {
      // Their end was sent before the session stopped (it may still be on its way from another member).
      getContext().scheduleOnce(END_GRACE, getContext().getSelf(), new EndLate(List.copyOf(subs.values())));
      return this;
    }
    SampleEvent.Failed failed = new SampleEvent.Failed(id, region != null ? ErrorCode.UNAVAILABLE : ErrorCode.INTERNAL,
        region != null ? "the member that held request " + id + " was lost; its outcome is unknown"
            : "the session of request " + id + " stopped before its end");
    for (Follower f : subs.values()) f.end(Optional.of(failed));
    return this;
  }

  private Behavior<Command> onGetCounts(GetCounts g) {
    int subscribers = following.values().stream().mapToInt(Map::size).sum();
    g.replyTo().tell(new Counts(retained.size(), retained.size() - finished.size(), subscribers, submitted));
    return this;
  }
}
