package io.scorestream.actors;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import io.scorestream.config.RegistrySettings;
import io.scorestream.model.score.AnalyticScoreModel;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.score.WeightsSnapshot;
import io.scorestream.model.sde.Sde;
import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The model registry: the current and recent model versions, numbered 1, 2, ... in publication order. Every
 * {@link Publish} becomes the current version and is pushed to every subscriber (the samplers, which swap weights
 * at their next step boundary). A version carries a {@link ModelFactory} over an immutable snapshot (e.g. the
 * trainer's EMA weights copied out of the optimizer), so each sampler builds its own {@link ScoreModel} on its own
 * thread. State is confined to the actor.
 */
public final class ModelRegistry extends AbstractBehavior<ModelRegistry.Command> {

  /**
   * Builds a fresh score model from an immutable snapshot. Called on the thread of the actor that will own the
   * model (a sampler), possibly by several actors, so it must not mutate what it captured.
   */
  @FunctionalInterface
  public interface ModelFactory {
    ScoreModel create();
  }

  /**
   * A published model version.
   *
   * @param version     1, 2, ... in publication order
   * @param description where it comes from, e.g. {@code trainer step 400 (ema)}
   * @param trainStep   the optimizer step of trained weights, -1 for models that were not trained here
   * @param factory     builds the model on the caller's thread
   */
  public record ModelVersion(long version, String description, long trainStep, ModelFactory factory) {}

  public sealed interface Command permits Publish, Subscribe, GetVersions, SubscriberTerminated {}

  /**
   * Publishes a new current version.
   *
   * @param replyTo gets the numbered version once it is current and pushed to every subscriber; may be null
   */
  public record Publish(String description, long trainStep, ModelFactory factory, ActorRef<ModelVersion> replyTo)
      implements Command {}

  /** Subscribes to new versions; the current one, if any, is sent at once. Subscribing twice is harmless. */
  public record Subscribe(ActorRef<ModelVersion> subscriber) implements Command {}

  /** Asks for the current and recent versions. */
  public record GetVersions(ActorRef<Versions> replyTo) implements Command {}

  /** The current version (empty before the first publication) and the recent ones, oldest first. */
  public record Versions(Optional<ModelVersion> current, List<ModelVersion> recent) {}

  private record SubscriberTerminated(ActorRef<ModelVersion> subscriber) implements Command {}

  /** A factory over the exact score of a Gaussian mixture (the oracle). */
  public static ModelFactory analytic(GaussianMixture mixture, Sde sde) {
    return () -> new AnalyticScoreModel(mixture, sde);
  }

  /**
   * A factory over a heap snapshot of a network's weights (any {@link io.scorestream.model.score.NetworkConfig}): each
   * model it builds has native arrays of its own, freed when its sampler closes it, so a version that nobody serves
   * holds no native memory.
   */
  public static ModelFactory network(WeightsSnapshot weights, Sde sde) {
    return () -> weights.model(sde);
  }

  /** {@link #network(WeightsSnapshot, Sde)} over a copy of weights (which are not retained). */
  public static ModelFactory network(NetworkWeights weights, Sde sde) {
    return network(WeightsSnapshot.of(weights), sde);
  }

  public static Behavior<Command> create(RegistrySettings settings) {
    return Behaviors.setup(ctx -> new ModelRegistry(ctx, settings));
  }

  private final RegistrySettings settings;
  private final ArrayDeque<ModelVersion> recent = new ArrayDeque<>();
  private final Set<ActorRef<ModelVersion>> subscribers = new LinkedHashSet<>();
  private long lastVersion;

  private ModelRegistry(ActorContext<Command> ctx, RegistrySettings settings) {
    super(ctx);
    this.settings = settings;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Publish.class, this::onPublish)
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(GetVersions.class, this::onGetVersions)
        .onMessage(SubscriberTerminated.class, this::onSubscriberTerminated)
        .build();
  }

  private Behavior<Command> onPublish(Publish p) {
    ModelVersion v = new ModelVersion(++lastVersion, p.description(), p.trainStep(), p.factory());
    recent.addLast(v);
    while (recent.size() > settings.keepVersions()) recent.removeFirst();
    getContext().getLog().info("model version {} published: {}", v.version(), v.description());
    for (ActorRef<ModelVersion> s : subscribers) s.tell(v);
    if (p.replyTo() != null) p.replyTo().tell(v);
    return this;
  }

  private Behavior<Command> onSubscribe(Subscribe s) {
    if (subscribers.add(s.subscriber())) {
      getContext().watchWith(s.subscriber(), new SubscriberTerminated(s.subscriber()));
    }
    if (!recent.isEmpty()) s.subscriber().tell(recent.getLast());
    return this;
  }

  private Behavior<Command> onGetVersions(GetVersions g) {
    g.replyTo().tell(new Versions(Optional.ofNullable(recent.peekLast()), List.copyOf(recent)));
    return this;
  }

  private Behavior<Command> onSubscriberTerminated(SubscriberTerminated t) {
    subscribers.remove(t.subscriber());
    return this;
  }
}
