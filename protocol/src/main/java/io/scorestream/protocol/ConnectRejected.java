package io.scorestream.protocol;

/** The session was refused (UNAUTHENTICATED: wrong secret; OVERLOADED: too many clients; UNAVAILABLE: stopping). */
public record ConnectRejected(long correlationId, ErrorCode code, String message) implements ServerMessage {
  public ConnectRejected {
    if (code == null) throw new IllegalArgumentException("code must not be null");
    Protocol.text(message, "message");
  }
}
