package io.scorestream.actors;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.PreRestart;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.stream.KillSwitches;
import akka.stream.UniqueKillSwitch;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Source;
import akka.stream.typed.javadsl.ActorSink;
import io.scorestream.config.TrainerSettings;
import io.scorestream.model.data.DataSource;
import io.scorestream.model.data.DataSpecs;
import io.scorestream.model.data.Normalization;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.score.WeightsSnapshot;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.Checkpoint;
import io.scorestream.model.train.Objective;
import io.scorestream.model.train.ScoreTrainer;
import io.scorestream.model.train.TrainConfig;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Online training: consumes an Akka Streams {@link Source} of batches through a backpressured sink (the next batch
 * is requested only after the optimizer step of the last one, so a fast source never piles batches up and a slow
 * one only idles this actor), takes one Adam step per batch with {@link ScoreTrainer} (which keeps the EMA),
 * publishes the EMA weights to the {@link ModelRegistry} every {@code publish-every} steps, and writes a checkpoint
 * every {@code checkpoint-every} steps (atomically). On start, and after a supervised restart, it resumes from the
 * newest checkpoint in {@code checkpoint-dir}.
 *
 * <p>Runs on its own pinned dispatcher: a step blocks the thread for tens of milliseconds and ND4J's SameDiff
 * state belongs to that thread. The trainer, its weights and its optimizer state are confined to it; published
 * weights are copies.
 */
public final class Trainer extends AbstractBehavior<Trainer.Command> {
  private static final java.util.concurrent.atomic.AtomicLong STREAMS = new java.util.concurrent.atomic.AtomicLong();

  public sealed interface Command permits Batch, StreamStarted, StreamCompleted, StreamFailed, GetStatus {}

  // Stream messages carry the id of the stream that sent them: after a restart, the stopped stream of the previous
  // incarnation may still complete into this actor, and must not end the new one's training.

  /** One training batch [batchSize][D] from the stream; the array is handed over. */
  private record Batch(long stream, double[][] rows, ActorRef<Ack> ackTo) implements Command {}

  /** The acknowledgement the stream waits for before it sends the next batch. */
  public enum Ack { INSTANCE }

  private record StreamStarted(long stream, ActorRef<Ack> ackTo) implements Command {}

  private record StreamCompleted(long stream) implements Command {}

  private record StreamFailed(long stream, Throwable cause) implements Command {}

  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  /**
   * The trainer's progress.
   *
   * @param step              optimizer steps taken in total (resumed ones included)
   * @param startStep         the step it resumed from (0 when fresh)
   * @param lastLoss          the loss of the last step (NaN before the first)
   * @param published         versions published by this incarnation
   * @param lastPublishedStep the step of the last published weights, -1 if none
   * @param lastCheckpoint    the directory of the last checkpoint written, empty if none
   * @param finished          the data stream has ended (max-steps reached)
   * @param batches           batches received by this incarnation
   */
  public record Status(long step, long startStep, double lastLoss, long published, long lastPublishedStep,
                       Optional<Path> lastCheckpoint, boolean finished, long batches) {}

  /** Where batches come from, given the step to start at and the (possibly resumed) training configuration. */
  @FunctionalInterface
  public interface BatchSource {
    Source<double[][], ?> from(long startStep, TrainConfig config);
  }

  /**
   * A trainer reading {@code settings.data()}.
   *
   * @param init initial weights (used when there is no checkpoint to resume from)
   * @param sde  the SDE of the served model
   */
  public static Behavior<Command> create(TrainerSettings settings, NetworkWeights init, Sde sde,
                                         ActorRef<ModelRegistry.Command> registry) {
    return Behaviors.setup(outer -> {
      DataSource data = DataSpecs.parse(settings.data(), settings.normalization());
      return create(settings, init, sde, registry, data,
          (start, config) -> TrainingBatches.from(data, config.seed(), config.batchSize(), start));
    });
  }

