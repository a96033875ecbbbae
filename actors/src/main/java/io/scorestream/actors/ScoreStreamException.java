package io.scorestream.actors;

import java.time.Duration;
import java.util.Optional;

/**
 * How {@link ScoreStream#generate} reports a request that did not complete: the typed code and message of the
 * terminal event, and the retry hint of OVERLOADED rejections.
 */
public final class ScoreStreamException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;
  private final String detail;
  private final transient Duration retryAfter;

  public ScoreStreamException(ErrorCode code, String message) {
    this(code, message, null);
  }

  public ScoreStreamException(ErrorCode code, String message, Duration retryAfter) {
    super(code + ": " + message);
    this.code = code;
    this.detail = message;
    this.retryAfter = retryAfter;
  }

  public ErrorCode code() {
    return code;
  }

  /** The message without the code. */
  public String detail() {
    return detail;
  }

  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  /** The exception for a terminal event other than Completed. */
  static ScoreStreamException of(SampleEvent terminal) {
    if (terminal instanceof SampleEvent.Failed f) return new ScoreStreamException(f.code(), f.message());
    if (terminal instanceof SampleEvent.Rejected r) {
      return new ScoreStreamException(r.code(), r.message(), r.retryAfter());
    }
    if (terminal instanceof SampleEvent.Cancelled c) return new ScoreStreamException(ErrorCode.CANCELLED, c.reason());
    return new ScoreStreamException(ErrorCode.INTERNAL, "stream ended with " + terminal);
  }
}
