package io.scorestream.streams.aeron;

/**
 * A token bucket: up to {@code burst} tokens, refilled at {@code ratePerSecond}; each {@link #take} spends one. Time
 * is passed in (System.nanoTime()), so tests drive it. Confined to one thread (the ingress agent).
 */
final class TokenBucket {
  private final double ratePerNano;
  private final double burst;
  private double tokens;
  private long lastNs;

  TokenBucket(double ratePerSecond, int burst, long nowNs) {
    this.ratePerNano = ratePerSecond / 1e9;
    this.burst = burst;
    this.tokens = burst;
    this.lastNs = nowNs;
  }

  /** Spends a token if there is one at nowNs. */
  boolean take(long nowNs) {
    long elapsed = nowNs - lastNs;
    if (elapsed > 0) {
      tokens = Math.min(burst, tokens + elapsed * ratePerNano);
      lastNs = nowNs;
    }
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
