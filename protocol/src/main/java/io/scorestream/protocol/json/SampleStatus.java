package io.scorestream.protocol.json;

import java.util.List;

/**
 * The body of {@code GET /v1/samples/{id}}: what the gateway knows of one request. Fields that do not apply yet are
 * absent (null): samples, modelVersions, networkCalls and latencyMs once it completed; error and message once it
 * failed or was cancelled.
 *
 * @param id                the request id
 * @param state             running | completed | failed | cancelled
 * @param seed              the noise seed
 * @param count             number of samples asked for
 * @param sampler           the sampler kind asked for (pc when the request named none)
 * @param queuePosition     the queue position at admission (0: every chain was routed at once)
 * @param etaMs             the ETA at admission
 * @param step              the step of the latest preview (0 before the first)
 * @param totalSteps        the request's step count as the latest preview reported it (0 before the first)
 * @param previews          previews the gateway received from the node
 * @param websocketPreviews previews handed to WebSocket subscribers of this request, summed over them
 * @param ssePreviews       previews handed to server-sent-event subscribers, summed over them
 * @param dim               data dimension (once a preview or the result arrived)
 * @param samples           the final samples, count rows of dim values
 * @param modelVersions     model versions that produced them
 * @param networkCalls      the request's share of score-network calls
 * @param latencyMs         submission to completion, as the node measured it
 * @param error             the error code of a failed request (CANCELLED for a cancelled one)
 * @param message           why it failed or was cancelled
 */
public record SampleStatus(String id, String state, long seed, int count, String sampler, int queuePosition,
                           long etaMs, int step, int totalSteps, long previews, long websocketPreviews,
                           long ssePreviews, Integer dim, double[][] samples, List<Long> modelVersions,
                           Long networkCalls, Double latencyMs, String error, String message) {}
