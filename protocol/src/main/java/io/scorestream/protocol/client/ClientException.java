package io.scorestream.protocol.client;

import io.scorestream.protocol.ErrorCode;
import java.util.Optional;

/**
 * A failure of the client itself, not of a request: the connection was refused (with the server's code), timed
 * out, was lost (server silent or Disconnect), or the client was closed. Requests that end with a server event
 * complete normally with that {@link io.scorestream.protocol.Terminal}, never with this exception.
 */
public final class ClientException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;

  public ClientException(String message) {
    this(null, message, null);
  }

  public ClientException(String message, Throwable cause) {
    this(null, message, cause);
  }

  public ClientException(ErrorCode code, String message, Throwable cause) {
    super(code == null ? message : code + ": " + message, cause);
    this.code = code;
  }

  /** The server's code when it refused the connection (UNAUTHENTICATED, OVERLOADED, UNAVAILABLE). */
  public Optional<ErrorCode> code() {
    return Optional.ofNullable(code);
  }
}
