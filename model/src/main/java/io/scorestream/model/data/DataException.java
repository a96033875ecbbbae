package io.scorestream.model.data;

/**
 * A problem with training data (missing file, malformed row, bad value, unknown source), described in one line
 * that names the file, the line or row, the column and what was wrong.
 */
public final class DataException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  public DataException(String message) {
    super(message);
  }

  public DataException(String message, Throwable cause) {
    super(message, cause);
  }
}
