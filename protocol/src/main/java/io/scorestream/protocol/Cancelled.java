package io.scorestream.protocol;

/** The request was cancelled (by its client, or because its client was dropped). */
public record Cancelled(long sessionId, long requestId, String reason) implements Terminal {
  public Cancelled {
    Protocol.text(reason, "reason");
  }
}
