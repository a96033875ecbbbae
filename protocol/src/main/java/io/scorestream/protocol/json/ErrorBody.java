package io.scorestream.protocol.json;

/**
 * The body of every 4xx and 5xx answer of the HTTP gateway.
 *
 * @param error   a stable code: INVALID_ARGUMENT, MALFORMED_JSON, UNKNOWN_FIELD, PAYLOAD_TOO_LARGE, UNAUTHORIZED,
 *                NOT_FOUND, ALREADY_FINISHED, OVERLOADED, UNAVAILABLE, UNSUPPORTED_MEDIA_TYPE, METHOD_NOT_ALLOWED,
 *                NOT_ACCEPTABLE, INTERNAL
 * @param field   the request field at fault (e.g. {@code count}), or null when no single field is
 * @param message what is wrong, for a person
 */
public record ErrorBody(String error, String field, String message) {}