  /** A trainer over a given data source and stream of batches (the batches must have the data's width). */
  public static Behavior<Command> create(TrainerSettings settings, NetworkWeights init, Sde sde,
                                         ActorRef<ModelRegistry.Command> registry, DataSource data,
                                         BatchSource batches) {
    return Behaviors.supervise(Behaviors.<Command>setup(
            ctx -> new Trainer(ctx, settings, init, sde, registry, data, batches)))
        .onFailure(Exception.class,
            SupervisorStrategy.restart().withLimit(settings.maxRestarts(), settings.restartWindow()));
  }

  /** The data source ScoreTrainer reads: it returns the batch the stream delivered for the current step. */
  private static final class StreamFed implements DataSource {
    private final DataSource base;
    private double[][] current;

    StreamFed(DataSource base) {
      this.base = base;
    }

    @Override public int dim() { return base.dim(); }

    @Override public String describe() { return base.describe() + " (streamed)"; }

    @Override public Normalization normalization() { return base.normalization(); }

    @Override public double[][] all() { return base.all(); }

    @Override
    public double[][] batch(long seed, long step, int batchSize) {
      if (current == null || current.length != batchSize) {
        throw new IllegalStateException("no streamed batch of " + batchSize + " rows for step " + step);
      }
      return current;
    }
  }

  private final TrainerSettings settings;
  private final ActorRef<ModelRegistry.Command> registry;
  private final StreamFed feed;
  private final ScoreTrainer trainer;
  private final long startStep;
  private final long streamId = STREAMS.incrementAndGet();
  private UniqueKillSwitch killSwitch;
  private double lastLoss = Double.NaN;
  private long published;
  private long lastPublishedStep = -1;
  private long lastCheckpointStep = -1;
  private Path lastCheckpoint;
  private boolean finished;
  private long batches;

