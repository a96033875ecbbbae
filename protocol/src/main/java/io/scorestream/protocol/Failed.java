package io.scorestream.protocol;

/** The request was accepted but failed (DEADLINE_EXCEEDED, NON_FINITE, INTERNAL, UNAVAILABLE, TOO_LARGE). */
public record Failed(long sessionId, long requestId, ErrorCode code, String message) implements Terminal {
  public Failed {
    if (code == null) throw new IllegalArgumentException("code must not be null");
    Protocol.text(message, "message");
  }
}
