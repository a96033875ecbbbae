package io.scorestream.protocol.client;

import io.scorestream.protocol.Protocol;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

/**
 * The options of a {@link ScoreStreamClient}, Aeron style: fluent setters, then {@link #conclude()} fills the
 * defaults and validates (the client calls it). Not thread-safe; a context belongs to one client.
 *
 * <p>Transport: either an existing media driver ({@link #aeronDirectoryName(String)}, e.g. the gateway's own
 * embedded driver on the same host for {@code aeron:ipc}), or {@link #embeddedDriver(boolean) an embedded driver}
 * the client launches (and closes) for UDP to another host; that needs {@code io.aeron:aeron-driver} on the class
 * path. The egress channel is where the server publishes to this client: {@code aeron:ipc} on the same driver, or
 * {@code aeron:udp?endpoint=THIS_HOST:PORT} (port 0 picks a free port, which is resolved before connecting).
 */
public final class ClientContext {
  /** Defaults. */
  public static final long DEFAULT_HEARTBEAT_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);
  public static final long DEFAULT_SERVER_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);
  public static final long DEFAULT_CONNECT_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);
  public static final long DEFAULT_RESPONSE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

  private String aeronDirectoryName;
  private boolean embeddedDriver;
  private String ingressChannel = "aeron:ipc";
  private int ingressStreamId = Protocol.DEFAULT_INGRESS_STREAM_ID;
  private String egressChannel = "aeron:ipc";
  private int egressStreamId;
  private String secret = "";
  private String clientName = "scorestream-client";
  private long heartbeatIntervalNs = DEFAULT_HEARTBEAT_INTERVAL_NS;
  private long serverTimeoutNs = DEFAULT_SERVER_TIMEOUT_NS;
  private long connectTimeoutNs = DEFAULT_CONNECT_TIMEOUT_NS;
  private long responseTimeoutNs = DEFAULT_RESPONSE_TIMEOUT_NS;
  private int fragmentLimit = 32;
  private IdleStrategy idleStrategy;
  private ErrorHandler errorHandler;
  private boolean concluded;

  /**
   * Fills the defaults and validates: a random egress stream id in [0x10000, 2^31) when none was set (so clients
   * on one driver never share a stream), a BackoffIdleStrategy parking up to 1 ms, an error handler printing to
   * stderr. Idempotent.
   *
   * @throws IllegalArgumentException for an invalid option
   */
  public ClientContext conclude() {
    if (concluded) return this;
    require(ingressChannel != null && ingressChannel.startsWith("aeron:"), "ingressChannel must be an aeron: URI");
    require(egressChannel != null && egressChannel.startsWith("aeron:"), "egressChannel must be an aeron: URI");
    require(heartbeatIntervalNs > 0, "heartbeatIntervalNs must be > 0");
    require(serverTimeoutNs > heartbeatIntervalNs, "serverTimeoutNs must exceed heartbeatIntervalNs");
    require(connectTimeoutNs > 0 && responseTimeoutNs > 0, "timeouts must be > 0");
    require(fragmentLimit > 0, "fragmentLimit must be > 0");
    require(secret != null && clientName != null, "secret and clientName must not be null");
    require(!embeddedDriver || aeronDirectoryName == null || !aeronDirectoryName.isEmpty(),
        "aeronDirectoryName must not be empty");
    if (egressStreamId == 0) egressStreamId = ThreadLocalRandom.current().nextInt(0x10000, Integer.MAX_VALUE);
    if (idleStrategy == null) idleStrategy = new BackoffIdleStrategy(1, 1, 1_000, TimeUnit.MILLISECONDS.toNanos(1));
    if (errorHandler == null) errorHandler = t -> System.err.println("scorestream client: " + t);
    concluded = true;
    return this;
  }

  private static void require(boolean ok, String message) {
    if (!ok) throw new IllegalArgumentException(message);
  }

  /** The media driver directory to use (null: Aeron's default, or a fresh one for the embedded driver). */
  public String aeronDirectoryName() {
    return aeronDirectoryName;
  }

  public ClientContext aeronDirectoryName(String dir) {
    this.aeronDirectoryName = dir;
    return this;
  }

  /** Whether the client launches its own media driver (SHARED threading, backoff idle) and closes it. */
  public boolean embeddedDriver() {
    return embeddedDriver;
  }

  public ClientContext embeddedDriver(boolean on) {
    this.embeddedDriver = on;
    return this;
  }

  /** The gateway's ingress channel (one of its {@code scorestream.aeron.ingress-channels}). */
  public String ingressChannel() {
    return ingressChannel;
  }

  public ClientContext ingressChannel(String channel) {
    this.ingressChannel = channel;
    return this;
  }

  public int ingressStreamId() {
    return ingressStreamId;
  }

  public ClientContext ingressStreamId(int id) {
    this.ingressStreamId = id;
    return this;
  }

  /** Where the server publishes to this client. */
  public String egressChannel() {
    return egressChannel;
  }

  public ClientContext egressChannel(String channel) {
    this.egressChannel = channel;
    return this;
  }

  /** The egress stream id; 0 (default): a random one at {@link #conclude()}. */
  public int egressStreamId() {
    return egressStreamId;
  }

  public ClientContext egressStreamId(int id) {
    this.egressStreamId = id;
    return this;
  }

  public String secret() {
    return secret;
  }

  /** The gateway's shared secret ("" when it has none). */
  public ClientContext secret(String s) {
    this.secret = s;
    return this;
  }

  public String clientName() {
    return clientName;
  }

  public ClientContext clientName(String name) {
    this.clientName = name;
    return this;
  }

  /** How often the client heartbeats when it has nothing else to send (the server may ask for more often). */
  public long heartbeatIntervalNs() {
    return heartbeatIntervalNs;
  }

  public ClientContext heartbeatIntervalNs(long ns) {
    this.heartbeatIntervalNs = ns;
    return this;
  }

  /** A server silent this long is lost: pending requests fail with {@link ClientException}. */
  public long serverTimeoutNs() {
    return serverTimeoutNs;
  }

  public ClientContext serverTimeoutNs(long ns) {
    this.serverTimeoutNs = ns;
    return this;
  }

  /** How long {@link ScoreStreamClient#connect()} waits for ConnectAck. */
  public long connectTimeoutNs() {
    return connectTimeoutNs;
  }

  public ClientContext connectTimeoutNs(long ns) {
    this.connectTimeoutNs = ns;
    return this;
  }

  /** How long {@link ScoreStreamClient#status()} waits for Status. */
  public long responseTimeoutNs() {
    return responseTimeoutNs;
  }

  public ClientContext responseTimeoutNs(long ns) {
    this.responseTimeoutNs = ns;
    return this;
  }

  /** Most fragments one duty cycle reads. */
  public int fragmentLimit() {
    return fragmentLimit;
  }

  public ClientContext fragmentLimit(int n) {
    this.fragmentLimit = n;
    return this;
  }

  /** The polling thread's idle strategy (default: back off to 1 ms parks; never busy-spin on small hosts). */
  public IdleStrategy idleStrategy() {
    return idleStrategy;
  }

  public ClientContext idleStrategy(IdleStrategy s) {
    this.idleStrategy = s;
    return this;
  }

  /** Receives errors of the polling thread, listeners' exceptions and the server's ProtocolErrors. */
  public ErrorHandler errorHandler() {
    return errorHandler;
  }

  public ClientContext errorHandler(ErrorHandler h) {
    this.errorHandler = h;
    return this;
  }

  @Override
  public String toString() {
    return "ClientContext[aeronDirectoryName=" + aeronDirectoryName + ", embeddedDriver=" + embeddedDriver
        + ", ingress=" + ingressChannel + "/" + ingressStreamId + ", egress=" + egressChannel + "/" + egressStreamId
        + ", clientName=" + clientName + "]";
  }
}
