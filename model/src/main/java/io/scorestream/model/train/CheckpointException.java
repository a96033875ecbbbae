package io.scorestream.model.train;

/** A checkpoint that is missing, incomplete, corrupt or of an unknown version; the message names the file. */
public final class CheckpointException extends RuntimeException {
  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
