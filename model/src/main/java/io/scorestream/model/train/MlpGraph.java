package io.scorestream.model.train;

import io.scorestream.model.score.MlpConfig;
import io.scorestream.model.score.NetworkWeights;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The reference MLP and its training loss as a SameDiff graph, for gradients with respect to the weights. The
 * function is the one {@link io.scorestream.model.score.MlpScoreModel} evaluates on plain INDArrays.
 *
 * <p>Sliced and exact score matching need d s / d x inside the loss. SameDiff differentiates only once, so the
 * Jacobian-vector products are built as explicit forward-mode tangents through the layers
 * (dh_{l+1} = SiLU'(z_l) * (dh_l W_l), SiLU'(z) = sigma(z) (1 + z (1 - sigma(z)))), and reverse mode then
 * differentiates the whole loss, tangents included, with respect to the weights.
 *
 * <p>Placeholders: {@code x} [B, D], {@code cond} [B, 1] (the noise condition), {@code scale} [B, 1] (the output
 * scale: 1/sigma or -1/std), {@code weight} [B, 1]; {@code target} [B, D] for the regression losses; {@code v}
 * [B, D] for sliced score matching. Owned by one thread.
 */
public final class MlpGraph implements TrainingGraph {

  private final SameDiff sd;
  private final MlpConfig config;
  private final Objective objective;
  private final boolean varianceReduced;

  public MlpGraph(NetworkWeights init, Objective objective, boolean varianceReduced) {
    this.config = (MlpConfig) init.config();
    this.objective = objective;
    this.varianceReduced = varianceReduced;
    if (objective == Objective.ESM && config.dim() > Objective.ESM_MAX_DIM) {
      throw new IllegalArgumentException("exact score matching needs one Jacobian-vector product per dimension and "
          + "is limited to D <= " + Objective.ESM_MAX_DIM + " (data has D = " + config.dim() + "); use ssm or dsm");
    }
    this.sd = SameDiff.create();
    build(init);
    createGradientsQuietly();
  }

  private void createGradientsQuietly() {
    TrainingGraph.createGradientsQuietly(sd);
  }

  @Override
  public SameDiff sameDiff() { return sd; }

  @Override
  public void close() {
    TrainingGraph.closeArrays(sd);
  }

  @Override
  public java.util.Set<String> placeholders() {
    return switch (objective) {
      case DSM, SMLD, DDPM -> java.util.Set.of("x", "cond", "scale", "weight", "target");
      case SSM -> java.util.Set.of("x", "cond", "scale", "weight", "v");
      case ESM -> java.util.Set.of("x", "cond", "scale", "weight");
    };
  }

  @Override
  public INDArray param(String name) {
    return sd.getVariable(name).getArr();
  }

  private void build(NetworkWeights init) {
    int d = config.dim();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, d);
    SDVariable cond = sd.placeHolder("cond", DataType.FLOAT, -1, 1);
    SDVariable scale = sd.placeHolder("scale", DataType.FLOAT, -1, 1);
    SDVariable weight = sd.placeHolder("weight", DataType.FLOAT, -1, 1);
    Map<String, INDArray> p = init.asMap();
    SDVariable fourier = sd.constant(MlpConfig.FOURIER, p.get(MlpConfig.FOURIER).mul(2 * Math.PI));
    SDVariable[] w = new SDVariable[config.depth()];
    SDVariable[] b = new SDVariable[config.depth()];
    for (int l = 0; l < config.depth(); l++) {
      w[l] = sd.var(config.weightName(l), p.get(config.weightName(l)).dup());
      b[l] = sd.var(config.biasName(l), p.get(config.biasName(l)).dup());
    }
    SDVariable wOut = sd.var(MlpConfig.OUT_W, p.get(MlpConfig.OUT_W).dup());
    SDVariable bOut = sd.var(MlpConfig.OUT_B, p.get(MlpConfig.OUT_B).dup());

    SDVariable proj = cond.mmul(fourier);
    SDVariable h = sd.concat(1, x, sd.math.sin(proj), sd.math.cos(proj));
    SDVariable[] slopes = new SDVariable[config.depth()];
    for (int l = 0; l < config.depth(); l++) {
      SDVariable z = h.mmul(w[l]).add(b[l]);
      SDVariable sig = sd.nn.sigmoid(z);
      h = z.mul(sig);
      slopes[l] = sig.add(z.mul(sig).mul(sig.rsub(1.0)));
    }
    SDVariable score = h.mmul(wOut).add(bOut).mul(scale).rename(SCORE);
    SDVariable wIn = w[0].get(SDIndex.interval(0, d), SDIndex.all());

    SDVariable perRow;
    switch (objective) {
      case DSM, SMLD, DDPM -> {
        SDVariable target = sd.placeHolder("target", DataType.FLOAT, -1, d);
        SDVariable diff = score.sub(target);
        perRow = diff.mul(diff).sum(true, 1).mul(0.5);
      }
      case SSM -> {
        SDVariable v = sd.placeHolder("v", DataType.FLOAT, -1, d);
        SDVariable jv = tangent(v.mmul(wIn), slopes, w, wOut).mul(scale);
        SDVariable vjv = v.mul(jv).sum(true, 1);
        SDVariable norm = varianceReduced ? score.mul(score).sum(true, 1) : sq(v.mul(score).sum(true, 1));
        perRow = vjv.add(norm.mul(0.5));
      }
      case ESM -> {
        SDVariable trace = null;
        for (int i = 0; i < d; i++) {
          SDVariable row = wIn.get(SDIndex.point(i), SDIndex.all()).reshape(1, config.width());
          SDVariable col = tangent(row, slopes, w, wOut).get(SDIndex.all(), SDIndex.interval(i, i + 1)).mul(scale);
          trace = trace == null ? col : trace.add(col);
        }
        perRow = trace.add(score.mul(score).sum(true, 1).mul(0.5));
      }
      default -> throw new IllegalStateException(objective.name());
    }
    sd.identity(LOSS, perRow.mul(weight).mean());
    sd.setLossVariables(LOSS);
  }

  private static SDVariable sq(SDVariable v) {
    return v.mul(v);
  }

  /** Forward-mode tangent of the network output given the tangent dz_0 of the first pre-activation. */
  private static SDVariable tangent(SDVariable dz0, SDVariable[] slopes, SDVariable[] w, SDVariable wOut) {
    SDVariable dh = slopes[0].mul(dz0);
    for (int l = 1; l < w.length; l++) {
      dh = slopes[l].mul(dh.mmul(w[l]));
    }
    return dh.mmul(wOut);
  }
}
