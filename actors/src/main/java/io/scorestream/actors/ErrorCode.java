package io.scorestream.actors;

/** The typed outcome codes of a request that did not complete: in {@link SampleEvent.Rejected} and {@link SampleEvent.Failed}. */
public enum ErrorCode {
  /** The request is malformed (count, steps, sampler parameters, deadline, duplicate id); nothing was changed. */
  INVALID_ARGUMENT,
  /** The admission queue is full; retry after the hint in {@link SampleEvent.Rejected#retryAfter()}. */
  OVERLOADED,
  /** The request's deadline passed; its rows were freed at the next step boundary. */
  DEADLINE_EXCEEDED,
  /** The request was cancelled (used by {@link ScoreStreamException}; the stream ends with {@link SampleEvent.Cancelled}). */
  CANCELLED,
  /** A chain's state became NaN or infinite; the request's other chains were stopped, its batch-mates were not. */
  NON_FINITE,
  /** No sampler is alive to run the request. */
  UNAVAILABLE,
  /** A sampler failed while running the request and the retry budget was spent. */
  INTERNAL
}
