package io.scorestream.actors;

import java.time.Duration;
import java.util.List;

/**
 * The samples of a completed request, row-major [count, dim], with the model versions whose weights produced them
 * (every version any of its chains used, ascending) and what it cost. Immutable: the samples are one
 * {@link Samples} value shared from the sampler on; {@link #samples()} and {@link #rows()} copy out.
 *
 * @param requestId     the request
 * @param values        the count samples, with their shape
 * @param modelVersions registry versions used, ascending
 * @param networkCalls  network calls summed over the request's chains (its share of the batch's work)
 * @param latency       from submission to completion
 */
public record Result(String requestId, Samples values, List<Long> modelVersions, long networkCalls,
                     Duration latency) {

  public Result {
    if (values == null) throw new IllegalArgumentException("a result needs its samples");
    modelVersions = List.copyOf(modelVersions);
  }

  /** A result of count vectors of dimension dim (a copy of samples). */
  public Result(String requestId, int count, int dim, double[] samples, List<Long> modelVersions, long networkCalls,
                Duration latency) {
    this(requestId, Samples.copyOf(new long[] {dim}, count, samples), modelVersions, networkCalls, latency);
  }

  /** Number of samples. */
  public int count() {
    return values.count();
  }

  /** Data dimension D (the product of the sample shape). */
  public int dim() {
    return values.dim();
  }

  /** A copy of all samples, row-major. */
  public double[] samples() {
    return values.toArray();
  }

  /** A copy of chain i's sample. */
  public double[] sample(int chain) {
    return values.row(chain);
  }

  /** The samples as count rows of dim values (copies). */
  public double[][] rows() {
    double[][] out = new double[count()][];
    for (int i = 0; i < out.length; i++) out[i] = sample(i);
    return out;
  }
}
