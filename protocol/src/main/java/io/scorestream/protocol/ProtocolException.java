package io.scorestream.protocol;

/**
 * A frame that {@link ProtocolCodec#decode} refused, with its typed code. The only exception the decoder throws:
 * malformed input never surfaces as an index or argument exception.
 */
public final class ProtocolException extends Exception {
  private static final long serialVersionUID = 1L;

  private final ProtocolErrorCode code;

  public ProtocolException(ProtocolErrorCode code, String message) {
    super(code + ": " + message);
    this.code = code;
  }

  public ProtocolException(ProtocolErrorCode code, String message, Throwable cause) {
    super(code + ": " + message, cause);
    this.code = code;
  }

  public ProtocolErrorCode code() {
    return code;
  }
}
