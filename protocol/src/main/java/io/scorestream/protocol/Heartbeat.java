package io.scorestream.protocol;

/** Liveness, sent both ways every heartbeat interval; any other message counts as well. */
public record Heartbeat(long sessionId, long timestampNs) implements ClientMessage, ServerMessage {}
