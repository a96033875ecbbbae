package io.scorestream.protocol;

/**
 * The request was refused at admission and changed nothing.
 *
 * @param retryAfterNs for OVERLOADED, when a retry may succeed; 0: no hint
 */
public record Rejected(long sessionId, long requestId, ErrorCode code, String message, long retryAfterNs)
    implements Terminal {
  public Rejected {
    if (code == null) throw new IllegalArgumentException("code must not be null");
    Protocol.text(message, "message");
  }
}
