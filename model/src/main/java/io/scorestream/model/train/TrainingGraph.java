package io.scorestream.model.train;

import java.util.Set;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A score network and its training loss as a SameDiff graph, the half of a {@link io.scorestream.model.score.NetworkConfig}
 * that {@link ScoreTrainer} differentiates. The loss is mean_b weight_b l_b over the batch, with the per-row l_b of the
 * objective (for the regression losses a squared error against {@code target}).
 *
 * <p>Placeholders, all FLOAT, the states flat ([B, D] row-major whatever the sample shape): {@code x} [B, D];
 * {@code cond} [B, 1] (the noise condition); {@code scale} [B, 1] (the output scale: 1/sigma or -1/std);
 * {@code weight} [B, 1]; {@code target} [B, D] for the regression losses; {@code v} [B, D] for sliced score matching;
 * {@code label} [B, K + 1] one-hot for class-conditional networks (column K: no label). Owned by one thread.
 */
public interface TrainingGraph extends AutoCloseable {
  /** The loss variable. */
  String LOSS = "loss";
  /** The score s(x, t) of the placeholders' rows, [B, D]. */
  String SCORE = "score";

  SameDiff sameDiff();

  /** The live array of a trainable parameter (updated in place by the optimizer). */
  INDArray param(String name);

  /** The placeholders this graph reads (the trainer feeds exactly these). */
  Set<String> placeholders();

  /** Frees the parameters' and constants' native arrays; the graph cannot run afterwards. */
  @Override
  void close();

  /** Closes every VARIABLE and CONSTANT array of sd. */
  static void closeArrays(SameDiff sd) {
    for (org.nd4j.autodiff.samediff.SDVariable v : sd.variables()) {
      if (v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.VARIABLE
          || v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.CONSTANT) {
        INDArray a = v.getArr();
        if (a != null) a.close();
      }
    }
  }

  /**
   * Builds sd's backward graph now. SameDiff 1.0.0-M2.1 prints one line per differentiated op to System.out while
   * doing so; that would corrupt the CLI's output and progress bar, so stdout is muted for the duration.
   */
  static void createGradientsQuietly(SameDiff sd) {
    synchronized (System.class) {
      java.io.PrintStream out = System.out;
      try {
        System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        sd.createGradFunction();
      } finally {
        System.setOut(out);
      }
    }
  }
}
