package io.scorestream.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScoreStreamSettingsTest {

  private static Config with(String overrides) {
    return ConfigFactory.parseString(overrides).withFallback(ConfigFactory.defaultReference()).resolve();
  }

  @Test
  void referenceDefaultsParse() {
    ScoreStreamSettings s = ScoreStreamSettings.from(ConfigFactory.defaultReference());
    assertEquals(List.of(new SamplerDevice(SamplerDevice.Kind.CPU, 0)), s.samplers());
    assertEquals(Batching.CONTINUOUS, s.sampler().batching());
    assertEquals(4096, s.sampler().maxBatchRows());
    assertEquals(256, s.coordinator().queueBound());
    assertEquals(Duration.ofSeconds(60), s.coordinator().defaultDeadline());
    assertEquals(ModelSettings.SourceKind.ANALYTIC, s.model().sourceKind());
    assertEquals("gmm8", s.model().sourceArgument());
    assertFalse(s.trainer().enabled());
    assertEquals("PinnedDispatcher", ConfigFactory.defaultReference().getString("scorestream.sampler-dispatcher.type"));
  }

  @Test
  void exampleApplicationConfParses() {
    Config example = ConfigFactory.parseResources("application.example.conf")
        .withFallback(ConfigFactory.defaultReference()).resolve();
    ScoreStreamSettings s = ScoreStreamSettings.from(example);
    assertTrue(s.trainer().enabled());
    assertEquals(ModelSettings.SourceKind.INIT, s.model().sourceKind());
    assertEquals(200, s.trainer().publishEvery());
  }

  @Test
  void badValuesNameTheirKey() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ScoreStreamSettings.from(with("scorestream.sampler.max-batch-rows = 0")));
    assertTrue(e.getMessage().contains("max-batch-rows"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ScoreStreamSettings.from(with("scorestream.sampler.max-message-values = 0")));
    assertTrue(e.getMessage().contains("max-message-values"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ScoreStreamSettings.from(with("scorestream.sampler.batching = dynamic")));
    assertTrue(e.getMessage().contains("batching"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ScoreStreamSettings.from(with("scorestream.samplers = [\"tpu:0\"]")));
    assertTrue(e.getMessage().contains("cpu:N"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ScoreStreamSettings.from(with("scorestream.samplers = [\"cpu:0\", \"cpu:0\"]")));
    assertTrue(e.getMessage().contains("twice"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ScoreStreamSettings.from(with("scorestream.coordinator.default-deadline = 20m")));
    assertTrue(e.getMessage().contains("max-deadline"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ScoreStreamSettings.from(with("scorestream.model.source = \"init:abc\"")));
    assertTrue(e.getMessage().contains("seed"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ScoreStreamSettings.from(with("scorestream.trainer.enabled = true")));
    assertTrue(e.getMessage().contains("analytic"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ScoreStreamSettings.from(with("scorestream.trainer.objective = mse")));
    assertTrue(e.getMessage().contains("objective"), e.getMessage());
  }

  @Test
  void extraModelsParseInBothFormsAndTakeMissingKeysFromThePrimary() {
    ScoreStreamSettings s = ScoreStreamSettings.from(with("scorestream.model { source = \"checkpoint:/m\", sde = ve }\n"
        + "scorestream.extra-models { points = \"analytic:gmm8\", fresh { source = \"init:3\", dim = 5 } }"));
    assertEquals(List.of("default", "fresh", "points"), List.copyOf(s.models().keySet()));
    assertEquals(new ModelSettings("analytic:gmm8", "ve", 2), s.extraModels().get("points"));
    assertEquals(new ModelSettings("init:3", "ve", 5), s.extraModels().get("fresh"));
    assertTrue(ScoreStreamSettings.from(with("")).extraModels().isEmpty());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> ScoreStreamSettings.from(
        with("scorestream.extra-models { \"Big_Name\" = \"analytic:gmm8\" }")));
    assertTrue(bad.getMessage().contains("scorestream.extra-models.Big_Name"), bad.getMessage());
    IllegalArgumentException clash = assertThrows(IllegalArgumentException.class, () -> ScoreStreamSettings.from(
        with("scorestream.extra-models { default = \"analytic:gmm8\" }")));
    assertTrue(clash.getMessage().contains("primary"), clash.getMessage());
    IllegalArgumentException source = assertThrows(IllegalArgumentException.class, () -> ScoreStreamSettings.from(
        with("scorestream.extra-models { p = \"gmm8\" }")));
    assertTrue(source.getMessage().contains("model.source"), source.getMessage());
  }

  @Test
  void devicesParse() {
    assertEquals(new SamplerDevice(SamplerDevice.Kind.GPU, 1), SamplerDevice.parse("GPU:1"));
    assertEquals("cpu-3", SamplerDevice.parse("cpu:3").label());
    assertThrows(IllegalArgumentException.class, () -> SamplerDevice.parse("cpu:-1"));
    assertThrows(IllegalArgumentException.class, () -> SamplerDevice.parse("cpu"));
  }
}
