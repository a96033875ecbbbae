package io.scorestream.protocol.json;

/**
 * The body of {@code 202 Accepted} from {@code DELETE /v1/samples/{id}}: the node was told to cancel; the request's
 * event stream ends with {@code cancelled} (or with {@code completed} if it finished first).
 *
 * @param id    the request id
 * @param state always {@code cancelling}
 */
public record CancelAccepted(String id, String state) {}
