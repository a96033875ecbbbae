package io.scorestream.protocol;

/** Cancels a running or queued request of the session; its events end with {@link Cancelled}. */
public record Cancel(long sessionId, long requestId) implements ClientMessage {}
