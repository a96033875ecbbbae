package io.scorestream.protocol;

/**
 * Ends a session, sent both ways: from a client that closes, or from a server that drops the client or stops. The
 * server cancels the session's running requests.
 */
public record Disconnect(long sessionId, String reason) implements ClientMessage, ServerMessage {
  public Disconnect {
    Protocol.text(reason, "reason");
  }
}
