package io.scorestream.protocol;

/**
 * A message of the scorestream wire protocol (schema {@link Protocol#SCHEMA_ID}): an immutable record that
 * {@link ProtocolCodec} encodes to and decodes from one SBE frame. Sent by a client ({@link ClientMessage}), by the
 * server ({@link ServerMessage}), or both (Heartbeat, Disconnect).
 */
public sealed interface Message permits ClientMessage, ServerMessage {}
