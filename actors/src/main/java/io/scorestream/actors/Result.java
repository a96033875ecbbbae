package io.scorestream.actors;

import java.time.Duration;
import java.util.List;

/**
 * The samples of a completed request, row-major [count, dim], with the model versions whose weights produced them
 * (every version any of its chains used, ascending) and what it cost. Immutable: arrays are copied in and out.
 *
 * @param requestId     the request
 * @param count         number of samples
 * @param dim           data dimension D
 * @param samples       count x dim values, chain i at [i * dim, (i + 1) * dim)
 * @param modelVersions registry versions used, ascending
 * @param networkCalls  network calls summed over the request's chains (its share of the batch's work)
 * @param latency       from submission to completion
 */
public record Result(String requestId, int count, int dim, double[] samples, List<Long> modelVersions,
                     long networkCalls, Duration latency) {

  public Result {
    if (samples.length != (long) count * dim) {
      throw new IllegalArgumentException("expected " + count + " x " + dim + " values, got " + samples.length);
    }
    samples = samples.clone();
    modelVersions = List.copyOf(modelVersions);
  }

  /** A copy of all samples, row-major. */
  @Override
  public double[] samples() {
    return samples.clone();
  }

  /** A copy of chain i's sample. */
  public double[] sample(int chain) {
    return java.util.Arrays.copyOfRange(samples, chain * dim, (chain + 1) * dim);
  }

  /** The samples as count rows of dim values (copies). */
  public double[][] rows() {
    double[][] out = new double[count][];
    for (int i = 0; i < count; i++) out[i] = sample(i);
    return out;
  }
}
