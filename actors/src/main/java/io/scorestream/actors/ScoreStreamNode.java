package io.scorestream.actors;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.ServiceKey;
import io.scorestream.config.SamplerDevice;
import io.scorestream.config.ScoreStreamSettings;
import io.scorestream.model.score.ComputeThreads;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The guardian of one node. For each model it serves (the primary one, and the extra ones of
 * {@code scorestream.extra-models}) it spawns a {@link ModelRegistry} (publishing the model as version 1), a
 * {@link Coordinator} and one {@link Sampler} per configured device on the pinned sampler dispatcher; so a batch only
 * ever holds chains of one model, and a 2-D request never waits on an image network call. When enabled it spawns
 * the {@link Trainer} of the primary model on the pinned trainer dispatcher. The node stops (and with it a system it
 * guards) if a registry or coordinator stops. State is confined to the actor.
 *
 * <p>In an Akka cluster ({@code akka.actor.provider = cluster}) the samplers register with the receptionist under
 * their model's key ({@link Sampler#serviceKey}) and each node's coordinator routes to every sampler of its model in
 * the cluster; a node spawns samplers only with the {@code sampler} role and the trainer only with the
 * {@code trainer} role ({@link NodeRoles}). Every node must serve the same models under the same names.
 */
public final class ScoreStreamNode extends AbstractBehavior<ScoreStreamNode.Command> {

  public sealed interface Command permits GetRefs {}

  /** Asks for the node's actors, e.g. to build a {@link ScoreStream} over them. */
  public record GetRefs(ActorRef<Refs> replyTo) implements Command {}

  /**
   * One served model: its actors and its signature, read from a start-up check of the model.
   *
   * @param name        what requests call it
   * @param description what it is (the registry's version 1)
   * @param shape       the shape of one sample: [D] for vectors, [C, H, W] for images
   * @param classes     the number of class labels it takes (0: unconditional)
   */
  public record ServedModel(String name, String description, ActorRef<Coordinator.Command> coordinator,
                            ActorRef<ModelRegistry.Command> registry, List<ActorRef<Sampler.Command>> samplers,
                            Sde sde, int dim, long[] shape, int classes) {
    public ServedModel {
      samplers = List.copyOf(samplers);
      shape = shape.clone();
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }
  }

  /** The node's actors: every served model (the primary one first) and the trainer. */
  public record Refs(List<ServedModel> models, Optional<ActorRef<Trainer.Command>> trainer) {
    public Refs {
      if (models.isEmpty()) throw new IllegalArgumentException("a node serves at least one model");
      models = List.copyOf(models);
    }

    /** The primary model: what requests that name no model get, and what the trainer trains. */
    public ServedModel primary() {
      return models.get(0);
    }

    /** The primary model's coordinator. */
    public ActorRef<Coordinator.Command> coordinator() {
      return primary().coordinator();
    }

    /** The primary model's registry. */
    public ActorRef<ModelRegistry.Command> registry() {
      return primary().registry();
    }

    /** The primary model's samplers. */
    public List<ActorRef<Sampler.Command>> samplers() {
      return primary().samplers();
    }

    public Sde sde() {
      return primary().sde();
    }

    public int dim() {
      return primary().dim();
    }

    public long[] shape() {
      return primary().shape();
    }

    public int classes() {
      return primary().classes();
    }
  }

  /** A node serving the models of {@code scorestream.model} and {@code scorestream.extra-models}. */
  public static Behavior<Command> create(ScoreStreamSettings settings) {
    return Behaviors.setup(ctx -> {
      Map<String, InitialModel> models = new LinkedHashMap<>();
      settings.models().forEach((name, m) -> models.put(name, InitialModel.from(m)));
      return new ScoreStreamNode(ctx, settings, models);
    });
  }

  /** A node serving the given initial model under the configured primary name (tests, embedding). */
  public static Behavior<Command> create(ScoreStreamSettings settings, InitialModel model) {
    return Behaviors.setup(ctx -> new ScoreStreamNode(ctx, settings, Map.of(settings.modelName(), model)));
  }

  /** A node serving the given models by name, the first one primary (tests, embedding). */
  public static Behavior<Command> create(ScoreStreamSettings settings, Map<String, InitialModel> models) {
    Map<String, InitialModel> copy = new LinkedHashMap<>(models);
    return Behaviors.setup(ctx -> new ScoreStreamNode(ctx, settings, copy));
  }

  private final Refs refs;

