package io.scorestream.protocol;

/** Asks for the node's {@link Status}, which echoes the correlation id. */
public record StatusRequest(long sessionId, long correlationId) implements ClientMessage {}
