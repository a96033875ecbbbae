package io.scorestream.actors;

import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The score model a sampler's {@code ChainBatch} holds: it forwards to the current version's model, so weights can
 * change between ticks while the batch (and every chain's cursor, state and registers) carries on. Only versions
 * with the same SDE, dimension and number type may replace each other, since chains continue across a swap. The
 * replaced model is closed at the swap.
 * Confined to the sampler's thread.
 */
final class VersionedModel implements ScoreModel {
  private final Sde sde;
  private final int dim;
  private final DataType type;
  private ScoreModel current;
  private long version;

  VersionedModel(ScoreModel first, long version) {
    this.sde = first.sde();
    this.dim = first.dim();
    this.type = first.dataType();
    this.current = first;
    this.version = version;
  }

  /** Why next cannot replace the current model, or null when it can. */
  String incompatibility(ScoreModel next) {
    if (next.dim() != dim) return "dimension " + next.dim() + " differs from the served " + dim;
    if (next.dataType() != type) return "number type " + next.dataType() + " differs from the served " + type;
    if (!next.sde().describe().equals(sde.describe())) {
      return "SDE " + next.sde().describe() + " differs from the served " + sde.describe();
    }
    return null;
  }

  /**
   * Makes next current and closes the model it replaces (call between ticks, after {@link #incompatibility}
   * returned null): no chain uses the old one after the swap, so its native memory is freed here, on the sampler's
   * thread that owns it.
   */
  void swap(ScoreModel next, long nextVersion) {
    ScoreModel old = current;
    this.current = next;
    this.version = nextVersion;
    old.close();
  }

  /** Closes the current model (the sampler stops or restarts). */
  @Override
  public void close() {
    current.close();
  }

  long version() {
    return version;
  }

  @Override public Sde sde() { return sde; }

  @Override public int dim() { return dim; }

  @Override public DataType dataType() { return type; }

  @Override
  public INDArray score(INDArray x, double[] t) {
    return current.score(x, t);
  }

  @Override
  public INDArray score(INDArray x, double[] t, int[] labels) {
    return current.score(x, t, labels);
  }

  @Override public int classes() { return current.classes(); }

  @Override public long[] shape() { return current.shape(); }

  @Override
  public ScoreJvp scoreJvp(INDArray x, double[] t, INDArray v) {
    return current.scoreJvp(x, t, v);
  }

  @Override
  public String describe() {
    return "v" + version + ": " + current.describe();
  }
}
