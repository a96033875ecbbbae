package io.scorestream.model.score;

import io.scorestream.model.sde.Sde;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.api.ops.impl.transforms.strict.SwishDerivative;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The reference score network evaluated with plain INDArray calls on fixed weights: the sampling path (training
 * builds the same function in SameDiff, see {@code io.scorestream.model.train.MlpGraph}).
 *
 * <p>h_0 = [x, sin(2 pi c W), cos(2 pi c W)] with c = log sigma(t) for VE and c = t for VP and sub-VP;
 * h_{l+1} = SiLU(h_l W_l + b_l); out = h_L W_out + b_out. The score is out / sigma(t) for VE (Song and Ermon 2020,
 * technique 3) and -out / std(t) for VP and sub-VP (the network predicts the noise, Ho et al. 2020).
 *
 * <p>Owned by one thread (a sampler's); holds no per-call state.
 */
public final class MlpScoreModel implements ScoreModel {
  private static final double TWO_PI = 2 * Math.PI;

  private final MlpWeights weights;
  private final MlpConfig config;
  private final Sde sde;
  private final INDArray fourier2Pi;
  private final INDArray[] w;
  private final INDArray[] b;
  private final INDArray wOut;
  private final INDArray bOut;
  private final INDArray wIn;

  public MlpScoreModel(MlpWeights weights, Sde sde) {
    this.weights = weights;
    this.config = weights.config();
    this.sde = sde;
    this.fourier2Pi = weights.get(MlpConfig.FOURIER).mul(TWO_PI);
    this.w = new INDArray[config.depth()];
    this.b = new INDArray[config.depth()];
    for (int l = 0; l < config.depth(); l++) {
      w[l] = weights.get(config.weightName(l));
      b[l] = weights.get(config.biasName(l));
    }
    this.wOut = weights.get(MlpConfig.OUT_W);
    this.bOut = weights.get(MlpConfig.OUT_B);
    // The rows of the first layer that multiply x: the tangent of the Fourier features with respect to x is zero.
    this.wIn = w[0].get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, config.dim()),
        org.nd4j.linalg.indexing.NDArrayIndex.all()).dup();
  }

  public MlpWeights weights() { return weights; }

  public MlpConfig config() { return config; }

  @Override public Sde sde() { return sde; }

  @Override public int dim() { return config.dim(); }

  @Override public DataType dataType() { return DataType.FLOAT; }

  /** The per-row output scale: 1 / sigma(t) for VE, -1 / std(t) otherwise. */
  public static double outputScale(Sde sde, double t) {
    return sde.kind() == Sde.Kind.VE ? 1.0 / sde.std(t) : -1.0 / sde.std(t);
  }

  private INDArray input(INDArray x, double[] t) {
    INDArray cond = Sde.column(t, DataType.FLOAT, sde::networkCondition);
    INDArray proj = Nd4j.createUninitialized(DataType.FLOAT, t.length, fourier2Pi.size(1));
    Nd4j.gemm(cond, fourier2Pi, proj, false, false, 1.0, 0.0);
    return Nd4j.hstack(x.castTo(DataType.FLOAT), Transforms.sin(proj, true), Transforms.cos(proj, false));
  }

  /**
   * The forward pass. Temporaries live in a per-thread workspace that is reused call after call: measured on 2
   * cores, a GEMM into freshly allocated native memory costs 2-4x one into reused memory (page faults), and
   * INDArray.mmul is slower still; so every layer is one GEMM into workspace memory, a bias add and an in-place
   * SiLU. Only the [B, D] result leaves the workspace.
   */
  @Override
  public INDArray score(INDArray x, double[] t) {
    checkInput(x, t);
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(Workspaces.REUSED, FORWARD_WORKSPACE_ID)) {
      INDArray h = input(x, t);
      for (int l = 0; l < config.depth(); l++) {
        h = linear(h, w[l], b[l]);
        Nd4j.exec(new Swish(h, h));
      }
      INDArray out = linear(h, wOut, bOut);
      out.muliColumnVector(Sde.column(t, DataType.FLOAT, tt -> outputScale(sde, tt)));
      return out.castTo(x.dataType()).detach();
    }
  }

  /** h W + b, with the GEMM written into uninitialised (workspace) memory. */
  private static INDArray linear(INDArray h, INDArray weight, INDArray bias) {
    INDArray z = Nd4j.createUninitialized(DataType.FLOAT, h.size(0), weight.size(1));
    Nd4j.gemm(h, weight, z, false, false, 1.0, 0.0);
    return z.addiRowVector(bias);
  }

  private static final String FORWARD_WORKSPACE_ID = "scorestream-mlp-forward";

  @Override
  public ScoreJvp scoreJvp(INDArray x, double[] t, INDArray v) {
    checkInput(x, t);
    INDArray h = input(x, t);
    INDArray dz = v.castTo(DataType.FLOAT).mmul(wIn);
    INDArray dh = null;
    for (int l = 0; l < config.depth(); l++) {
      INDArray z = h.mmul(w[l]).addiRowVector(b[l]);
      if (l > 0) dz = dh.mmul(w[l]);
      INDArray slope = Nd4j.exec(new SwishDerivative(z.dup()));
      dh = dz.muli(slope);
      h = Nd4j.exec(new Swish(z, z));
    }
    INDArray scale = Sde.column(t, DataType.FLOAT, tt -> outputScale(sde, tt));
    INDArray out = h.mmul(wOut).addiRowVector(bOut).muliColumnVector(scale);
    INDArray jvp = dh.mmul(wOut).muliColumnVector(scale);
    return new ScoreJvp(out.castTo(x.dataType()), jvp.castTo(x.dataType()));
  }

  private void checkInput(INDArray x, double[] t) {
    if (x.rank() != 2 || x.size(1) != config.dim()) {
      throw new IllegalArgumentException("expected x of shape [B, " + config.dim() + "], got "
          + java.util.Arrays.toString(x.shape()));
    }
    if (t.length != x.size(0)) throw new IllegalArgumentException("expected " + x.size(0) + " time values");
  }

  @Override
  public String describe() {
    return "mlp(width=" + config.width() + ", depth=" + config.depth() + ") over " + sde.describe();
  }
}
