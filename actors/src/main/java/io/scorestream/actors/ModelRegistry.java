package io.scorestream.actors;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.pubsub.Topic;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scorestream.config.RegistrySettings;
import io.scorestream.model.score.AnalyticScoreModel;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.score.NetworkConfig;
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

  public sealed interface Command
      permits Publish, PublishWeights, WeightsOffer, Subscribe, GetVersions, SubscriberTerminated, Reoffer {}

  /** Offers this member's latest trained version again, for the members that joined since (cluster mode). */
  private enum Reoffer implements Command { INSTANCE }

  /** How often a registry offers its latest trained version again in a cluster. */
  static final java.time.Duration REOFFER_EVERY = java.time.Duration.ofSeconds(5);

  /**
   * Publishes trained weights as a new current version (the trainer's EMA): on this node as {@link Publish} does,
   * and, in a cluster, offered to the registries of the same model on every other member ({@link WeightsOffer}).
   * The description names the weights' digest.
   */
  public record PublishWeights(String description, long trainStep, WeightsSnapshot weights, Sde sde)
      implements Command {}

  /**
   * Trained weights one member's registry offers the others (cluster mode, over the topic
   * {@code scorestream-weights-MODEL}): the network's architecture as JSON, its parameters by name, and their
   * digest, checked on arrival. A registry publishes an offer from another member as its own next version.
   */
  public record WeightsOffer(String model, String origin, long trainStep, String description, String digest,
                             String network, List<String> names, List<long[]> shapes, List<float[]> values)
      implements Command, ClusterMessage {}

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
    return Behaviors.setup(ctx -> new ModelRegistry(ctx, settings, null, null, null));
  }

  /**
   * The registry of the named model, whose versions are over sde; in a cluster it shares trained versions with the
   * registries of the same model on the other members.
   */
  public static Behavior<Command> create(RegistrySettings settings, String model, Sde sde) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ActorRef<Topic.Command<WeightsOffer>> topic = null;
      if (NodeRoles.clustered(ctx.getSystem())) {
        topic = ctx.spawn(Topic.create(WeightsOffer.class, "scorestream-weights-" + model), "weights-topic");
        topic.tell(Topic.subscribe(ctx.getSelf().narrow()));
        timers.startTimerWithFixedDelay(Reoffer.INSTANCE, REOFFER_EVERY);
      }
      return new ModelRegistry(ctx, settings, model, sde, topic);
    }));
  }

  private final RegistrySettings settings;
  private final String model;
  private final Sde sde;
  /** Cluster mode: the topic of this model's trained versions, and this member's name in offers. */
  private final ActorRef<Topic.Command<WeightsOffer>> topic;
  private final String origin;
  /** This member's latest trained version as offered, and the digests of every version published here. */
  private WeightsOffer lastOffer;
  private final Set<String> digests = new LinkedHashSet<>();
  private final ArrayDeque<ModelVersion> recent = new ArrayDeque<>();
  private final Set<ActorRef<ModelVersion>> subscribers = new LinkedHashSet<>();
  private long lastVersion;
  private static final ObjectMapper JSON = new ObjectMapper();

  private ModelRegistry(ActorContext<Command> ctx, RegistrySettings settings, String model, Sde sde,
                        ActorRef<Topic.Command<WeightsOffer>> topic) {
    super(ctx);
    this.settings = settings;
    this.model = model;
    this.sde = sde;
    this.topic = topic;
    this.origin = NodeRoles.address(ctx.getSystem());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Publish.class, this::onPublish)
        .onMessage(PublishWeights.class, this::onPublishWeights)
        .onMessage(WeightsOffer.class, this::onWeightsOffer)
        .onMessageEquals(Reoffer.INSTANCE, this::onReoffer)
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

  private Behavior<Command> onPublishWeights(PublishWeights p) {
    WeightsSnapshot w = p.weights();
    String digest = w.digest();
    onPublish(new Publish(p.description() + ", digest " + digest, p.trainStep(), network(w, p.sde()),
        null));
    remember(digest);
    if (topic != null) {
      List<String> names = w.names();
      lastOffer = new WeightsOffer(model, origin, p.trainStep(), p.description(), digest,
          w.config().toJson(JSON.createObjectNode()).toString(), names,
          names.stream().map(w::shape).toList(), names.stream().map(w::values).toList());
      topic.tell(Topic.publish(lastOffer));
    }
    return this;
  }

  private Behavior<Command> onReoffer() {
    if (lastOffer != null) topic.tell(Topic.publish(lastOffer));
    return this;
  }

  private void remember(String digest) {
    digests.add(digest);
    while (digests.size() > 64) digests.remove(digests.iterator().next());
  }

  /** Another member's trained version: checked against its digest, then this node's next version. */
  private Behavior<Command> onWeightsOffer(WeightsOffer o) {
    if (o.origin().equals(origin) || !o.model().equals(model) || digests.contains(o.digest())) return this;
    WeightsSnapshot w;
    try {
      w = WeightsSnapshot.of(NetworkConfig.fromJson(JSON.readTree(o.network())), o.names(), o.shapes(), o.values());
    } catch (Exception e) {
      getContext().getLog().error("model {}: refusing weights from {}: {}", model, o.origin(), e.toString());
      return this;
    }
    if (!w.digest().equals(o.digest())) {
      getContext().getLog().error("model {}: refusing weights from {}: digest {} on arrival, {} sent", model,
          o.origin(), w.digest(), o.digest());
      return this;
    }
    remember(o.digest());
    return onPublish(new Publish(o.description() + " from " + o.origin() + ", digest " + o.digest(), o.trainStep(),
        network(w, sde), null));
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
