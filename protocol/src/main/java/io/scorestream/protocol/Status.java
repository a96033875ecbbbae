package io.scorestream.protocol;

/**
 * The node's load, answering a {@link StatusRequest}.
 *
 * @param queuedRequests requests waiting for rows
 * @param activeRequests accepted requests not yet ended
 * @param activeChains   rows in use over all samplers
 * @param samplers       live samplers
 * @param chainSteps     rows advanced since start (difference two statuses for chain-steps/s)
 * @param accepted       requests accepted since start
 * @param rejected       requests rejected since start
 * @param ended          accepted requests that ended (completed, failed or cancelled)
 * @param modelVersion   the registry's current model version, 0 when none
 */
public record Status(long sessionId, long correlationId, int queuedRequests, int activeRequests, int activeChains,
                     int samplers, long chainSteps, long accepted, long rejected, long ended, long modelVersion)
    implements ServerMessage {}
