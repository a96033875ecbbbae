package io.scorestream.protocol;

import java.util.Arrays;
import java.util.Objects;

/**
 * Rows of a result too large for one message, starting at chain {@code firstChain}; the request's {@link Completed}
 * follows with the last rows. Clients assemble the parts ({@code ScoreStreamClient} does). Immutable.
 *
 * @param samples row-major [chains, dim]
 */
public record ResultPart(long sessionId, long requestId, int firstChain, int dim, double[] samples)
    implements RequestEvent {
  public ResultPart {
    if (firstChain < 0 || dim <= 0) throw new IllegalArgumentException("firstChain must be >= 0 and dim > 0");
    if (samples.length % dim != 0) throw new IllegalArgumentException(samples.length + " values are not rows of " + dim);
    samples = samples.clone();
  }

  @Override
  public double[] samples() {
    return samples.clone();
  }

  /** Number of rows in this part. */
  public int chains() {
    return samples.length / dim;
  }

  double[] samplesUnsafe() {
    return samples;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ResultPart p && sessionId == p.sessionId && requestId == p.requestId
        && firstChain == p.firstChain && dim == p.dim && Arrays.equals(samples, p.samples);
  }

  @Override
  public int hashCode() {
    return Objects.hash(sessionId, requestId, firstChain, dim, Arrays.hashCode(samples));
  }

  @Override
  public String toString() {
    return "ResultPart[sessionId=" + sessionId + ", requestId=" + requestId + ", firstChain=" + firstChain
        + ", rows=" + chains() + ", dim=" + dim + "]";
  }
}
