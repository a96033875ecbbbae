package io.scorestream.model.score;

import io.scorestream.model.sde.Sde;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A time-dependent score model s(x, t) ~ grad_x log p_t(x) for a batch with one time value per row (Song et al.
 * 2021, eq. 7). Implementations are bound to the SDE whose perturbed marginals p_t they model.
 *
 * <p>Calls are not required to be thread-safe: a sampler owns its model instance and calls it from its own thread.
 * Results are fresh arrays, owned by the caller (who may close them); inputs are never mutated.
 *
 * <p>A model may hold native memory (weights, buffers); {@link #close()} frees it at once, and its owner closes it
 * once no chain uses it (a sampler, when a new version replaces it). A closed model refuses calls.
 */
public interface ScoreModel extends AutoCloseable {

  /** The SDE that defines p_t. */
  Sde sde();

  /** The data dimension D. */
  int dim();

  /** The floating-point type the model computes in; samplers keep their chains in it. */
  DataType dataType();

  /** s(x, t): x is [B, D], t has B entries; returns [B, D]. For a conditional model, the unconditional score. */
  INDArray score(INDArray x, double[] t);

  /** The label of a row that asks for the unconditional score (the null label of classifier-free guidance). */
  int NULL_LABEL = -1;

  /** The number of class labels the model is conditioned on (0: unconditional). */
  default int classes() {
    return 0;
  }

  /** The shape of one sample: [D] for vectors, [C, H, W] for images. */
  default long[] shape() {
    return new long[] {dim()};
  }

  /**
   * s(x, t, y): the score of p_t(x | y_i) per row, y_i in [0, classes) or {@link #NULL_LABEL} for p_t(x); labels
   * null means every row unconditional. An unconditional model refuses real labels.
   */
  default INDArray score(INDArray x, double[] t, int[] labels) {
    if (labels != null) {
      for (int y : labels) {
        if (y != NULL_LABEL) throw new IllegalArgumentException(describe() + " is not class-conditional (label " + y + ")");
      }
    }
    return score(x, t);
  }

  /**
   * The score together with the Jacobian-vector product (d s / d x) v per row, for divergences (Hutchinson
   * estimates and exact traces). v is [B, D].
   */
  ScoreJvp scoreJvp(INDArray x, double[] t, INDArray v);

  /** A short description, e.g. {@code mlp(width=256, depth=3) over ve(...)}. */
  String describe();

  /** Frees the native memory the model holds; the default holds none. Idempotent. */
  @Override
  default void close() {}

  /** The score and its Jacobian-vector product. */
  record ScoreJvp(INDArray score, INDArray jvp) {}
}