  private ScoreStreamNode(ActorContext<Command> ctx, ScoreStreamSettings settings, Map<String, InitialModel> models) {
    super(ctx);
    for (SamplerDevice d : settings.samplers()) checkDevice(d);
    if (settings.computeThreads() > 0) {
      // The BLAS library's thread count is limited too. Measured: with two BLAS threads each, a sampler and a
      // trainer oversubscribe two cores and requests take three times longer.
      ComputeThreads.limit(settings.computeThreads());
    }
    List<ServedModel> served = new ArrayList<>();
    boolean primary = true;
    for (Map.Entry<String, InitialModel> e : models.entrySet()) {
      if (!ScoreStreamSettings.MODEL_NAME.matcher(e.getKey()).matches()) {
        throw new IllegalArgumentException("model name '" + e.getKey() + "' is not lower-case letters, digits and "
            + "dashes");
      }
      served.add(serve(ctx, settings, e.getKey(), e.getValue(), primary));
      primary = false;
    }
    Optional<ActorRef<Trainer.Command>> trainer = Optional.empty();
    if (settings.trainer().enabled() && NodeRoles.has(ctx.getSystem(), NodeRoles.TRAINER)) {
      InitialModel model = models.values().iterator().next();
      if (model.weights() == null) {
        throw new IllegalArgumentException("the trainer needs a network to train; " + model.description()
            + " is analytic");
      }
      trainer = Optional.of(ctx.spawn(Trainer.create(settings.trainer(), model.weights(), model.sde(),
              served.get(0).registry()), "trainer", DispatcherSelector.fromConfig(settings.trainerDispatcher())));
    }
    this.refs = new Refs(served, trainer);
    if (NodeRoles.clustered(ctx.getSystem())) drainOnLeaving(ctx, served);
  }

  /**
   * When this member leaves the cluster (Ctrl-C, SIGTERM, a Leave), before it leaves: every local sampler hands its
   * chains back, with their states, to their coordinators, which continue them on the other members (same samples).
   */
  private static void drainOnLeaving(ActorContext<Command> ctx, List<ServedModel> served) {
    List<ActorRef<Sampler.Command>> local = served.stream().flatMap(m -> m.samplers().stream()).toList();
    if (local.isEmpty()) return;
    ActorSystem<?> system = ctx.getSystem();
    Duration timeout = Duration.ofSeconds(10);
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeClusterShutdown(),
        "scorestream-drain-samplers", () -> {
          CompletableFuture<?>[] acks = local.stream()
              .map(s -> AskPattern.<Sampler.Command, Done>ask(s, Sampler.Drain::new, timeout, system.scheduler())
                  .toCompletableFuture())
              .toArray(CompletableFuture[]::new);
          // A sampler that does not answer in time is stopped with its node; its chains restart from their seeds
          // through the coordinators' death watch instead.
          return CompletableFuture.allOf(acks).handle((x, e) -> Done.done());
        });
  }

  /** Checks the model, then spawns its registry, coordinator and samplers (the primary's under the plain names). */
  private static ServedModel serve(ActorContext<Command> ctx, ScoreStreamSettings settings, String name,
                                   InitialModel model, boolean primary) {
    InitialModel.Facts facts;
    try (ScoreModel probe = model.build()) {
      if (probe.dim() != model.dim() || !probe.sde().describe().equals(model.sde().describe())) {
        throw new IllegalArgumentException("model '" + name + "', " + probe.describe()
            + ", does not match its declared dim " + model.dim() + " and SDE " + model.sde().describe());
      }
      facts = new InitialModel.Facts(probe.shape(), probe.classes());
    }
    String suffix = primary ? "" : "-" + name;
    // In a cluster every node's coordinator finds this model's samplers, on any node, through the receptionist.
    boolean cluster = NodeRoles.clustered(ctx.getSystem());
    ServiceKey<Sampler.Command> key = cluster ? Sampler.serviceKey(name) : null;
    ActorRef<ModelRegistry.Command> registry = ctx.spawn(ModelRegistry.create(settings.registry(), name,
            model.sde()),
        "registry" + suffix);
    registry.tell(new ModelRegistry.Publish(model.description(), model.trainStep(), model.factory(), null));
    ActorRef<Coordinator.Command> coordinator =
        ctx.spawn(Coordinator.create(settings.coordinator(), model.sde(), model.dim(), model.aldSigmaRange(),
            facts.classes(), key), "coordinator" + suffix);
    ctx.watch(registry);
    ctx.watch(coordinator);
    List<ActorRef<Sampler.Command>> samplers = new ArrayList<>();
    boolean runsSamplers = NodeRoles.has(ctx.getSystem(), NodeRoles.SAMPLER);
    for (int i = 0; runsSamplers && i < settings.samplers().size(); i++) {
      SamplerDevice d = settings.samplers().get(i);
      Behavior<Sampler.Command> sampler = cluster
          ? Sampler.create(settings.sampler(), i, d, NodeRoles.address(ctx.getSystem()), key, registry)
          : Sampler.create(settings.sampler(), i, d, coordinator, registry);
      samplers.add(ctx.spawn(sampler, "sampler" + suffix + "-" + d.label(),
          DispatcherSelector.fromConfig(settings.samplerDispatcher())));
    }
    return new ServedModel(name, model.description(), coordinator, registry, samplers, model.sde(), model.dim(),
        facts.shape(), facts.classes());
  }

  private static void checkDevice(SamplerDevice d) {
    if (d.kind() != SamplerDevice.Kind.GPU) return;
    String backend = Nd4j.getBackend().getClass().getSimpleName().toLowerCase(Locale.ROOT);
    int devices = Nd4j.getAffinityManager().getNumberOfDevices();
    if (!backend.contains("cuda") || d.index() >= devices) {
      throw new IllegalArgumentException("sampler device " + d + " needs the CUDA backend with at least "
          + (d.index() + 1) + " devices (backend " + backend + ", " + devices + " devices); build with -Pcuda");
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder().onMessage(GetRefs.class, this::onGetRefs).build();
  }

  private Behavior<Command> onGetRefs(GetRefs g) {
    g.replyTo().tell(refs);
    return this;
  }
}
