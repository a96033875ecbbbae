package io.scorestream.protocol;

/**
 * The request passed validation and admission.
 *
 * @param queuePosition 0 when all its chains run, else its 1-based place in the admission queue
 * @param etaNs         estimated time to completion
 */
public record Accepted(long sessionId, long requestId, int chains, int queuePosition, long etaNs)
    implements RequestEvent {}
