package io.scorestream.streams.http;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.List;

/**
 * {@code scorestream.http}: the knobs of the HTTP gateway (defaults and comments in the streams module's
 * reference.conf). Validated in the constructor, so an instance is always usable. Immutable; any thread.
 *
 * @param enabled              whether {@code scorestream serve} starts the gateway ({@link HttpGateway#start} does
 *                             not read it)
 * @param bindInterface        the interface to bind (config key {@code interface}); loopback by default
 * @param port                 the TCP port; 0 picks a free one (see {@link HttpGateway#port()})
 * @param bearerToken          when non-empty, every /v1 route and /metrics need {@code Authorization: Bearer TOKEN}
 * @param allowedOrigins       origins, besides the gateway's own, whose pages may open event streams; "*": any
 * @param maxBodyBytes         largest request body accepted, in bytes
 * @param maxCount             largest {@code count} of one request (the node's own limit also applies)
 * @param maxSteps             most {@code steps} of one request (the node's own limit also applies)
 * @param retentionTtl         how long a finished request stays readable (status, result, late subscribers)
 * @param retentionMaxFinished most finished requests kept; past it the oldest is forgotten first
 * @param askTimeout           how long a route waits for the node or the gateway's actors
 * @param subscriberBuffer     events in flight per subscriber between its request's session and its connection;
 *                             past it the session conflates that subscriber's previews
 * @param streamKeepAlive      an idle event stream gets a keep-alive this often (SSE comment, WebSocket ping)
 * @param maxConnections       open connections at most; one more is answered 503 and closed at once
 * @param headerTimeout        a new connection must complete its first request's header within this, or is closed
 * @param idleTimeout          a connection with no traffic either way for this long is closed (event streams send
 *                             keep-alives, so this must exceed {@code stream-keep-alive})
 */
