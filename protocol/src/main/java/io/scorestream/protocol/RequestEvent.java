package io.scorestream.protocol;

/**
 * An event of one request of a session, in the order the server sends them: {@link Rejected} alone, or
 * {@link Accepted}, any number of {@link Preview}s, any {@link ResultPart}s, then one {@link Terminal} event.
 */
public sealed interface RequestEvent extends ServerMessage permits Accepted, Preview, ResultPart, Terminal {

  long sessionId();

  /** The client's id of the request (unique within its session). */
  long requestId();
}
