package io.scorestream.actors;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.AskPattern;
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
 * The in-process API of a node: submit a request and watch its events, or wait for its result; cancel; status.
 * A request goes to the coordinator of the model it names ({@link GenerateRequest#model()}; none: the primary
 * model). Thread-safe: it only sends messages and builds streams.
 *
 * <p>{@link #submit} returns a cold {@link Source}: each materialisation submits the request once, through its own
 * {@link RequestSession}. The session hands events to the stream one at a time as the stream takes them
 * ({@code ActorSource.actorRefWithBackpressure}) and conflates previews meanwhile, so a consumer that reads slowly,
 * or not at all, sees the latest preview when it reads and never slows a sampler or another request; Accepted and
 * the terminal event are never dropped.
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
  /** Session actors are named session-N; N is unique in the JVM, so several facades may share a system. */
  private static final AtomicLong SESSIONS = new AtomicLong();

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
    ScoreStreamNode.ServedModel target = request.model() == null ? null : models.get(request.model());
    if (request.model() != null && target == null) {
      return Source.lazySource(() -> Source.single((SampleEvent) new SampleEvent.Rejected(
              request.requestId() != null ? request.requestId() : UUID.randomUUID().toString(),
              ErrorCode.INVALID_ARGUMENT, "model: this node serves no model '" + request.model() + "' (it serves "
                  + String.join(", ", models.keySet()) + ")", null)))
          .mapMaterializedValue(m -> NotUsed.notUsed());
    }
    ActorRef<Coordinator.Command> coordinator = target == null ? this.coordinator : target.coordinator();
    return Source.<SampleEvent, NotUsed>fromMaterializer((mat, attributes) -> {
          GenerateRequest r = request.requestId() != null ? request
              : request.withRequestId(UUID.randomUUID().toString());
          long submitted = System.nanoTime();
          boolean[] previewed = new boolean[1];
          ActorRef<RequestSession.Command> session = system.systemActorOf(
              RequestSession.create(r, coordinator, sessionSettings), "session-" + SESSIONS.incrementAndGet(),
              Props.empty());
          return ActorSource.<SampleEvent, RequestSession.Command>actorRefWithBackpressure(session,
                  RequestSession.Ack.INSTANCE, e -> Optional.empty(), e -> Optional.empty())
              .mapMaterializedValue(ref -> {
                session.tell(new RequestSession.Attach(ref));
                return NotUsed.notUsed();
              })
              .map(e -> {
                // Each materialisation is one request, and a stream stage runs one element at a time.
                if (e instanceof SampleEvent.Preview && !previewed[0]) {
                  previewed[0] = true;
                  latencies.recordFirstPreview(System.nanoTime() - submitted);
                } else if (e instanceof SampleEvent.Completed) {
                  latencies.recordResult(System.nanoTime() - submitted);
                }
                return e;
              });
        })
        .takeWhile(e -> !e.terminal(), true)
        .mapMaterializedValue(m -> NotUsed.notUsed());
  }

  /** The result of the request, or a {@link ScoreStreamException} with the typed code of its terminal event. */
  public CompletionStage<Result> generate(GenerateRequest request) {
    return submit(request).runWith(Sink.last(), system).thenApply(e -> {
      if (e instanceof SampleEvent.Completed c) return c.result();
      throw ScoreStreamException.of(e);
    });
  }

  /**
   * Cancels a running or queued request; its stream ends with Cancelled. Unknown ids are ignored. Every model's
   * coordinator is told: request ids are unique on the node, so at most one of them holds it.
   */
  public void cancel(String requestId) {
    for (ScoreStreamNode.ServedModel m : models.values()) {
      m.coordinator().tell(new Coordinator.Cancel(requestId, "cancelled by the client"));
    }
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
  }
}
