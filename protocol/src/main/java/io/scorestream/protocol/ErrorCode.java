package io.scorestream.protocol;

/**
 * Why a request or a connection did not succeed, as carried on the wire. The first seven mirror the node's own
 * codes one to one; UNAUTHENTICATED and TOO_LARGE are the gateway's.
 */
public enum ErrorCode {
  /** The request is malformed (count, steps, sampler parameters, deadline, SDE, duplicate id); nothing changed. */
  INVALID_ARGUMENT,
  /** The admission queue (or the gateway's client table) is full; retry after the hint. */
  OVERLOADED,
  /** The request's deadline passed. */
  DEADLINE_EXCEEDED,
  /** The request was cancelled. */
  CANCELLED,
  /** A chain's state became NaN or infinite. */
  NON_FINITE,
  /** No sampler is alive, or the gateway is shutting down. */
  UNAVAILABLE,
  /** A sampler failed and its retries were spent, or the gateway failed. */
  INTERNAL,
  /** A Connect carried the wrong shared secret. */
  UNAUTHENTICATED,
  /** A message would exceed the largest message the transport carries. */
  TOO_LARGE
}
