package io.scorestream.model.nn;

import io.scorestream.model.score.HostArrays;
import io.scorestream.model.score.NetworkConfig;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The U-Net's inference path: {@link UNetForward}, the network's function outside SameDiff (direct and Winograd
 * convolutions and fused group norm on the host, SIMD through the Vector API, a row's stages on one thread), over a
 * copy of fixed weights. It computes what {@link UNetGraph}'s score output computes (UNetForwardTest: within float32
 * round-off) at a fraction of the cost at small batches (BENCHMARKS.md, "Image models").
 *
 * <p>The Jacobian-vector product is a central difference, J v ~ (s(x + h v) - s(x - h v)) / 2h with
 * h = 1e-2 / rms(v): float32 scores make a smaller h round-off bound, a larger one truncation bound; the U-Net has no
 * forward-mode graph (the MLP's is exact). Calls on one thread at a time per thread; {@link #close()} frees the
 * graph.
 */
final class UNetScoreModel implements ScoreModel {
  private static final double JVP_STEP = 1e-2;

  private final UNetConfig config;
  private final Sde sde;
  private final UNetForward forward;
  private volatile boolean closed;

  UNetScoreModel(NetworkWeights weights, Sde sde, boolean owning) {
    if (!(weights.config() instanceof UNetConfig c)) {
      throw new IllegalArgumentException("a U-Net score model needs U-Net weights, got " + weights.config().describe());
    }
    this.config = c;
    this.sde = sde;
    this.forward = new UNetForward(weights);
    if (owning) weights.close();   // the forward pass holds its own copy
  }

  @Override public Sde sde() { return sde; }

  @Override public int dim() { return config.dim(); }

  @Override public long[] shape() { return config.shape(); }

  @Override public int classes() { return config.classes(); }

  @Override public DataType dataType() { return DataType.FLOAT; }

  @Override
  public INDArray score(INDArray x, double[] t) {
    return score(x, t, null);
  }

  @Override
  public INDArray score(INDArray x, double[] t, int[] labels) {
    if (closed) throw new IllegalStateException("model closed");
    int rows = t.length;
    if (x.rank() != 2 || x.size(0) != rows || x.size(1) != config.dim()) {
      throw new IllegalArgumentException("expected x of shape [" + rows + ", " + config.dim() + "], got "
          + java.util.Arrays.toString(x.shape()));
    }
    if (labels != null && labels.length != rows) {
      throw new IllegalArgumentException(labels.length + " labels for " + rows + " rows");
    }
    int k = config.classes();
    int[] rowLabels = null;
    if (k > 0) {
      rowLabels = new int[rows];
      for (int i = 0; i < rows; i++) {
        int y = labels == null ? NULL_LABEL : labels[i];
        if (y != NULL_LABEL && (y < 0 || y >= k)) {
          throw new IllegalArgumentException("label " + y + " outside [0, " + k + ")");
        }
        rowLabels[i] = y == NULL_LABEL ? k : y;
      }
    } else if (labels != null) {
      for (int y : labels) {
        if (y != NULL_LABEL) throw new IllegalArgumentException(describe() + " is not class-conditional (label " + y + ")");
      }
    }
    float[] cond = new float[rows];
    float[] scale = new float[rows];
    for (int i = 0; i < rows; i++) {
      cond[i] = (float) sde.networkCondition(t[i]);
      scale[i] = (float) NetworkConfig.outputScale(sde, t[i]);
    }
    float[] in = x.dataType() == DataType.FLOAT && x.ordering() == 'c' && !x.isView() && x.data().length() == x.length() ? x.data().asFloat()
        : x.castTo(DataType.FLOAT).dup('c').data().asFloat();
    float[] s = forward.forward(in, cond, scale, rowLabels, rows);
    INDArray out = Nd4j.create(s, new long[] {rows, config.dim()}, DataType.FLOAT);
    return x.dataType() == DataType.FLOAT ? out : out.castTo(x.dataType());
  }

  @Override
  public ScoreJvp scoreJvp(INDArray x, double[] t, INDArray v) {
    INDArray s = score(x, t);
    double[] xv = HostArrays.values(x);
    double[] vv = HostArrays.values(v);
    int d = config.dim();
    double[] plus = new double[xv.length];
    double[] minus = new double[xv.length];
    double[] h = new double[t.length];
    for (int i = 0; i < t.length; i++) {
      double sq = 0;
      for (int e = i * d; e < (i + 1) * d; e++) sq += vv[e] * vv[e];
      h[i] = JVP_STEP / Math.max(Math.sqrt(sq / d), 1e-12);
      for (int e = i * d; e < (i + 1) * d; e++) {
        plus[e] = xv[e] + h[i] * vv[e];
        minus[e] = xv[e] - h[i] * vv[e];
      }
    }
    double[] sp = HostArrays.values(score(HostArrays.matrix(plus, t.length, d, DataType.FLOAT), t));
    double[] sm = HostArrays.values(score(HostArrays.matrix(minus, t.length, d, DataType.FLOAT), t));
    double[] jv = new double[xv.length];
    for (int i = 0; i < t.length; i++) {
      for (int e = i * d; e < (i + 1) * d; e++) jv[e] = (sp[e] - sm[e]) / (2 * h[i]);
    }
    return new ScoreJvp(s, HostArrays.matrix(jv, t.length, d, x.dataType()));
  }

  @Override
  public String describe() {
    return config.describe() + " over " + sde.describe();
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    forward.close();
  }
}
