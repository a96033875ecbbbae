package io.scorestream.protocol.json;

/**
 * A request body that is not the expected JSON shape: the error code of its {@link ErrorBody}, the field at fault
 * (null when the body is not JSON at all) and a message that names it.
 */
public final class JsonShapeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String code;
  private final String field;

  public JsonShapeException(String code, String field, String message) {
    super(message);
    this.code = code;
    this.field = field;
  }

  /** INVALID_ARGUMENT, MALFORMED_JSON or UNKNOWN_FIELD. */
  public String code() {
    return code;
  }

  /** The field at fault, or null. */
  public String field() {
    return field;
  }

  /** The body the gateway answers with. */
  public ErrorBody toBody() {
    return new ErrorBody(code, field, getMessage());
  }
}
