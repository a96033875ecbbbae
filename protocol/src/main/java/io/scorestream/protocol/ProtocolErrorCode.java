package io.scorestream.protocol;

/** Why a frame was refused: the code of a {@link ProtocolException} and of the {@link ProtocolError} message. */
public enum ProtocolErrorCode {
  /** Shorter than the message header or the message's fixed block. */
  TRUNCATED,
  /** The header's schema id is not {@link Protocol#SCHEMA_ID}. */
  UNKNOWN_SCHEMA,
  /** The header's schema version is older than any this codec reads. */
  UNSUPPORTED_VERSION,
  /** The header's template id names no message of the schema. */
  UNKNOWN_TEMPLATE,
  /** A block length, group size or variable length disagrees with the frame's length. */
  BAD_LENGTH,
  /** A field holds a value the message does not allow (unknown enum value, inconsistent shape). */
  BAD_VALUE,
  /** The frame is longer than the receiver accepts. */
  TOO_LARGE,
  /** A well-formed message names a session the server does not know (or that belongs to another sender). */
  UNKNOWN_SESSION,
  /** A well-formed message that the receiver does not expect (a server message at the server's ingress). */
  UNEXPECTED
}
