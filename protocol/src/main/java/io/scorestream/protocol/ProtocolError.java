package io.scorestream.protocol;

/** A frame the receiver refused (malformed or unexpected); nothing else changed. sessionId 0: unknown. */
public record ProtocolError(long sessionId, ProtocolErrorCode code, String message) implements ServerMessage {
  public ProtocolError {
    if (code == null) throw new IllegalArgumentException("code must not be null");
    Protocol.text(message, "message");
  }
}
