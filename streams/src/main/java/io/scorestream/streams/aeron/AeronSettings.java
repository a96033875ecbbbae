package io.scorestream.streams.aeron;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;

/**
 * The Aeron gateway's settings, parsed once from {@code scorestream.aeron} (see reference.conf, where every key is
 * documented) and validated here: a bad value fails start-up naming its key. Immutable.
 *
 * @param enabled               whether {@code scorestream serve} starts the gateway
 * @param embeddedDriver        launch a media driver inside the node (SHARED threading, backing-off idle)
 * @param driverDirectory       the driver's directory; "" = a fresh one under java.io.tmpdir (deleted on close)
 * @param ingressChannels       channels the gateway subscribes to for client messages
 * @param ingressStreamId       their stream id
 * @param sharedSecret          the secret a Connect must carry; "" = none
 * @param clientLivenessTimeout a client silent this long is dropped and its requests cancelled
 * @param heartbeatInterval     how often the gateway heartbeats each client (and asks clients to)
 * @param maxMessageLength      longest message sent or accepted, in bytes; larger results go in parts
 * @param termLength            term buffer length of the embedded driver's publications, in bytes
 * @param maxClients            most open sessions; further Connects are rejected with OVERLOADED
 * @param idleMaxPark           the longest park of the gateway's idle agents
 * @param connectRate           Connects per second the gateway takes on average (each opens a publication)
 * @param connectBurst          Connects it takes at once after a quiet spell; past the rate the rest are dropped
 */
public record AeronSettings(boolean enabled, boolean embeddedDriver, String driverDirectory,
                            List<String> ingressChannels, int ingressStreamId, String sharedSecret,
                            Duration clientLivenessTimeout, Duration heartbeatInterval, int maxMessageLength,
                            int termLength, int maxClients, Duration idleMaxPark, double connectRate,
                            int connectBurst) {

  public AeronSettings {
    ingressChannels = List.copyOf(ingressChannels);
    if (driverDirectory == null) driverDirectory = "";
    if (sharedSecret == null) sharedSecret = "";
    if (!embeddedDriver && driverDirectory.isEmpty()) {
      // An external driver at Aeron's default directory.
      driverDirectory = io.aeron.CommonContext.getAeronDirectoryName();
    }
    require(!ingressChannels.isEmpty(), "ingress-channels must not be empty");
    for (String c : ingressChannels) {
      require(c != null && c.startsWith("aeron:"), "ingress-channels: '" + c + "' is not an aeron: URI");
    }
    require(positive(clientLivenessTimeout), "client-liveness-timeout must be > 0");
    require(positive(heartbeatInterval), "heartbeat-interval must be > 0");
    require(heartbeatInterval.compareTo(clientLivenessTimeout) < 0,
        "heartbeat-interval (" + heartbeatInterval + ") must be shorter than client-liveness-timeout ("
            + clientLivenessTimeout + ")");
    require(termLength >= 64 * 1024 && termLength <= 1 << 30 && Integer.bitCount(termLength) == 1,
        "term-length must be a power of two in [64k, 1g], got " + termLength);
    require(maxMessageLength >= 4096, "max-message-length must be >= 4k, got " + maxMessageLength);
    require(!embeddedDriver || maxMessageLength <= termLength / 8,
        "max-message-length (" + maxMessageLength + ") must be <= term-length / 8 (" + termLength / 8 + ")");
    require(maxClients > 0, "max-clients must be > 0");
    require(positive(idleMaxPark), "idle-max-park must be > 0");
    require(connectRate > 0 && Double.isFinite(connectRate), "connect-rate must be > 0, got " + connectRate);
    require(connectBurst >= 1, "connect-burst must be >= 1, got " + connectBurst);
  }

  /** Parses the {@code scorestream.aeron} section of config (a root configuration with reference.conf merged). */
  public static AeronSettings from(Config config) {
    Config c = config.getConfig("scorestream.aeron");
    return new AeronSettings(c.getBoolean("enabled"), c.getBoolean("embedded-driver"),
        c.getString("driver-directory"), c.getStringList("ingress-channels"), c.getInt("ingress-stream-id"),
        c.getString("shared-secret"), c.getDuration("client-liveness-timeout"), c.getDuration("heartbeat-interval"),
        bytes(c, "max-message-length"), bytes(c, "term-length"), c.getInt("max-clients"),
        c.getDuration("idle-max-park"), c.getDouble("connect-rate"), c.getInt("connect-burst"));
  }

  /** The defaults of reference.conf (and application.conf, system properties). */
  public static AeronSettings defaults() {
    return from(ConfigFactory.load());
  }

  public AeronSettings withIngressChannels(List<String> channels) {
    return new AeronSettings(enabled, embeddedDriver, driverDirectory, channels, ingressStreamId, sharedSecret,
        clientLivenessTimeout, heartbeatInterval, maxMessageLength, termLength, maxClients, idleMaxPark,
        connectRate, connectBurst);
  }

  public AeronSettings withSharedSecret(String secret) {
    return new AeronSettings(enabled, embeddedDriver, driverDirectory, ingressChannels, ingressStreamId, secret,
        clientLivenessTimeout, heartbeatInterval, maxMessageLength, termLength, maxClients, idleMaxPark,
        connectRate, connectBurst);
  }

  public AeronSettings withLiveness(Duration heartbeat, Duration livenessTimeout) {
    return new AeronSettings(enabled, embeddedDriver, driverDirectory, ingressChannels, ingressStreamId,
        sharedSecret, livenessTimeout, heartbeat, maxMessageLength, termLength, maxClients, idleMaxPark,
        connectRate, connectBurst);
  }

  public AeronSettings withMaxMessageLength(int bytes) {
    return new AeronSettings(enabled, embeddedDriver, driverDirectory, ingressChannels, ingressStreamId,
        sharedSecret, clientLivenessTimeout, heartbeatInterval, bytes, termLength, maxClients, idleMaxPark,
        connectRate, connectBurst);
  }

  public AeronSettings withConnectRate(double perSecond, int burst) {
    return new AeronSettings(enabled, embeddedDriver, driverDirectory, ingressChannels, ingressStreamId,
        sharedSecret, clientLivenessTimeout, heartbeatInterval, maxMessageLength, termLength, maxClients, idleMaxPark,
        perSecond, burst);
  }

  /** The secret is not printed. */
  @Override
  public String toString() {
    return "AeronSettings[enabled=" + enabled + ", embeddedDriver=" + embeddedDriver + ", driverDirectory="
        + driverDirectory + ", ingressChannels=" + ingressChannels + ", ingressStreamId=" + ingressStreamId
        + ", sharedSecret=" + (sharedSecret.isEmpty() ? "none" : "***") + ", clientLivenessTimeout="
        + clientLivenessTimeout + ", heartbeatInterval=" + heartbeatInterval + ", maxMessageLength="
        + maxMessageLength + ", termLength=" + termLength + ", maxClients=" + maxClients + ", idleMaxPark="
        + idleMaxPark + ", connectRate=" + connectRate + ", connectBurst=" + connectBurst + "]";
  }

  private static int bytes(Config c, String key) {
    long v = c.getBytes(key);
    require(v > 0 && v <= Integer.MAX_VALUE, key + " must be in (0, 2g), got " + v);
    return (int) v;
  }

  private static boolean positive(Duration d) {
    return d != null && !d.isNegative() && !d.isZero();
  }

  private static void require(boolean ok, String message) {
    if (!ok) throw new IllegalArgumentException("scorestream.aeron." + message);
  }
}
