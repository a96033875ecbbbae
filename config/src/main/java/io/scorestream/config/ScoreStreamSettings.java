package io.scorestream.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Every setting of a node, parsed once from the {@code scorestream} section (defaults and comments in
 * {@code reference.conf}). Validation happens in the records' constructors, so an instance is always consistent.
 * Immutable; safe to share between threads.
 *
 * @param model              the primary model: served at start-up under {@code modelName}, the one requests that
 *                           name no model get and the one a trainer trains
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
 * @param modelName          the primary model's name ({@link #MODEL_NAME})
 * @param extraModels        more models served beside it, by name: each gets its own registry, coordinator and one
 *                           sampler per device, so its requests are batched only with requests for it
 */
public record ScoreStreamSettings(ModelSettings model, List<SamplerDevice> samplers, SamplerSettings sampler,
                                  CoordinatorSettings coordinator, SessionSettings session,
                                  RegistrySettings registry, TrainerSettings trainer, Duration askTimeout,
                                  int computeThreads, String samplerDispatcher, String trainerDispatcher,
                                  String modelName, Map<String, ModelSettings> extraModels) {

  /** A node's model names: lower-case letters, digits and dashes, starting with a letter or digit. */
  public static final Pattern MODEL_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  /** One model, served under {@link #modelName} "default" (the settings before a node served several). */
  public ScoreStreamSettings(ModelSettings model, List<SamplerDevice> samplers, SamplerSettings sampler,
                             CoordinatorSettings coordinator, SessionSettings session, RegistrySettings registry,
                             TrainerSettings trainer, Duration askTimeout, int computeThreads,
                             String samplerDispatcher, String trainerDispatcher) {
    this(model, samplers, sampler, coordinator, session, registry, trainer, askTimeout, computeThreads,
        samplerDispatcher, trainerDispatcher, "default", Map.of());
  }

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
    checkModelName(modelName, "scorestream.model.name");
    extraModels = extraModels == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extraModels));
    for (String name : extraModels.keySet()) {
      checkModelName(name, "scorestream.extra-models." + name);
      if (name.equals(modelName)) {
        throw new IllegalArgumentException("scorestream.extra-models." + name + " has the name of the primary model");
      }
    }
    if (trainer.enabled() && model.sourceKind() == ModelSettings.SourceKind.ANALYTIC) {
      throw new IllegalArgumentException("trainer.enabled needs a trainable model: set model.source to init:SEED or "
          + "checkpoint:DIR (an analytic model cannot take trained weights)");
    }
  }

  private static void checkModelName(String name, String key) {
    if (name == null || !MODEL_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(key + ": a model name is lower-case letters, digits and dashes (at most 63), "
          + "got '" + name + "'");
    }
  }

  /** Every model the node serves, by name: the primary one first, then the extra ones in their order. */
  public Map<String, ModelSettings> models() {
    Map<String, ModelSettings> all = new LinkedHashMap<>();
    all.put(modelName, model);
    all.putAll(extraModels);
    return Collections.unmodifiableMap(all);
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
        TRAINER_DISPATCHER, c.getString("model.name"), extraModels(c));
  }

  /** {@code scorestream.extra-models}: NAME = { source, sde, dim }, each missing key taken from {@code model}. */
  private static Map<String, ModelSettings> extraModels(Config c) {
    Map<String, ModelSettings> out = new LinkedHashMap<>();
    Config extra = c.getConfig("extra-models");
    for (String name : new TreeSet<>(extra.root().keySet())) {
      Config m;
      try {
        m = extra.getConfig(ConfigUtil.joinPath(name)).withFallback(c.getConfig("model"));
      } catch (ConfigException.WrongType e) {
        // The short form: NAME = "analytic:gmm8".
        m = ConfigFactory.parseMap(Map.of("source", extra.getString(ConfigUtil.joinPath(name))))
            .withFallback(c.getConfig("model"));
      }
      out.put(name, ModelSettings.from(m));
    }
    return out;
  }

  /** The settings of {@code ConfigFactory.load()}: application.conf, system properties, reference.conf. */
  public static ScoreStreamSettings load() {
    return from(ConfigFactory.load());
  }
}
