package io.scorestream.protocol.json;

/**
 * The body of {@code 202 Accepted} from {@code POST /v1/samples}.
 *
 * @param id            the request id (path segment of the other /v1/samples routes)
 * @param seed          the noise seed, drawn by the gateway when the request named none
 * @param chains        number of chains (= count)
 * @param queuePosition 0 when every chain is already on a sampler, else its 1-based place in the admission queue
 * @param etaMs         the node's estimate of the time to completion
 * @param status        the status URL ({@code /v1/samples/{id}})
 * @param events        the event stream URL (WebSocket or server-sent events)
 */
public record SampleAccepted(String id, long seed, int chains, int queuePosition, long etaMs, String status,
                             String events) {}