  private Trainer(ActorContext<Command> ctx, TrainerSettings settings, NetworkWeights init, Sde sde,
                  ActorRef<ModelRegistry.Command> registry, DataSource data, BatchSource batches) {
    super(ctx);
    this.settings = settings;
    this.registry = registry;
    this.feed = new StreamFed(data);
    Optional<Path> latest = settings.resume() ? Checkpoint.latest(settings.checkpointDir()) : Optional.empty();
    if (latest.isPresent()) {
      Checkpoint ckpt = Checkpoint.read(latest.get());
      this.trainer = new ScoreTrainer(ckpt.weights(), ckpt.sde(), ckpt.train(), feed, ckpt.state(), ckpt.step());
      ctx.getLog().info("trainer resumes from {} at step {}", latest.get(), ckpt.step());
      lastCheckpoint = latest.get();
      lastCheckpointStep = ckpt.step();
      publish(WeightsSnapshot.of(ckpt.ema()), "checkpoint step " + ckpt.step() + " (ema)", ckpt.step());
      ckpt.close();
    } else {
      TrainConfig config = TrainConfig.defaults(Objective.named(settings.objective()), settings.seed())
          .withBatchSize(settings.batchSize()).withLearningRate(settings.learningRate());
      this.trainer = new ScoreTrainer(init, sde, config, feed);
    }
    this.startStep = trainer.step();
    long remaining = settings.maxSteps() > 0 ? settings.maxSteps() - startStep : Long.MAX_VALUE;
    if (remaining <= 0) {
      finished = true;
      return;
    }
    Source<double[][], ?> source = batches.from(startStep, trainer.trainConfig());
    if (settings.maxSteps() > 0) source = source.take(remaining);
    long id = streamId;
    killSwitch = source.viaMat(KillSwitches.single(), Keep.right())
        .to(ActorSink.<double[][], Command, Ack>actorRefWithBackpressure(ctx.getSelf(),
            (ackTo, rows) -> new Batch(id, rows, ackTo), ackTo -> new StreamStarted(id, ackTo), Ack.INSTANCE,
            new StreamCompleted(id), cause -> new StreamFailed(id, cause)))
        .run(ctx.getSystem());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(StreamStarted.class, this::onStreamStarted)
        .onMessage(Batch.class, this::onBatch)
        .onMessage(StreamCompleted.class, this::onStreamCompleted)
        .onMessage(StreamFailed.class, this::onStreamFailed)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onSignal(PreRestart.class, signal -> onPreRestart())
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onStreamStarted(StreamStarted s) {
    if (s.stream() != streamId) return this;
    s.ackTo().tell(Ack.INSTANCE);
    return this;
  }

  private Behavior<Command> onBatch(Batch b) {
    if (b.stream() != streamId) return this;
    batches++;
    int dim = feed.dim();
    int want = trainer.trainConfig().batchSize();
    for (double[] row : b.rows()) {
      if (row.length != dim) throw new IllegalArgumentException("batch row of width " + row.length + ", data has " + dim);
    }
    if (b.rows().length != want) {
      throw new IllegalArgumentException("batch of " + b.rows().length + " rows, training takes " + want);
    }
    feed.current = b.rows();
    lastLoss = trainer.trainStep();
    feed.current = null;
    long step = trainer.step();
    // Checkpoint first: a version that samplers serve can then always be recovered after a crash.
    if (settings.checkpointEvery() > 0 && step % settings.checkpointEvery() == 0) checkpoint();
    if (step % settings.publishEvery() == 0) publishCurrent();
    b.ackTo().tell(Ack.INSTANCE);
    return this;
  }

  private Behavior<Command> onStreamCompleted(StreamCompleted c) {
    if (c.stream() != streamId) return this;
    finished = true;
    if (settings.checkpointEvery() > 0 && trainer.step() != lastCheckpointStep) checkpoint();
    if (trainer.step() != lastPublishedStep && trainer.step() > startStep) publishCurrent();
    getContext().getLog().info("training data ended at step {}", trainer.step());
    return this;
  }

  private Behavior<Command> onStreamFailed(StreamFailed f) {
    if (f.stream() != streamId) return this;
    // Restarting resumes from the newest checkpoint with a fresh stream.
    throw new IllegalStateException("training data stream failed: " + f.cause(), f.cause());
  }

  private Behavior<Command> onGetStatus(GetStatus g) {
    g.replyTo().tell(new Status(trainer.step(), startStep, lastLoss, published, lastPublishedStep,
        Optional.ofNullable(lastCheckpoint), finished, batches));
    return this;
  }

  private void publishCurrent() {
    publish(trainer.emaSnapshot(), "trainer step " + trainer.step() + " (ema)", trainer.step());
  }

  private void publish(WeightsSnapshot ema, String description, long step) {
    registry.tell(new ModelRegistry.PublishWeights(description, step, ema, trainer.sde()));
    published++;
    lastPublishedStep = step;
  }

  private void checkpoint() {
    Checkpoint c = Checkpoint.of(trainer, settings.data());
    try {
      lastCheckpoint = c.write(settings.checkpointDir());
    } finally {
      c.close();
    }
    lastCheckpointStep = trainer.step();
    Checkpoint.prune(settings.checkpointDir(), settings.keepCheckpoints());
  }

  /**
   * A clean stop (the node shutting down, Ctrl-C in the demo) keeps the steps since the last checkpoint: the next
   * start resumes exactly here. A failure does not come this way (PreRestart): its state may be what failed.
   */
  private Behavior<Command> onPostStop() {
    stopStream();
    if (settings.checkpointEvery() > 0 && trainer.step() > startStep && trainer.step() != lastCheckpointStep) {
      try {
        checkpoint();
        getContext().getLog().info("checkpoint on stop at step {}: {}", trainer.step(), lastCheckpoint);
      } catch (RuntimeException e) {
        getContext().getLog().error("checkpoint on stop at step {} failed: {}", trainer.step(), e.toString());
      }
    }
    trainer.close();
    return this;
  }

  private Behavior<Command> onPreRestart() {
    stopStream();
    trainer.close();
    return this;
  }

  private Behavior<Command> stopStream() {
    if (killSwitch != null) killSwitch.shutdown();
    return this;
  }
}
