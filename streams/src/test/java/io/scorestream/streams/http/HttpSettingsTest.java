package io.scorestream.streams.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** scorestream.http parses from reference.conf with safe defaults; bad values fail naming the key. */
class HttpSettingsTest {

  @Test
  void referenceDefaultsAreLoopbackWithoutToken() {
    HttpSettings s = HttpSettings.from(ConfigFactory.load());
    assertTrue(s.enabled());
    assertEquals("127.0.0.1", s.bindInterface());
    assertEquals(8080, s.port());
    assertFalse(s.authenticated());
    assertEquals(List.of(), s.allowedOrigins());
    assertEquals(64 * 1024, s.maxBodyBytes());
    assertEquals(4096, s.maxCount());
    assertEquals(10_000, s.maxSteps());
    assertEquals(Duration.ofMinutes(5), s.retentionTtl());
    assertEquals(1000, s.retentionMaxFinished());
    assertEquals(4, s.subscriberBuffer());
  }

  @Test
  void overridesApplyAndTheTokenIsNeverPrinted() {
    HttpSettings s = HttpSettings.from(ConfigFactory.parseString(
        "scorestream.http { port = 9000, bearer-token = abc123, max-body-bytes = 1m, retention.max-finished = 3 }")
        .withFallback(ConfigFactory.load()));
    assertEquals(9000, s.port());
    assertTrue(s.authenticated());
    assertEquals(1 << 20, s.maxBodyBytes());
    assertEquals(3, s.retentionMaxFinished());
    assertFalse(s.toString().contains("abc123"), s.toString());
  }

  @Test
  void badValuesNameTheirKey() {
    for (String[] bad : new String[][] {{"port = 70000", "port"}, {"max-count = 0", "max-count"},
        {"max-steps = -1", "max-steps"}, {"retention.ttl = 0s", "retention.ttl"}, {"interface = \"\"", "interface"},
        {"bearer-token = \"a b\"", "bearer-token"}, {"subscriber-buffer = 0", "subscriber-buffer"},
        {"max-body-bytes = 10", "max-body-bytes"}}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HttpSettings.from(
          ConfigFactory.parseString("scorestream.http." + bad[0]).withFallback(ConfigFactory.load())));
      assertTrue(e.getMessage().contains("scorestream.http." + bad[1]), e.getMessage());
    }
  }
}
