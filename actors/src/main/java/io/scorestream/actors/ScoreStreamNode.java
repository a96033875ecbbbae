package io.scorestream.actors;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import io.scorestream.config.SamplerDevice;
import io.scorestream.config.ScoreStreamSettings;
import io.scorestream.model.score.ComputeThreads;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The guardian of one node: spawns the {@link ModelRegistry} (publishing the initial model as version 1), the
 * {@link Coordinator}, one {@link Sampler} per configured device on the pinned sampler dispatcher, and, when
 * enabled, the {@link Trainer} on the pinned trainer dispatcher. The node stops (and with it a system it guards) if
 * its registry or coordinator stops. State is confined to the actor.
 */
public final class ScoreStreamNode extends AbstractBehavior<ScoreStreamNode.Command> {

  public sealed interface Command permits GetRefs {}

  /** Asks for the node's actors, e.g. to build a {@link ScoreStream} over them. */
  public record GetRefs(ActorRef<Refs> replyTo) implements Command {}

  /** The node's actors and the signature of the served model. */
  public record Refs(ActorRef<Coordinator.Command> coordinator, ActorRef<ModelRegistry.Command> registry,
                     List<ActorRef<Sampler.Command>> samplers, Optional<ActorRef<Trainer.Command>> trainer, Sde sde,
                     int dim, long[] shape, int classes) {
    public Refs {
      samplers = List.copyOf(samplers);
      shape = shape.clone();
    }
  }

  /** A node serving the model of {@code scorestream.model}. */
  public static Behavior<Command> create(ScoreStreamSettings settings) {
    return Behaviors.setup(ctx -> new ScoreStreamNode(ctx, settings, InitialModel.from(settings.model())));
  }

  /** A node serving the given initial model (tests, embedding). */
  public static Behavior<Command> create(ScoreStreamSettings settings, InitialModel model) {
    return Behaviors.setup(ctx -> new ScoreStreamNode(ctx, settings, model));
  }

  private final Refs refs;

  private ScoreStreamNode(ActorContext<Command> ctx, ScoreStreamSettings settings, InitialModel model) {
    super(ctx);
    InitialModel.Facts facts;
    try (ScoreModel probe = model.build()) {
      if (probe.dim() != model.dim() || !probe.sde().describe().equals(model.sde().describe())) {
        throw new IllegalArgumentException("initial model " + probe.describe() + " does not match its declared dim "
            + model.dim() + " and SDE " + model.sde().describe());
      }
      facts = new InitialModel.Facts(probe.shape(), probe.classes());
    }
    for (SamplerDevice d : settings.samplers()) checkDevice(d);
    if (settings.computeThreads() > 0) {
      // The BLAS library's thread count is limited too. Measured: with two BLAS threads each, a sampler and a
      // trainer oversubscribe two cores and requests take three times longer.
      ComputeThreads.limit(settings.computeThreads());
    }
    ActorRef<ModelRegistry.Command> registry = ctx.spawn(ModelRegistry.create(settings.registry()), "registry");
    registry.tell(new ModelRegistry.Publish(model.description(), model.trainStep(), model.factory(), null));
    ActorRef<Coordinator.Command> coordinator =
        ctx.spawn(Coordinator.create(settings.coordinator(), model.sde(), model.dim(), model.aldSigmaRange(),
            facts.classes()), "coordinator");
    ctx.watch(registry);
    ctx.watch(coordinator);
    List<ActorRef<Sampler.Command>> samplers = new ArrayList<>();
    for (int i = 0; i < settings.samplers().size(); i++) {
      SamplerDevice d = settings.samplers().get(i);
      samplers.add(ctx.spawn(Sampler.create(settings.sampler(), i, d, coordinator, registry), "sampler-" + d.label(),
          DispatcherSelector.fromConfig(settings.samplerDispatcher())));
    }
    Optional<ActorRef<Trainer.Command>> trainer = Optional.empty();
    if (settings.trainer().enabled()) {
      if (model.weights() == null) {
        throw new IllegalArgumentException("the trainer needs a network to train; " + model.description()
            + " is analytic");
      }
      trainer = Optional.of(ctx.spawn(Trainer.create(settings.trainer(), model.weights(), model.sde(), registry),
          "trainer", DispatcherSelector.fromConfig(settings.trainerDispatcher())));
    }
    this.refs = new Refs(coordinator, registry, samplers, trainer, model.sde(), model.dim(), facts.shape(),
        facts.classes());
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
