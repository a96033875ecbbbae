package io.scorestream.protocol;

import java.util.Arrays;
import java.util.Objects;

/**
 * The request finished. It carries rows {@code firstChain .. count - 1} of the samples, row-major; when firstChain
 * &gt; 0 the earlier rows came in {@link ResultPart}s. {@code ScoreStreamClient} hands its listener the assembled
 * result (firstChain 0). Immutable: arrays are copied in and out.
 *
 * @param count         number of samples of the request
 * @param dim           data dimension D
 * @param modelVersions registry versions whose weights produced the samples, ascending
 * @param networkCalls  network calls summed over the request's chains
 * @param latencyNs     the node's time from submission to completion
 */
public record Completed(long sessionId, long requestId, int count, int dim, int firstChain, double[] samples,
                        long[] modelVersions, long networkCalls, long latencyNs) implements Terminal {
  public Completed {
    if (count < 0 || dim <= 0) throw new IllegalArgumentException("count must be >= 0 and dim > 0");
    if (firstChain < 0 || firstChain > count) throw new IllegalArgumentException("firstChain out of [0, count]");
    if (samples.length != (long) (count - firstChain) * dim) {
      throw new IllegalArgumentException("expected " + (count - firstChain) + " x " + dim + " values, got "
          + samples.length);
    }
    samples = samples.clone();
    modelVersions = modelVersions.clone();
  }

  @Override
  public double[] samples() {
    return samples.clone();
  }

  @Override
  public long[] modelVersions() {
    return modelVersions.clone();
  }

  /** A copy of chain i's sample (i &gt;= firstChain). */
  public double[] sample(int chain) {
    int row = chain - firstChain;
    return Arrays.copyOfRange(samples, row * dim, (row + 1) * dim);
  }

  double[] samplesUnsafe() {
    return samples;
  }

  long[] modelVersionsUnsafe() {
    return modelVersions;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Completed c && sessionId == c.sessionId && requestId == c.requestId && count == c.count
        && dim == c.dim && firstChain == c.firstChain && networkCalls == c.networkCalls && latencyNs == c.latencyNs
        && Arrays.equals(samples, c.samples) && Arrays.equals(modelVersions, c.modelVersions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(sessionId, requestId, count, dim, firstChain, Arrays.hashCode(samples));
  }

  @Override
  public String toString() {
    return "Completed[sessionId=" + sessionId + ", requestId=" + requestId + ", count=" + count + ", dim=" + dim
        + ", firstChain=" + firstChain + ", modelVersions=" + Arrays.toString(modelVersions) + ", networkCalls="
        + networkCalls + ", latencyNs=" + latencyNs + "]";
  }
}
