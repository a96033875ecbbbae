package io.scorestream.model.score;

import io.scorestream.model.sde.Sde;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The exact score of a Gaussian mixture perturbed by an SDE: each component N(mu_k, var_k I) becomes
 * N(m(t) mu_k, (m(t)^2 var_k + std(t)^2) I), so grad log p_t(x) = sum_k r_k(x) (-(x - m mu_k) / c_k) with
 * responsibilities r_k and c_k = m^2 var_k + std^2. The Jacobian is
 * J = -sum_k r_k / c_k I + sum_k r_k s_k s_k^T - s s^T. The oracle for samplers and likelihoods; computes in
 * double precision on the host. Class-conditional over its components: label k gives the exact score of component
 * k alone, grad log p_t(x | k) = s_k (the oracle for classifier-free guidance). Stateless apart from its parameters.
 */
public final class AnalyticScoreModel implements ScoreModel {
  private final GaussianMixture mixture;
  private final Sde sde;

  public AnalyticScoreModel(GaussianMixture mixture, Sde sde) {
    this.mixture = mixture;
    this.sde = sde;
  }

  public GaussianMixture mixture() { return mixture; }

  @Override public Sde sde() { return sde; }

  @Override public int dim() { return mixture.dim(); }

  @Override public DataType dataType() { return DataType.DOUBLE; }

  /** One class per mixture component. */
  @Override public int classes() { return mixture.components(); }

  @Override
  public INDArray score(INDArray x, double[] t, int[] labels) {
    if (labels != null) {
      for (int y : labels) {
        if (y != NULL_LABEL && (y < 0 || y >= classes())) {
          throw new IllegalArgumentException("label " + y + " outside [0, " + classes() + ")");
        }
      }
    }
    return compute(x, t, null, labels).score();
  }

  @Override
  public INDArray score(INDArray x, double[] t) {
    return compute(x, t, null, null).score();
  }

  @Override
  public ScoreJvp scoreJvp(INDArray x, double[] t, INDArray v) {
    return compute(x, t, v, null);
  }

  private ScoreJvp compute(INDArray x, double[] t, INDArray vArr, int[] labels) {
    int b = (int) x.size(0);
    int d = dim();
    if (x.size(1) != d) throw new IllegalArgumentException("expected width " + d + ", got " + x.size(1));
    if (t.length != b) throw new IllegalArgumentException("expected " + b + " time values, got " + t.length);
    double[] xs = x.dup('c').data().asDouble();
    double[] vs = vArr == null ? null : vArr.dup('c').data().asDouble();
    double[] out = new double[b * d];
    double[] jv = vs == null ? null : new double[b * d];
    int kk = mixture.components();
    double[] w = mixture.weights();
    double[][] mu = mixture.means();
    double[] var = mixture.vars();
    double[] logit = new double[kk];
    double[] c = new double[kk];
    double[] sk = new double[kk * d];
    for (int i = 0; i < b; i++) {
      double m = sde.meanCoeff(t[i]);
      double s = sde.std(t[i]);
      double max = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < kk; k++) {
        c[k] = m * m * var[k] + s * s;
        double sq = 0;
        for (int j = 0; j < d; j++) {
          double e = xs[i * d + j] - m * mu[k][j];
          sk[k * d + j] = -e / c[k];
          sq += e * e;
        }
        logit[k] = Math.log(w[k]) - 0.5 * d * Math.log(c[k]) - 0.5 * sq / c[k];
        max = Math.max(max, logit[k]);
      }
      double z = 0;
      for (int k = 0; k < kk; k++) {
        logit[k] = Math.exp(logit[k] - max);
        z += logit[k];
      }
      int label = labels == null ? NULL_LABEL : labels[i];
      for (int k = 0; k < kk; k++) {
        double r = label == NULL_LABEL ? logit[k] / z : (k == label ? 1.0 : 0.0);
        logit[k] = r;
        for (int j = 0; j < d; j++) out[i * d + j] += r * sk[k * d + j];
      }
      if (jv != null) {
        double sv = 0;
        for (int j = 0; j < d; j++) sv += out[i * d + j] * vs[i * d + j];
        for (int k = 0; k < kk; k++) {
          double r = logit[k];
          double skv = 0;
          for (int j = 0; j < d; j++) skv += sk[k * d + j] * vs[i * d + j];
          for (int j = 0; j < d; j++) {
            jv[i * d + j] += r * (-vs[i * d + j] / c[k] + sk[k * d + j] * skv);
          }
        }
        for (int j = 0; j < d; j++) jv[i * d + j] -= out[i * d + j] * sv;
      }
    }
    INDArray score = Nd4j.createFromArray(out).reshape(b, d).castTo(x.dataType());
    INDArray jvp = jv == null ? null : Nd4j.createFromArray(jv).reshape(b, d).castTo(x.dataType());
    return new ScoreJvp(score, jvp);
  }

  /** log p_t(x) per row of the perturbed mixture (nats). */
  public double[] logDensity(INDArray x, double[] t) {
    int b = (int) x.size(0);
    double[] out = new double[b];
    for (int i = 0; i < b; i++) {
      out[i] = mixture.logDensity(x.getRow(i).toDoubleVector(), sde.meanCoeff(t[i]), sde.std(t[i]));
    }
    return out;
  }

  @Override public String describe() { return "analytic:" + mixture.name() + " over " + sde.describe(); }
}
