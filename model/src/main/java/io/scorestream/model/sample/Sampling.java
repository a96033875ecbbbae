package io.scorestream.model.sample;

import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.score.ScoreModel;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Offline sampling: runs n chains of one program to completion in one {@link ChainBatch}, on the calling thread.
 * The same batch mechanics serve the streaming sampler actors, so an offline run and a served request with the
 * same seed compute the same chains.
 */
public final class Sampling {
  private Sampling() {}

  /** The final samples [n, D], the network calls made, and the chains that failed. */
  public record Result(INDArray samples, long networkCalls, double meanTicksPerChain, List<String> failures) {}

  /**
   * Draws n samples with chains 0..n-1 of the seed.
   *
   * @param initial  starting states [n, D], or null for the prior (programs that start elsewhere require it)
   * @param callback per-tick previews, or null
   */
  public static Result run(ScoreModel model, SamplerProgram program, int n, long seed, INDArray initial,
                           StepCallback callback) {
    return run(model, program, n, seed, initial, callback, Conditioning.NONE);
  }

  /** {@link #run(ScoreModel, SamplerProgram, int, long, INDArray, StepCallback)} with conditioned chains. */
  public static Result run(ScoreModel model, SamplerProgram program, int n, long seed, INDArray initial,
                           StepCallback callback, Conditioning conditioning) {
    if (n <= 0) throw new IllegalArgumentException("n must be > 0, got " + n);
    RowKeys keys = RowKeys.of(seed, 0, n);
    if (initial == null && !program.startsFromPrior()) {
      throw new IllegalArgumentException(program.describe() + " needs initial states");
    }
    ChainBatch batch = new ChainBatch(model);
    batch.wantPreviews(callback != null);
    if (initial != null) {
      batch.add(initial, keys, program, 0, conditioning);
    } else {
      batch.addFromPrior(keys, program, 0, conditioning);
    }
    double[] out = new double[n * model.dim()];
    double ticks = 0;
    List<String> failures = new java.util.ArrayList<>();
    while (batch.size() > 0) {
      batch.tick();
      if (callback != null) {
        ChainCursor c = batch.cursor(0);
        callback.onStep(batch.networkCalls(), c.step(), c.totalSteps(), c.time(), batch.states(), batch.denoised());
      }
      for (ChainBatch.Finished f : batch.retire()) {
        System.arraycopy(f.x(), 0, out, (int) f.tag() * model.dim(), model.dim());
        ticks += f.ticks();
        if (f.failed()) failures.add("chain " + f.tag() + ": " + f.failure());
      }
    }
    INDArray samples = Nd4j.createFromArray(out).reshape(n, model.dim()).castTo(model.dataType());
    return new Result(samples, batch.networkCalls(), ticks / n, List.copyOf(failures));
  }
}
