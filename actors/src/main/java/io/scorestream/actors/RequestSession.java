package io.scorestream.actors;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.EntityContext;
import akka.cluster.sharding.typed.javadsl.EntityRef;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import java.time.Duration;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * One request, keyed by its id: the one model of its state, whatever gateway started it and whoever watches it. It
 * submits the request to its node's coordinator, gathers the previews and samples its slices send from any number of
 * samplers, keeps the admission, latest preview, terminal event and delivery counts for status reads, and hands
 * each of any number of subscribers {@link SampleEvent}s one at a time, each after that subscriber took the previous
 * one ({@link Ack}, the protocol of {@code ActorSource.actorRefWithBackpressure}). While a subscriber is busy its
 * previews conflate (the latest replaces the one it has not taken), so a slow or stalled consumer costs O(1) memory
 * and never slows a sampler or another subscriber. Accepted goes first, the terminal event last, and neither is ever
 * dropped; a subscriber that attaches late gets Accepted, the latest preview and the terminal event.
 *
 * <p>The terminal event is decided here when the slices complete or a chain fails (the coordinator is told, so it
 * frees the request's other chains), or by the coordinator ({@link Terminate}: rejection, deadline, cancellation,
 * sampler failure). If the request's owner (the stream of {@link ScoreStream#submit}) goes away first, the request is
 * cancelled; followers ({@link ScoreStream#follow}) come and go. After its end the session stays readable for its
 * retention, then stops.
 *
 * <p>On a lone node sessions are children of the node's {@link SessionDirectory}. In a cluster they are Cluster
 * Sharding entities ({@link #TYPE_KEY}, on the gateway members): any member's directory reaches any session by id,
 * so a request started through one member's gateway is followed, read and cancelled through every other one. A
 * session whose member leaves fails its running request with UNAVAILABLE (sessions do not move between members).
 * State is confined to the actor.
 */
public final class RequestSession extends AbstractBehavior<RequestSession.Command> {

  public sealed interface Command
      permits Start, Subscribe, Ack, Unsubscribe, Get, Cancel, Evict, HandOff, Admitted, Terminate, SlicePreview,
          SliceCompleted, SliceFailed, SubscriberGone, Expire {}

  /** The sharding entity type of the sessions (cluster mode); the entity id is the request id. */
  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "scorestream-request");

  /**
   * Runs the request (its id and seed set) on this session's node. Sent once, by the directory that took it.
   *
   * @param label     what the request is called in status reads (the sampler it asked for)
   * @param retention how long the session stays readable after its end; zero: until its subscribers took the end
   * @param admission told Admitted or Refused once (null: nobody waits for it)
   * @param watcher   the starting directory, told when the request ends and which actor holds it
   * @param owner     the first subscriber, added before the request is submitted (null: none)
   */
  public record Start(GenerateRequest request, String label, Duration retention, ActorRef<Admission> admission,
                      ActorRef<Watch> watcher, Subscribe owner) implements Command, ClusterMessage {}

  /**
   * Adds a subscriber (the actor of an {@code ActorSource.actorRefWithBackpressure} whose ack message is
   * {@code Ack(key)}). The watcher (its directory) is told {@link Hosted}, or that the id is unknown.
   *
   * @param owner whether the request is cancelled if this subscriber goes away before the end
   * @param channel how it is connected, for delivery counts ("websocket", "sse", "api", ...)
   */
  public record Subscribe(ActorRef<SampleEvent> subscriber, String key, String channel, boolean owner,
                          ActorRef<Watch> watcher) implements Command, ClusterMessage {}

  /** The subscriber of this key took the last event sent to it. */
  public record Ack(String key) implements Command, ClusterMessage {}

  /** The subscriber of this key stopped listening (its stream ended). */
  public record Unsubscribe(String key) implements Command, ClusterMessage {}

  /** Reads the request's state; an unknown id answers an empty {@link Status}. */
  public record Get(ActorRef<Status> replyTo) implements Command, ClusterMessage {}

  /** Cancels the request at its node; its subscribers then get Cancelled. */
  public record Cancel(ActorRef<CancelReply> replyTo) implements Command, ClusterMessage {}

  /** The starting directory forgets the request (its bound on finished requests): a finished session stops. */
  public enum Evict implements Command, ClusterMessage { INSTANCE }

  /**
   * Stop (sharding's stop message: the session's member is leaving): a running request is cancelled and its
   * subscribers get Failed UNAVAILABLE.
   */
  public enum HandOff implements Command { INSTANCE }

  /** The coordinator accepted the request. */
  public record Admitted(SampleEvent.Accepted accepted) implements Command {}

  /** The coordinator ended the request (Rejected, Failed or Cancelled). */
  public record Terminate(SampleEvent terminal) implements Command {}

  /** Tweedie estimates of chains [firstChain, firstChain + count), at the slice's step. */
  public record SlicePreview(String requestId, int firstChain, int count, int step, int totalSteps,
                             Samples denoised) implements Command, ClusterMessage {
    public SlicePreview {
      if (denoised.count() != count) throw new IllegalArgumentException(denoised + " for " + count + " chains");
    }

    /** Vectors, row-major (a copy). */
    public SlicePreview(String requestId, int firstChain, int count, int step, int totalSteps, double[] denoised) {
      this(requestId, firstChain, count, step, totalSteps, Samples.vectors(count, denoised));
    }
  }

  /** The final samples of chains [firstChain, firstChain + count), with the model versions used. */
  public record SliceCompleted(String requestId, int firstChain, int count, Samples samples, List<Long> versions,
                               long networkCalls) implements Command, ClusterMessage {
    public SliceCompleted {
      if (samples.count() != count) throw new IllegalArgumentException(samples + " for " + count + " chains");
      versions = List.copyOf(versions);
    }

    /** Vectors, row-major (a copy). */
    public SliceCompleted(String requestId, int firstChain, int count, double[] samples, List<Long> versions,
                          long networkCalls) {
      this(requestId, firstChain, count, Samples.vectors(count, samples), versions, networkCalls);
    }
  }

  /** A slice failed (a chain became NaN or infinite): the request fails. */
  public record SliceFailed(String requestId, int firstChain, int count, ErrorCode code, String message)
      implements Command, ClusterMessage {}

  private record SubscriberGone(String key) implements Command {}

  private enum Expire implements Command { INSTANCE }

  /** What a directory is told of the sessions it started or follows. */
  public sealed interface Watch extends ClusterMessage permits Hosted, Finished {}

  /** The actor holding request id, or null when the id is unknown (the subscription of key then ends empty). */
  public record Hosted(String id, String key, ActorRef<Command> session) implements Watch {}

  /**
   * The request of this id has ended (refused included); the nanoseconds from its start to its first preview and
   * to its result, or -1.
   */
  public record Finished(String id, long firstPreviewNanos, long resultNanos) implements Watch {}

  /** The answer to a start: the node admitted the request, or refused it. */
  public sealed interface Admission extends ClusterMessage permits Admission.Admitted, Admission.Refused {
    record Admitted(SampleEvent.Accepted accepted) implements Admission {}

    record Refused(SampleEvent.Rejected rejected) implements Admission {}
  }

  /** The answer to a cancellation. */
  public sealed interface CancelReply extends ClusterMessage
      permits CancelReply.Cancelling, CancelReply.AlreadyFinished, CancelReply.NotFound {
    record Cancelling(String id) implements CancelReply {}

    record AlreadyFinished(String id, String state) implements CancelReply {}

    enum NotFound implements CancelReply { INSTANCE }
  }

  /** The answer to a read: the request's state, or null when the id is unknown. */
  public record Status(Snapshot snapshot) implements ClusterMessage {
    public java.util.Optional<Snapshot> optional() {
      return java.util.Optional.ofNullable(snapshot);
    }
  }

  /**
   * A request's state.
   *
   * @param accepted  its admission (null before it, or when refused)
   * @param latest    its latest preview (null before one)
   * @param terminal  its end (null while it runs)
   * @param previews  previews made
   * @param delivered previews subscribers took, by channel
   */
  public record Snapshot(GenerateRequest request, String label, SampleEvent.Accepted accepted,
                         SampleEvent.Preview latest, SampleEvent terminal, long previews,
                         Map<String, Long> delivered) implements ClusterMessage {
    public Snapshot {
      delivered = Map.copyOf(delivered);
    }

    /** running, completed, cancelled or failed (refused requests read as failed). */
    public String state() {
      if (terminal == null) return "running";
      if (terminal instanceof SampleEvent.Completed) return "completed";
      if (terminal instanceof SampleEvent.Cancelled) return "cancelled";
      return "failed";
    }
  }

  /** A session of a lone node, running start at once; coordinators maps a request to its model's coordinator. */
  static Behavior<Command> create(Start start, Function<GenerateRequest, ActorRef<Coordinator.Command>> coordinators,
                                  Duration linger) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RequestSession(ctx, timers, start, coordinators,
        linger, null, null)));
  }

  /**
   * A session of a lone node that waits for its {@link Start} (keeping what else comes first): its owner's stream is
   * built with this session as the target of its acknowledgements before the session can be started with it.
   */
  static Behavior<Command> deferred(Function<GenerateRequest, ActorRef<Coordinator.Command>> coordinators,
                                    Duration linger) {
    return Behaviors.withStash(16, stash -> Behaviors.receive(Command.class)
        .onMessage(Start.class, start -> stash.unstashAll(Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
            new RequestSession(ctx, timers, start, coordinators, linger, null, null)))))
        .onAnyMessage(m -> {
          if (!stash.isFull()) stash.stash(m);
          return Behaviors.same();
        })
        .build());
  }

  /**
   * The sharded session of request id: before a {@link Start} it answers for an unknown id (empty status, Hosted
   * null, not found) and passivates; a Start runs the request.
   */
  static Behavior<Command> entity(EntityContext<Command> entity,
                                  Function<GenerateRequest, ActorRef<Coordinator.Command>> coordinators,
                                  Duration linger, akka.actor.typed.ActorSystem<?> system) {
    ActorRef<ClusterSharding.ShardCommand> shard = entity.getShard();
    String id = entity.getEntityId();
    EntityRef<Command> again = ClusterSharding.get(system).entityRefFor(TYPE_KEY, id);
    return Behaviors.setup(ctx -> Behaviors.receive(Command.class)
        .onMessage(Start.class, start -> Behaviors.withTimers(timers ->
            new RequestSession(ctx, timers, start, coordinators, linger, shard, again)))
        .onMessage(Get.class, g -> {
          g.replyTo().tell(new Status(null));
          return stopping(ctx, shard, again);
        })
        .onMessage(Subscribe.class, s -> {
          s.watcher().tell(new Hosted(id, s.key(), null));
          return stopping(ctx, shard, again);
        })
        .onMessage(Cancel.class, c -> {
          c.replyTo().tell(CancelReply.NotFound.INSTANCE);
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
        // A subscriber's late acknowledgement or goodbye concerns this session only.
        .onMessage(Ack.class, m -> Behaviors.same())
        .onMessage(Unsubscribe.class, m -> Behaviors.same())
        .onAnyMessage(m -> {
          again.tell(m);
          return Behaviors.same();
        })
        .build();
  }

  /** One subscriber's place in the request's events. */
  private static final class Subscriber {
    final ActorRef<SampleEvent> ref;
    final String channel;
    final boolean owner;
    boolean awaitingAck;
    boolean acceptedSent;
    long previewSeen;
    boolean previewSent;
    boolean lastWasPreview;
    boolean terminalSent;

    Subscriber(ActorRef<SampleEvent> ref, String channel, boolean owner) {
      this.ref = ref;
      this.channel = channel;
      this.owner = owner;
    }
  }

  private final TimerScheduler<Command> timers;
  private final GenerateRequest request;
  private final String label;
  private final Duration retention;
  private final Duration linger;
  private final ActorRef<Coordinator.Command> coordinator;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final EntityRef<Command> again;
  private ActorRef<Admission> admission;
  private final Set<ActorRef<Watch>> watchers = new HashSet<>();
  private final Map<String, Subscriber> subscribers = new LinkedHashMap<>();
  private final Map<String, Long> delivered = new HashMap<>();
  private final BitSet done = new BitSet();
  private final TreeSet<Long> versions = new TreeSet<>();
  private final Map<Integer, Integer> sliceSteps = new HashMap<>();
  private final long startNanos = System.nanoTime();
  private long firstPreviewNanos = -1;
  private int dim;
  private long[] shape;
  private double[] samples;
  private double[] preview;
  /** The latest preview when one slice holds the whole request: passed on as it came, not merged. */
  private Samples wholePreview;
  /** The samples when one slice held the whole request. */
  private Samples wholeSamples;
  private int previewTotal;
  /** Counts the slice previews gathered; a subscriber has seen the latest when its count is this. */
  private long previewSeq;
  /** The Preview event of previewSeq, built once for every subscriber (null: not built yet). */
  private SampleEvent.Preview latest;
  /** Whether the gathered estimates changed since latest was built. */
  private boolean previewDirty;
  private long previews;
  private long networkCalls;
  private SampleEvent.Accepted accepted;
  private SampleEvent terminal;
  private boolean evicted;

  private RequestSession(ActorContext<Command> ctx, TimerScheduler<Command> timers, Start start,
                         Function<GenerateRequest, ActorRef<Coordinator.Command>> coordinators, Duration linger,
                         ActorRef<ClusterSharding.ShardCommand> shard, EntityRef<Command> again) {
    super(ctx);
    this.again = again;
    this.timers = timers;
    this.request = start.request();
    this.label = start.label();
    this.retention = start.retention();
    this.linger = linger;
    this.shard = shard;
    this.admission = start.admission();
    if (start.watcher() != null) {
      watchers.add(start.watcher());
      start.watcher().tell(new Hosted(request.requestId(), null, ctx.getSelf()));
    }
    this.coordinator = coordinators.apply(request);
    if (start.owner() != null) onSubscribe(start.owner());
    if (coordinator == null) {
      end(new SampleEvent.Rejected(request.requestId(), ErrorCode.INVALID_ARGUMENT,
          "model: the member holding this request serves no model '" + request.model() + "'", null), false);
    } else {
      coordinator.tell(new Coordinator.Submit(request, ctx.getSelf()));
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(Ack.class, this::onAck)
        .onMessage(Unsubscribe.class, u -> onSubscriberGone(new SubscriberGone(u.key())))
        .onMessage(SubscriberGone.class, this::onSubscriberGone)
        .onMessage(Get.class, this::onGet)
        .onMessage(Cancel.class, this::onCancel)
        .onMessage(Start.class, this::onStartAgain)
        .onMessage(Admitted.class, this::onAdmitted)
        .onMessage(Terminate.class, this::onTerminate)
        .onMessage(SlicePreview.class, this::onSlicePreview)
        .onMessage(SliceCompleted.class, this::onSliceCompleted)
        .onMessage(SliceFailed.class, this::onSliceFailed)
        .onMessageEquals(Expire.INSTANCE, this::onExpire)
        .onMessageEquals(Evict.INSTANCE, this::onEvict)
        .onMessageEquals(HandOff.INSTANCE, this::onHandOff)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  /**
   * Stops: asks the shard to passivate this entity and passes what still reaches it to a fresh one (a request id
   * used again after its end starts anew), or stops at once.
   */
  private Behavior<Command> stop() {
    if (shard == null) return Behaviors.stopped();
    return stopping(getContext(), shard, again);
  }

  /** Forgotten by its directory: stops once it has ended and no subscriber still waits for the end. */
  private Behavior<Command> onEvict() {
    if (terminal == null) return this;
    evicted = true;
    return subscribers.isEmpty() ? stop() : this;
  }

  /** Whether nothing keeps a finished session: a zero retention or an eviction, and no subscriber left. */
  private boolean done() {
    return terminal != null && (retention.isZero() || evicted) && subscribers.isEmpty();
  }

  private Behavior<Command> onSubscribe(Subscribe s) {
    if (s.watcher() != null) {
      watchers.add(s.watcher());
      s.watcher().tell(new Hosted(request.requestId(), s.key(), getContext().getSelf()));
    }
    if (subscribers.containsKey(s.key())) return this;
    Subscriber sub = new Subscriber(s.subscriber(), s.channel(), s.owner());
    subscribers.put(s.key(), sub);
    getContext().watchWith(s.subscriber(), new SubscriberGone(s.key()));
    pump(sub);
    return this;
  }

  private Behavior<Command> onAck(Ack a) {
    Subscriber sub = subscribers.get(a.key());
    if (sub == null) return this;
    sub.awaitingAck = false;
    if (sub.lastWasPreview) delivered.merge(sub.channel, 1L, Long::sum);
    sub.lastWasPreview = false;
    if (sub.terminalSent) {
      subscribers.remove(a.key());
      getContext().unwatch(sub.ref);
      return done() ? stop() : this;
    }
    pump(sub);
    return this;
  }

  private Behavior<Command> onSubscriberGone(SubscriberGone g) {
    Subscriber sub = subscribers.remove(g.key());
    if (sub == null) return this;
    getContext().unwatch(sub.ref);
    if (sub.owner && terminal == null && coordinator != null) {
      coordinator.tell(new Coordinator.Cancel(request.requestId(), "the subscriber went away"));
    }
    return done() ? stop() : this;
  }

  private Behavior<Command> onGet(Get g) {
    g.replyTo().tell(new Status(snapshot()));
    return this;
  }

  private Behavior<Command> onCancel(Cancel c) {
    if (terminal != null) {
      c.replyTo().tell(new CancelReply.AlreadyFinished(request.requestId(), snapshot().state()));
    } else {
      coordinator.tell(new Coordinator.Cancel(request.requestId(), "cancelled by the client"));
      c.replyTo().tell(new CancelReply.Cancelling(request.requestId()));
    }
    return this;
  }

  /**
   * Another start with this id (only possible with a chosen id) while this request runs or is retained: refused,
   * to its admission, its owner and its watcher; this request runs on.
   */
  private Behavior<Command> onStartAgain(Start s) {
    SampleEvent.Rejected refused = new SampleEvent.Rejected(request.requestId(), ErrorCode.INVALID_ARGUMENT,
        "a request with id '" + request.requestId() + "' already exists", null);
    if (s.admission() != null) s.admission().tell(new Admission.Refused(refused));
    // The owner's source has been sent nothing yet: it takes this event at once.
    if (s.owner() != null) s.owner().subscriber().tell(refused);
    if (s.watcher() != null) s.watcher().tell(new Hosted(request.requestId(), null, null));
    return this;
  }

  /**
   * The member is leaving: a running request is cancelled and ends UNAVAILABLE. Its watchers are not told it
   * finished: they see the session stop before its end and fail what this session could not tell itself.
   */
  private Behavior<Command> onHandOff() {
    if (terminal == null) {
      if (coordinator != null) {
        coordinator.tell(new Coordinator.Cancel(request.requestId(), "the member holding its session is leaving"));
      }
      terminal = accepted == null
          ? new SampleEvent.Rejected(request.requestId(), ErrorCode.UNAVAILABLE,
              "the member holding this request is leaving", null)
          : new SampleEvent.Failed(request.requestId(), ErrorCode.UNAVAILABLE,
              "the member holding this request left the cluster");
      if (admission != null && terminal instanceof SampleEvent.Rejected r) admission.tell(new Admission.Refused(r));
      admission = null;
    }
    return Behaviors.stopped();
  }

  private Behavior<Command> onAdmitted(Admitted a) {
    // A fast request's slices can complete before the coordinator's admission reaches the session: Accepted still
    // goes first.
    if (terminal instanceof SampleEvent.Rejected) return this;
    accepted = a.accepted();
    if (admission != null) {
      admission.tell(new Admission.Admitted(accepted));
      admission = null;
    }
    subscribers.values().forEach(this::pump);
    return this;
  }

  private Behavior<Command> onTerminate(Terminate t) {
    if (terminal == null) end(t.terminal(), false);
    return this;
  }

  private Behavior<Command> onSlicePreview(SlicePreview p) {
    if (terminal != null) return this;
    ensureShape(p.denoised());
    if (whole(p.firstChain(), p.count())) {
      wholePreview = p.denoised();
    } else {
      mergeArrays();
      wholePreview = null;
      p.denoised().copyRows(0, p.count(), preview, p.firstChain());
    }
    sliceSteps.put(p.firstChain(), p.step());
    previewTotal = Math.max(previewTotal, p.totalSteps());
    if (previewSeq++ == 0) firstPreviewNanos = System.nanoTime() - startNanos;
    previewDirty = true;
    previews++;
    subscribers.values().forEach(this::pump);
    return this;
  }

  private Behavior<Command> onSliceCompleted(SliceCompleted c) {
    if (terminal != null) return this;
    ensureShape(c.samples());
    // A slice that was given back by a failing sampler and routed again can in principle report twice.
    if (done.get(c.firstChain(), c.firstChain() + c.count()).cardinality() == c.count()) return this;
    if (whole(c.firstChain(), c.count()) && done.isEmpty()) {
      // The latest preview stays what it was: every subscriber that gets preview n gets the same one.
      wholeSamples = c.samples();
      done.set(0, c.count());
    } else {
      mergeArrays();
      for (int i = 0; i < c.count(); i++) {
        int chain = c.firstChain() + i;
        if (done.get(chain)) continue;
        done.set(chain);
        c.samples().copyRows(i, 1, samples, chain);
        c.samples().copyRows(i, 1, preview, chain);
      }
      // The merged preview now shows these chains' samples: a new preview, for every subscriber.
      if (previewSeq > 0) {
        previewSeq++;
        previewDirty = true;
      }
    }
    sliceSteps.remove(c.firstChain());
    versions.addAll(c.versions());
    networkCalls += c.networkCalls();
    if (done.cardinality() == request.count()) {
      Duration latency = Duration.ofNanos(System.nanoTime() - startNanos);
      // The merged array is complete and never written again: it becomes the result as it is.
      Samples all = wholeSamples != null ? wholeSamples : Samples.adopt(shape, request.count(), samples);
      end(new SampleEvent.Completed(new Result(request.requestId(), all, List.copyOf(versions), networkCalls,
          latency)), true);
    }
    return this;
  }

  private Behavior<Command> onSliceFailed(SliceFailed f) {
    if (terminal == null) end(new SampleEvent.Failed(request.requestId(), f.code(), f.message()), true);
    return this;
  }

  private Behavior<Command> onPostStop() {
    // Stopped before its end (a failure, its directory stopping): its chains are freed.
    if (terminal == null && coordinator != null) {
      coordinator.tell(new Coordinator.Cancel(request.requestId(), "the request session stopped"));
    }
    // A subscriber that has not been sent the end gets it (or Failed), if its source can take an event now; one that
    // still owes an acknowledgement is ended by its directory, which sees this session stop before its end.
    SampleEvent last = terminal != null ? terminal
        : new SampleEvent.Failed(request.requestId(), ErrorCode.INTERNAL, "the request session stopped");
    for (Subscriber s : subscribers.values()) {
      if (!s.terminalSent && !s.awaitingAck) s.ref.tell(last);
    }
    return this;
  }

  /** Records the terminal event, tells the coordinator when the outcome was decided here, and the watchers. */
  private void end(SampleEvent event, boolean tellCoordinator) {
    terminal = event;
    if (admission != null && event instanceof SampleEvent.Rejected r) {
      admission.tell(new Admission.Refused(r));
      admission = null;
    }
    if (tellCoordinator) coordinator.tell(new Coordinator.RequestEnded(request.requestId()));
    Finished f = new Finished(request.requestId(), firstPreviewNanos,
        event instanceof SampleEvent.Completed ? System.nanoTime() - startNanos : -1);
    watchers.forEach(w -> w.tell(f));
    subscribers.values().forEach(this::pump);
    if (untilTaken()) {
      if (subscribers.isEmpty()) timers.startSingleTimer(Expire.INSTANCE, Duration.ZERO);
      else lingerOnceSent();
    } else {
      timers.startSingleTimer(Expire.INSTANCE, retention);
    }
  }

  /** Whether the session is kept only until its subscribers took its end (no retention, or a refusal). */
  private boolean untilTaken() {
    return retention.isZero() || terminal instanceof SampleEvent.Rejected;
  }

  /** Once every subscriber has been sent the end, waits at most linger for them to take it. */
  private void lingerOnceSent() {
    if (subscribers.values().stream().allMatch(x -> x.terminalSent)) {
      timers.startSingleTimer(Expire.INSTANCE, linger);
    }
  }

  /** Retention or linger is over: stops, unless a subscriber has not been sent the end yet (then it waits on). */
  private Behavior<Command> onExpire() {
    if (subscribers.values().stream().anyMatch(x -> !x.terminalSent)) {
      timers.startSingleTimer(Expire.INSTANCE, linger);
      return this;
    }
    return stop();
  }

  /**
   * Sends subscriber s its next event if it took the last one: Accepted, then the latest preview it has not seen,
   * then the end (before which a preview goes only if it has seen none: a fast request still shows one, and a late
   * subscriber sees the request's last picture).
   */
  private void pump(Subscriber s) {
    if (s.awaitingAck || s.terminalSent) return;
    SampleEvent next = null;
    if (accepted != null && !s.acceptedSent) {
      next = accepted;
      s.acceptedSent = true;
    } else if (s.acceptedSent && previewSeq > s.previewSeen
        && (terminal == null || !s.previewSent)) {
      next = latestPreview();
      s.previewSeen = previewSeq;
      s.previewSent = true;
      s.lastWasPreview = true;
    } else if (terminal != null && (s.acceptedSent || terminal instanceof SampleEvent.Rejected)) {
      next = terminal;
      s.terminalSent = true;
      if (untilTaken()) lingerOnceSent();
    }
    if (next != null) {
      s.awaitingAck = true;
      s.ref.tell(next);
    }
  }

  /** The Preview event of the gathered estimates, built once per preview for every subscriber. */
  private SampleEvent.Preview latestPreview() {
    if (latest == null || previewDirty) {
      int step = sliceSteps.values().stream().mapToInt(Integer::intValue).min().orElse(previewTotal);
      latest = new SampleEvent.Preview(request.requestId(), step, previewTotal,
          wholePreview != null ? wholePreview : Samples.copyOf(shape, request.count(), preview));
      previewDirty = false;
    }
    return latest;
  }

  private Snapshot snapshot() {
    return new Snapshot(request, label, accepted, previewSeq == 0 ? null : latestPreview(), terminal, previews,
        delivered);
  }

  /** Whether chains [first, first + count) are the whole request. */
  private boolean whole(int first, int count) {
    return first == 0 && count == request.count();
  }

  private void ensureShape(Samples first) {
    if (shape != null) return;
    shape = first.shape();
    dim = first.dim();
  }

  /** The arrays slices of a request split over samplers are merged into (one slice's values pass through). */
  private void mergeArrays() {
    if (samples != null) return;
    samples = new double[request.count() * dim];
    preview = new double[request.count() * dim];
    Arrays.fill(preview, Double.NaN);
    // Chains of a whole slice that already reported keep their values.
    if (wholePreview != null) wholePreview.copyRows(0, request.count(), preview, 0);
  }
}
