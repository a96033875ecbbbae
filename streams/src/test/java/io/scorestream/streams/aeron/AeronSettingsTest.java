package io.scorestream.streams.aeron;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class AeronSettingsTest {

  @Test
  void referenceConfDefaults() {
    AeronSettings s = AeronSettings.from(ConfigFactory.load());
    assertTrue(s.enabled());
    assertTrue(s.embeddedDriver());
    assertEquals("", s.driverDirectory());
    assertEquals(List.of("aeron:ipc", "aeron:udp?endpoint=127.0.0.1:40123"), s.ingressChannels());
    assertEquals(7001, s.ingressStreamId());
    assertEquals("", s.sharedSecret());
    assertEquals(Duration.ofSeconds(10), s.clientLivenessTimeout());
    assertEquals(Duration.ofSeconds(1), s.heartbeatInterval());
    assertEquals(256 << 10, s.maxMessageLength());
    assertEquals(2 << 20, s.termLength());
    assertEquals(256, s.maxClients());
    assertEquals(Duration.ofMillis(1), s.idleMaxPark());
  }

  @Test
  void overridesAndSecretNotPrinted() {
    AeronSettings s = AeronTestNode.settings("shared-secret = hunter2, ingress-channels = [\"aeron:ipc\"], "
        + "max-message-length = 64k, client-liveness-timeout = 3s, heartbeat-interval = 100ms");
    assertEquals("hunter2", s.sharedSecret());
    assertEquals(64 * 1024, s.maxMessageLength());
    assertEquals(List.of("aeron:ipc"), s.ingressChannels());
    assertFalse(s.toString().contains("hunter2"));
  }

  @Test
  void badValuesNameTheirKey() {
    String[][] bad = {
        {"ingress-channels = []", "ingress-channels"},
        {"ingress-channels = [\"udp://x\"]", "ingress-channels"},
        {"heartbeat-interval = 20s", "heartbeat-interval"},
        {"client-liveness-timeout = 0s", "client-liveness-timeout"},
        {"term-length = 100k", "term-length"},
        {"max-message-length = 4m", "max-message-length"},
        {"max-message-length = 1k", "max-message-length"},
        {"max-clients = 0", "max-clients"},
    };
    for (String[] b : bad) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AeronTestNode.settings(b[0]),
          b[0]);
      assertTrue(e.getMessage().contains("scorestream.aeron." + b[1]), e.getMessage());
    }
  }
}
