package io.scorestream.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;

/**
 * Every setting of a node, parsed once from the {@code scorestream} section (defaults and comments in
 * {@code reference.conf}). Validation happens in the records' constructors, so an instance is always consistent.
 * Immutable; safe to share between threads.
 *
 * @param model              the model served at start-up
 * @param samplers           one device per Sampler actor, at least one, no duplicates
 * @param sampler            batching and supervision of every sampler
 * @param coordinator        admission, validation, routing
 * @param session            request sessions
 * @param registry           the model registry
 * @param trainer            online training
 * @param askTimeout         timeout of the in-process API's asks, > 0
 * @param computeThreads     threads ND4J may use per operation, >= 0 (0: ND4J's default)
 * @param samplerDispatcher  config path of the samplers' (pinned) dispatcher
 * @param trainerDispatcher  config path of the trainer's (pinned) dispatcher
 */
public record ScoreStreamSettings(ModelSettings model, List<SamplerDevice> samplers, SamplerSettings sampler,
                                  CoordinatorSettings coordinator, SessionSettings session,
                                  RegistrySettings registry, TrainerSettings trainer, Duration askTimeout,
                                  int computeThreads, String samplerDispatcher, String trainerDispatcher) {

  /** The config path of the samplers' dispatcher in reference.conf. */
  public static final String SAMPLER_DISPATCHER = "scorestream.sampler-dispatcher";
  /** The config path of the trainer's dispatcher in reference.conf. */
  public static final String TRAINER_DISPATCHER = "scorestream.trainer-dispatcher";

  public ScoreStreamSettings {
    if (model == null || sampler == null || coordinator == null || session == null || registry == null
        || trainer == null) {
      throw new IllegalArgumentException("every settings section is required");
    }
    if (samplers == null || samplers.isEmpty()) throw new IllegalArgumentException("scorestream.samplers is empty");
    samplers = List.copyOf(samplers);
    if (samplers.stream().distinct().count() != samplers.size()) {
      throw new IllegalArgumentException("scorestream.samplers lists a device twice: " + samplers);
    }
    if (askTimeout == null || askTimeout.isZero() || askTimeout.isNegative()) {
      throw new IllegalArgumentException("scorestream.ask-timeout must be > 0, got " + askTimeout);
    }
    if (computeThreads < 0) {
      throw new IllegalArgumentException("scorestream.compute-threads must be >= 0, got " + computeThreads);
    }
    if (trainer.enabled() && model.sourceKind() == ModelSettings.SourceKind.ANALYTIC) {
      throw new IllegalArgumentException("trainer.enabled needs a trainable model: set model.source to init:SEED or "
          + "checkpoint:DIR (an analytic model cannot take trained weights)");
    }
  }

  /** Reads the {@code scorestream} section of a full configuration (one with reference.conf merged in). */
  public static ScoreStreamSettings from(Config root) {
    Config c = root.getConfig("scorestream");
    List<SamplerDevice> devices = c.getStringList("samplers").stream().map(SamplerDevice::parse).toList();
    return new ScoreStreamSettings(ModelSettings.from(c.getConfig("model")), devices,
        SamplerSettings.from(c.getConfig("sampler")), CoordinatorSettings.from(c.getConfig("coordinator")),
        SessionSettings.from(c.getConfig("session")), RegistrySettings.from(c.getConfig("registry")),
        TrainerSettings.from(c.getConfig("trainer")), c.getDuration("ask-timeout"), c.getInt("compute-threads"),
        SAMPLER_DISPATCHER,
        TRAINER_DISPATCHER);
  }

  /** The settings of {@code ConfigFactory.load()}: application.conf, system properties, reference.conf. */
  public static ScoreStreamSettings load() {
    return from(ConfigFactory.load());
  }
}
