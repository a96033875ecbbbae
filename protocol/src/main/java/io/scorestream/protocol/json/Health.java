package io.scorestream.protocol.json;

/**
 * The body of {@code GET /healthz}.
 *
 * @param status  ok when the node answers status asks, else unavailable
 * @param samplers samplers alive
 */
public record Health(String status, int samplers) {}
