package io.scorestream.actors;

import java.time.Duration;

/**
 * What a request's stream carries ({@link ScoreStream#submit}): either {@link Rejected} alone, or {@link Accepted},
 * then any number of {@link Preview}s (conflated: a slow consumer sees the latest), then exactly one of
 * {@link Completed}, {@link Failed} or {@link Cancelled}. The terminal event is never dropped. Immutable.
 */
public sealed interface SampleEvent extends ClusterMessage
    permits SampleEvent.Accepted, SampleEvent.Preview, SampleEvent.Completed, SampleEvent.Failed,
        SampleEvent.Cancelled, SampleEvent.Rejected {

  String requestId();

  /** Whether this event ends the stream. */
  default boolean terminal() {
    return !(this instanceof Accepted) && !(this instanceof Preview);
  }

  /**
   * The request passed validation and admission.
   *
   * @param queuePosition 0 when all its chains are routed to samplers, else its 1-based place in the admission queue
   * @param eta           estimated time to completion
   */
  record Accepted(String requestId, int chains, int queuePosition, Duration eta) implements SampleEvent {}

  /**
   * A progressive preview: the Tweedie estimate E[x0 | x_t] = (x_t + std(t)^2 s) / m(t) of every chain, row-major
   * [chains, dim]. Chains whose slice has not reported yet are NaN; chains that finished hold their final sample.
   *
   * @param step       the step of the least advanced reporting chain
   * @param estimates  the estimates with the model's sample shape (shared, never copied on the way out)
   * @param totalSteps the request's number of steps (an estimate for adaptive solvers)
   */
  record Preview(String requestId, int step, int totalSteps, Samples estimates) implements SampleEvent {
    public Preview {
      if (estimates == null) throw new IllegalArgumentException("a preview needs its estimates");
    }

    /** A preview of vectors of dimension dim (a copy of denoised). */
    public Preview(String requestId, int step, int totalSteps, int dim, double[] denoised) {
      this(requestId, step, totalSteps, Samples.copyOf(new long[] {dim}, denoised.length / dim, denoised));
    }

    /** A copy of the estimates, row-major. */
    public double[] denoised() {
      return estimates.toArray();
    }

    /** Values per chain. */
    public int dim() {
      return estimates.dim();
    }

    /** Number of chains in the preview. */
    public int chains() {
      return estimates.count();
    }
  }

  /** The request finished; every chain's sample is in the result. */
  record Completed(Result result) implements SampleEvent {
    @Override
    public String requestId() {
      return result.requestId();
    }
  }

  /** The request was accepted but failed (DEADLINE_EXCEEDED, NON_FINITE, INTERNAL, UNAVAILABLE). */
  record Failed(String requestId, ErrorCode code, String message) implements SampleEvent {}

  /** The request was cancelled; its rows were freed at the next step boundary. */
  record Cancelled(String requestId, String reason) implements SampleEvent {}

  /**
   * The request was refused at admission and changed nothing.
   *
   * @param retryAfter for OVERLOADED, when a retry may succeed; null otherwise
   */
  record Rejected(String requestId, ErrorCode code, String message, Duration retryAfter) implements SampleEvent {}
}