public record HttpSettings(boolean enabled, String bindInterface, int port, String bearerToken,
                           List<String> allowedOrigins, long maxBodyBytes, int maxCount, int maxSteps,
                           Duration retentionTtl, int retentionMaxFinished, Duration askTimeout, int subscriberBuffer,
                           Duration streamKeepAlive, int maxConnections, Duration headerTimeout,
                           Duration idleTimeout) {

  public HttpSettings {
    if (bindInterface == null || bindInterface.isBlank()) {
      throw new IllegalArgumentException("scorestream.http.interface must not be empty");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("scorestream.http.port must be in [0, 65535], got " + port);
    }
    bearerToken = bearerToken == null ? "" : bearerToken;
    if (!bearerToken.equals(bearerToken.strip()) || bearerToken.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("scorestream.http.bearer-token must not contain white space");
    }
    allowedOrigins = allowedOrigins == null ? List.of() : List.copyOf(allowedOrigins);
    if (maxBodyBytes < 64) {
      throw new IllegalArgumentException("scorestream.http.max-body-bytes must be >= 64, got " + maxBodyBytes);
    }
    if (maxCount < 1) throw new IllegalArgumentException("scorestream.http.max-count must be >= 1, got " + maxCount);
    if (maxSteps < 1) throw new IllegalArgumentException("scorestream.http.max-steps must be >= 1, got " + maxSteps);
    requirePositive(retentionTtl, "retention.ttl");
    if (retentionMaxFinished < 0) {
      throw new IllegalArgumentException("scorestream.http.retention.max-finished must be >= 0, got "
          + retentionMaxFinished);
    }
    requirePositive(askTimeout, "ask-timeout");
    if (subscriberBuffer < 1) {
      throw new IllegalArgumentException("scorestream.http.subscriber-buffer must be >= 1, got " + subscriberBuffer);
    }
    requirePositive(streamKeepAlive, "stream-keep-alive");
    if (maxConnections < 1) {
      throw new IllegalArgumentException("scorestream.http.max-connections must be >= 1, got " + maxConnections);
    }
    requirePositive(headerTimeout, "header-timeout");
    requirePositive(idleTimeout, "idle-timeout");
    if (idleTimeout.compareTo(streamKeepAlive) <= 0) {
      throw new IllegalArgumentException("scorestream.http.idle-timeout (" + idleTimeout + ") must exceed "
          + "stream-keep-alive (" + streamKeepAlive + "), or idle event streams are cut");
    }
  }

  /** Reads the {@code scorestream.http} section of a full configuration (reference.conf merged in). */
  public static HttpSettings from(Config root) {
    Config c = root.getConfig("scorestream.http");
    return new HttpSettings(c.getBoolean("enabled"), c.getString("interface"), c.getInt("port"),
        c.getString("bearer-token"), c.getStringList("allowed-origins"), c.getBytes("max-body-bytes"),
        c.getInt("max-count"), c.getInt("max-steps"), c.getDuration("retention.ttl"),
        c.getInt("retention.max-finished"), c.getDuration("ask-timeout"), c.getInt("subscriber-buffer"),
        c.getDuration("stream-keep-alive"), c.getInt("max-connections"), c.getDuration("header-timeout"),
        c.getDuration("idle-timeout"));
  }

  /** Whether requests must carry the bearer token. */
  public boolean authenticated() {
    return !bearerToken.isEmpty();
  }

  /** A copy bound to another port (0: any free one). */
  public HttpSettings withPort(int p) {
    return new HttpSettings(enabled, bindInterface, p, bearerToken, allowedOrigins, maxBodyBytes, maxCount, maxSteps,
        retentionTtl, retentionMaxFinished, askTimeout, subscriberBuffer, streamKeepAlive, maxConnections, headerTimeout,
        idleTimeout);
  }

  /** A copy with another bearer token ("" turns authentication off). */
  public HttpSettings withBearerToken(String token) {
    return new HttpSettings(enabled, bindInterface, port, token, allowedOrigins, maxBodyBytes, maxCount, maxSteps,
        retentionTtl, retentionMaxFinished, askTimeout, subscriberBuffer, streamKeepAlive, maxConnections, headerTimeout,
        idleTimeout);
  }

  /** A copy with other finished-request retention. */
  public HttpSettings withRetention(Duration ttl, int maxFinished) {
    return new HttpSettings(enabled, bindInterface, port, bearerToken, allowedOrigins, maxBodyBytes, maxCount,
        maxSteps, ttl, maxFinished, askTimeout, subscriberBuffer, streamKeepAlive, maxConnections, headerTimeout,
        idleTimeout);
  }

  /** A copy with other connection limits (flood protection). */
  public HttpSettings withConnections(int max, Duration header, Duration idle) {
    return new HttpSettings(enabled, bindInterface, port, bearerToken, allowedOrigins, maxBodyBytes, maxCount,
        maxSteps, retentionTtl, retentionMaxFinished, askTimeout, subscriberBuffer, streamKeepAlive, max, header,
        idle);
  }

  @Override
  public String toString() {
    // Never print the token itself.
    return "HttpSettings[enabled=" + enabled + ", interface=" + bindInterface + ", port=" + port + ", bearerToken="
        + (authenticated() ? "(set)" : "(none)") + ", allowedOrigins=" + allowedOrigins + ", maxBodyBytes="
        + maxBodyBytes + ", maxCount=" + maxCount + ", maxSteps=" + maxSteps + ", retentionTtl=" + retentionTtl
        + ", retentionMaxFinished=" + retentionMaxFinished + ", askTimeout=" + askTimeout + ", subscriberBuffer="
        + subscriberBuffer + ", streamKeepAlive=" + streamKeepAlive + ", maxConnections=" + maxConnections
        + ", headerTimeout=" + headerTimeout + ", idleTimeout=" + idleTimeout + "]";
  }

  private static void requirePositive(Duration d, String key) {
    if (d == null || d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException("scorestream.http." + key + " must be > 0, got " + d);
    }
  }
}
