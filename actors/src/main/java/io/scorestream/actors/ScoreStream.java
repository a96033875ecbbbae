package io.scorestream.actors;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.AskPattern;
import akka.cluster.sharding.typed.ClusterShardingSettings;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.typed.javadsl.ActorSource;
import com.typesafe.config.Config;
import io.scorestream.config.ScoreStreamSettings;
import io.scorestream.config.SessionSettings;
import io.scorestream.model.sde.Sde;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The in-process API of a node: submit a request and watch its events, or wait for its result; start a request and
 * follow, read or cancel it by id; status. A request goes to the coordinator of the model it names
 * ({@link GenerateRequest#model()}; none: the primary model). Thread-safe: it only sends messages and builds streams.
 *
 * <p>Each request is one {@link RequestSession}, the one model of its state, found by id through this member's
 * {@link SessionDirectory}; in a cluster the sessions are sharded entities on the gateway members, so a request
 * started at any member (by any gateway) is followed, read and cancelled at any other. {@link #submit} returns a cold
 * {@link Source}: each materialisation starts the request once and owns it (the request is cancelled if the stream
 * is). A session hands each subscriber's stream events one at a time as it takes them
 * ({@code ActorSource.actorRefWithBackpressure}) and conflates its previews meanwhile, so a consumer that reads
 * slowly, or not at all, sees the latest preview when it reads and never slows a sampler, another subscriber or
 * another request; Accepted and the terminal event are never dropped.
 */
public final class ScoreStream implements AutoCloseable {
  private final ActorSystem<?> system;
  private final ActorRef<Coordinator.Command> coordinator;
  private final ActorRef<ModelRegistry.Command> registry;
  /** Every served model by name, the primary one first. */
  private final Map<String, ScoreStreamNode.ServedModel> models = new LinkedHashMap<>();
  private final Sde sde;
  private final int dim;
  private final long[] shape;
  private final int classes;
  private final SessionSettings sessionSettings;
  private final Duration askTimeout;
  private final boolean ownsSystem;
  private final RequestLatencies latencies = new RequestLatencies();
  private final ActorRef<SessionDirectory.Command> directory;
  /** The directory's address for its sessions' reports (completed as it starts). */
  private final java.util.concurrent.CompletableFuture<ActorRef<RequestSession.Watch>> directoryWatch =
      new java.util.concurrent.CompletableFuture<>();
  /** Lone node: null; in a cluster, the sessions' shard region. */
  private final ActorRef<ShardingEnvelope<RequestSession.Command>> region;
  private final Duration linger;
  /** Sessions spawned by their owners' streams on a lone node are named session-N, N unique in the JVM. */
  private static final AtomicLong SESSIONS = new AtomicLong();
  /** Directories are named sessions-N; N is unique in the JVM, so several facades may share a system. */
  private static final AtomicLong DIRECTORIES = new AtomicLong();

  /** A facade over a node's running actors in system (which it does not own). */
  public ScoreStream(ActorSystem<?> system, ScoreStreamNode.Refs refs, SessionSettings sessionSettings,
                     Duration askTimeout) {
    this(system, refs, sessionSettings, askTimeout, false);
  }

  private ScoreStream(ActorSystem<?> system, ScoreStreamNode.Refs refs, SessionSettings sessionSettings,
                      Duration askTimeout, boolean ownsSystem) {
    this.system = system;
    for (ScoreStreamNode.ServedModel m : refs.models()) models.put(m.name(), m);
    this.coordinator = refs.coordinator();
    this.registry = refs.registry();
    this.sde = refs.sde();
    this.dim = refs.dim();
    this.shape = refs.shape();
    this.classes = refs.classes();
    this.sessionSettings = sessionSettings;
    this.askTimeout = askTimeout;
    this.ownsSystem = ownsSystem;
    ActorRef<ShardingEnvelope<RequestSession.Command>> region = null;
    this.linger = sessionSettings.linger();
    if (NodeRoles.clustered(system)) {
      // Initialised once per actor system: the first facade's coordinators run the member's sessions.
      region = ClusterSharding.get(system).init(Entity.of(RequestSession.TYPE_KEY,
              entity -> RequestSession.entity(entity, this::coordinatorFor, sessionSettings.linger(), system))
          .withRole(NodeRoles.GATEWAY)
          .withStopMessage(RequestSession.HandOff.INSTANCE)
          .withAllocationStrategy(new StickyShardAllocation())
          // A session lives until its request has ended and its retention passed: never passivated for idleness
          // (a queued or long request can be silent for minutes).
          .withSettings(ClusterShardingSettings.create(system).withNoPassivationStrategy()));
    }
    this.region = region;
    this.directory = system.systemActorOf(SessionDirectory.create(region, this::coordinatorFor,
        sessionSettings.linger(), latencies, directoryWatch), "sessions-" + DIRECTORIES.incrementAndGet(),
        Props.empty());
  }

  /** The coordinator of the model request names on this member, or null when it serves no such model. */
  private ActorRef<Coordinator.Command> coordinatorFor(GenerateRequest request) {
    if (request.model() == null) return coordinator;
    ScoreStreamNode.ServedModel m = models.get(request.model());
    return m == null ? null : m.coordinator();
  }

  /** Starts a node in a new actor system configured by config (reference.conf supplies the defaults). */
  public static ScoreStream start(Config config) {
    ScoreStreamSettings settings = ScoreStreamSettings.from(config);
    ActorSystem<ScoreStreamNode.Command> system =
        ActorSystem.create(ScoreStreamNode.create(settings), "scorestream", config);
    try {
      ScoreStreamNode.Refs refs = AskPattern.<ScoreStreamNode.Command, ScoreStreamNode.Refs>ask(system,
              ScoreStreamNode.GetRefs::new, settings.askTimeout(), system.scheduler())
          .toCompletableFuture().get(settings.askTimeout().toMillis() * 2, TimeUnit.MILLISECONDS);
      return new ScoreStream(system, refs, settings.session(), settings.askTimeout(), true);
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException("the node did not start: " + e, e);
    }
  }

  /** A facade over a node spawned elsewhere in system. */
  public static CompletionStage<ScoreStream> connect(ActorSystem<?> system, ActorRef<ScoreStreamNode.Command> node,
                                                     ScoreStreamSettings settings) {
    return AskPattern.<ScoreStreamNode.Command, ScoreStreamNode.Refs>ask(node, ScoreStreamNode.GetRefs::new,
            settings.askTimeout(), system.scheduler())
        .thenApply(refs -> new ScoreStream(system, refs, settings.session(), settings.askTimeout()));
  }

  /**
   * The events of the request: Accepted, Preview..., then Completed | Failed | Cancelled; or Rejected alone. The
   * request is submitted when the source is materialised; without a requestId each materialisation gets a fresh
   * one (read it from the first event).
   */
  public Source<SampleEvent, NotUsed> submit(GenerateRequest request) {
    if (request.model() != null && !models.containsKey(request.model())) {
      return Source.lazySource(() -> Source.single((SampleEvent) unknownModel(request)))
          .mapMaterializedValue(m -> NotUsed.notUsed());
    }
    return Source.<SampleEvent, NotUsed>fromMaterializer((mat, attributes) -> {
          GenerateRequest r = request.requestId() != null ? request
              : request.withRequestId(UUID.randomUUID().toString());
          long submitted = System.nanoTime();
          boolean[] previewed = new boolean[1];
          return subscription(r.requestId(), "api", r).map(e -> {
            // Latencies as the submitter sees them; one stream's stages run one element at a time.
            if (e instanceof SampleEvent.Preview && !previewed[0]) {
              previewed[0] = true;
              latencies.recordFirstPreview(System.nanoTime() - submitted);
            } else if (e instanceof SampleEvent.Completed) {
              latencies.recordResult(System.nanoTime() - submitted);
            }
            return e;
          });
        })
        .mapMaterializedValue(m -> NotUsed.notUsed());
  }

  /**
   * Starts the request (its id and seed set) without a subscriber: it runs until its end, stays readable for
   * retention after it (at most maxFinished of the finished requests started through this member stay), and is
   * followed, read and cancelled by id. Completes with its admission.
   */
  public CompletionStage<RequestSession.Admission> start(GenerateRequest request, String label, Duration retention,
                                                         int maxFinished) {
    if (request.model() != null && !models.containsKey(request.model())) {
      return java.util.concurrent.CompletableFuture.completedFuture(
          new RequestSession.Admission.Refused(unknownModel(request)));
    }
    return AskPattern.ask(directory, replyTo -> new SessionDirectory.Start(request, label, retention, maxFinished,
        replyTo, null), askTimeout, system.scheduler());
  }

  /**
   * The events of request id from now: Accepted, the latest preview, then its events up to the terminal one; empty
   * when no session holds the id. channel names the subscriber's transport in status reads' delivery counts.
   * Cancelling the stream does not cancel the request.
   */
  public Source<SampleEvent, NotUsed> follow(String requestId, String channel) {
    return Source.<SampleEvent, NotUsed>fromMaterializer((mat, attributes) -> subscription(requestId, channel, null))
        .mapMaterializedValue(m -> NotUsed.notUsed());
  }

  /** The state of request id, empty when no session holds it (never started, or forgotten). */
  public CompletionStage<Optional<RequestSession.Snapshot>> lookup(String requestId) {
    return AskPattern.<SessionDirectory.Command, RequestSession.Status>ask(directory,
        replyTo -> new SessionDirectory.Get(requestId, replyTo), askTimeout, system.scheduler())
        .thenApply(RequestSession.Status::optional);
  }

  /** Cancels request id wherever its session is; says whether it was running, had ended, or is unknown. */
  public CompletionStage<RequestSession.CancelReply> cancelRequest(String requestId) {
    return AskPattern.ask(directory, replyTo -> new SessionDirectory.Cancel(requestId, replyTo), askTimeout,
        system.scheduler());
  }

  /** What this member's session directory holds: requests started here, open subscriptions. */
  public CompletionStage<SessionDirectory.Counts> sessions() {
    return AskPattern.ask(directory, SessionDirectory.GetCounts::new, askTimeout, system.scheduler());
  }

  /**
   * One subscriber's stream of request id (started first when start is not null, owned by it), ending after the
   * terminal event, or with Failed if the session is lost before its end.
   */
  private Source<SampleEvent, NotUsed> subscription(String id, String channel, GenerateRequest start) {
    String key = UUID.randomUUID().toString();
    java.util.concurrent.CompletableFuture<Optional<SampleEvent>> end = new java.util.concurrent.CompletableFuture<>();
    ActorRef<RequestSession.Watch> watch = directoryWatch.getNow(null);
    if (start != null && region == null && watch != null) return owned(start, key, end, watch);
    // The session's events, one at a time. The directory ends the source (after the element it holds) when the
    // session was lost or no session holds the id; its word, a Failed or nothing, then follows.
    Source<SampleEvent, NotUsed> events = events(directory, new SessionDirectory.Acked(id, key))
        .mapMaterializedValue(ref -> {
          SessionDirectory.Subscribe subscribe = new SessionDirectory.Subscribe(id, ref, key, channel, start != null,
              end);
          directory.tell(start != null ? new SessionDirectory.Start(start, "api", Duration.ZERO, 0, null, subscribe)
              : subscribe);
          return NotUsed.notUsed();
        });
    return ended(events, id, key, end);
  }

  /**
   * Lone node: the owner's stream of a new request spawns its session itself and acknowledges straight to it (no
   * hop through the directory on the way to the first preview), then hands it to the directory.
   */
  private Source<SampleEvent, NotUsed> owned(GenerateRequest request, String key,
                                             java.util.concurrent.CompletableFuture<Optional<SampleEvent>> end,
                                             ActorRef<RequestSession.Watch> watch) {
    String id = request.requestId();
    ActorRef<RequestSession.Command> session = system.systemActorOf(RequestSession.deferred(this::coordinatorFor,
        linger), "session-" + SESSIONS.incrementAndGet(), Props.empty());
    Source<SampleEvent, NotUsed> events = events(session, new RequestSession.Ack(key))
        .mapMaterializedValue(ref -> {
          // The session first (the request's path), then the directory's bookkeeping; the directory already
          // follows the owner, so the session need not tell it where it is.
          session.tell(new RequestSession.Start(request, "api", Duration.ZERO, null, watch,
              new RequestSession.Subscribe(ref, key, "api", true, null)));
          directory.tell(new SessionDirectory.Adopt(id, session, ref, key, end));
          return NotUsed.notUsed();
        });
    return ended(events, id, key, end);
  }

  /**
   * A subscriber's source: events one at a time, each acknowledged with ack to ackTo; the directory's
   * {@link SessionDirectory#ENDED} ends it after the element it holds.
   */
  private static <A> Source<SampleEvent, ActorRef<SampleEvent>> events(ActorRef<A> ackTo, A ack) {
    return ActorSource.<SampleEvent, A>actorRefWithBackpressure(ackTo, ack,
        e -> e == SessionDirectory.ENDED ? Optional.of(akka.stream.CompletionStrategy.draining()) : Optional.empty(),
        e -> Optional.empty());
  }

  /**
   * A subscription's events up to its terminal one, then (if the directory ended its source early) the directory's
   * word; the directory is told when the stream ends.
   */
  private Source<SampleEvent, NotUsed> ended(Source<SampleEvent, NotUsed> events, String id, String key,
                                             java.util.concurrent.CompletableFuture<Optional<SampleEvent>> end) {
    boolean[] sawEnd = new boolean[1];
    return events.concat(Source.completionStage(end).mapConcat(o -> o.<List<SampleEvent>>map(List::of).orElse(List.of())))
        .takeWhile(e -> !e.terminal(), true)
        .map(e -> {
          // One stream's stages run one element at a time.
          if (e.terminal()) sawEnd[0] = true;
          return e;
        })
        .watchTermination((m, done) -> {
          done.whenComplete((d, e) -> directory.tell(new SessionDirectory.Unsubscribe(id, key, !sawEnd[0])));
          return NotUsed.notUsed();
        });
  }

  private SampleEvent.Rejected unknownModel(GenerateRequest request) {
    return new SampleEvent.Rejected(request.requestId() != null ? request.requestId() : UUID.randomUUID().toString(),
        ErrorCode.INVALID_ARGUMENT, "model: this node serves no model '" + request.model() + "' (it serves "
            + String.join(", ", models.keySet()) + ")", null);
  }

  /** The result of the request, or a {@link ScoreStreamException} with the typed code of its terminal event. */
  public CompletionStage<Result> generate(GenerateRequest request) {
    return submit(request).runWith(Sink.last(), system).thenApply(e -> {
      if (e instanceof SampleEvent.Completed c) return c.result();
      throw ScoreStreamException.of(e);
    });
  }

  /** Cancels a running or queued request wherever its session is; its streams end with Cancelled. Unknown ids are ignored. */
  public void cancel(String requestId) {
    directory.tell(new SessionDirectory.Cancel(requestId, system.ignoreRef()));
  }

  /** Whether this node is an Akka cluster member (its samplers' chains can move to other members). */
  public boolean clustered() {
    return NodeRoles.clustered(system);
  }

  /**
   * Drains this member's samplers, of every model: each leaves the receptionist, stops taking chains and hands its
   * slices back, running chains with their states, to the coordinators that routed them, which continue them on the
   * cluster's other samplers (bit-identical, not counted as retries). Completes with the number of samplers drained
   * once each has handed its slices back; a drained sampler stays drained for the member's life (stop the member
   * next). What SIGTERM does before a member leaves; the gateway's {@code POST /v1/admin/drain}.
   *
   * @throws IllegalStateException (in the stage) when this node is not a cluster member: it has nowhere to move them
   */
  public CompletionStage<Integer> drainSamplers() {
    if (!clustered()) {
      return java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException(
          "this node is not a cluster member: its chains have nowhere to move (serve --cluster)"));
    }
    List<ActorRef<Sampler.Command>> local = models.values().stream().flatMap(m -> m.samplers().stream()).toList();
    java.util.concurrent.CompletableFuture<?>[] acks = local.stream()
        .map(s -> AskPattern.<Sampler.Command, akka.Done>ask(s, Sampler.Drain::new, askTimeout, system.scheduler())
            .toCompletableFuture())
        .toArray(java.util.concurrent.CompletableFuture[]::new);
    return java.util.concurrent.CompletableFuture.allOf(acks).thenApply(x -> local.size());
  }

  /** The primary model's coordinator's view: queue, active requests, samplers' load. */
  public CompletionStage<Coordinator.NodeStatus> status() {
    return AskPattern.ask(coordinator, Coordinator.GetStatus::new, askTimeout, system.scheduler());
  }

  /** The view of the coordinator of the named model (see {@link #models()}). */
  public CompletionStage<Coordinator.NodeStatus> status(String model) {
    return AskPattern.ask(served(model).coordinator(), Coordinator.GetStatus::new, askTimeout, system.scheduler());
  }

  /** Every model the node serves, the primary one first. */
  public List<ScoreStreamNode.ServedModel> models() {
    return List.copyOf(models.values());
  }

  /** The served model of that name, if the node serves one. */
  public Optional<ScoreStreamNode.ServedModel> model(String name) {
    return Optional.ofNullable(name == null ? models.values().iterator().next() : models.get(name));
  }

  private ScoreStreamNode.ServedModel served(String name) {
    return model(name).orElseThrow(() -> new IllegalArgumentException("this node serves no model '" + name
        + "' (it serves " + String.join(", ", models.keySet()) + ")"));
  }

  /** Submission-to-first-preview and submission-to-result latencies of the requests submitted here. */
  public RequestLatencies.Snapshot latencies() {
    return latencies.snapshot();
  }

  /** The primary model's current and recent versions. */
  public CompletionStage<ModelRegistry.Versions> versions() {
    return AskPattern.ask(registry, ModelRegistry.GetVersions::new, askTimeout, system.scheduler());
  }

  /** The named model's current and recent versions. */
  public CompletionStage<ModelRegistry.Versions> versions(String model) {
    return AskPattern.ask(served(model).registry(), ModelRegistry.GetVersions::new, askTimeout, system.scheduler());
  }

  /** The forward SDE of the served model: every version the node serves has it (requests name it, not choose it). */
  public Sde sde() {
    return sde;
  }

  /** The data dimension D of the served model. */
  public int dim() {
    return dim;
  }

  /** The shape of one sample of the served model: [D] for vectors, [C, H, W] for images (a copy). */
  public long[] shape() {
    return shape.clone();
  }

  /** The number of class labels the served model takes (0: unconditional). */
  public int classes() {
    return classes;
  }

  /** The actor system the node runs in. */
  public ActorSystem<?> system() {
    return system;
  }

  /** Stops the node's actor system if {@link #start} created it. */
  @Override
  public void close() {
    if (ownsSystem) system.terminate();
    else directory.tell(SessionDirectory.Stop.INSTANCE);
  }
}
