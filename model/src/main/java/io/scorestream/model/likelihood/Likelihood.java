package io.scorestream.model.likelihood;

import io.scorestream.model.noise.CounterNoise;
import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.sample.DormandPrinceTableau;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Exact likelihoods along the probability-flow ODE (Song et al. 2021, appendix D.2; Chen et al. 2018):
 * log p_eps(x) = log p_T(x_T) + integral_eps^T div f~(x_t, t) dt, f~ = f - 1/2 g^2 s, with the divergence
 * div f~ = a(t) D - 1/2 g(t)^2 tr(ds/dx) estimated by Hutchinson's trace estimator v^T (ds/dx) v (one fixed probe
 * per chain for the whole solve, Rademacher or Gaussian) or computed exactly from D Jacobian-vector products.
 * Integrated by Dormand-Prince RK45 with a step size per chain. Runs on the calling thread.
 */
public final class Likelihood {
  private Likelihood() {}

  /** How the divergence is computed. */
  public enum Divergence {
    RADEMACHER, GAUSSIAN, EXACT;

    public static Divergence named(String name) {
      return switch (name.toLowerCase(Locale.ROOT)) {
        case "rademacher", "hutchinson" -> RADEMACHER;
        case "gaussian" -> GAUSSIAN;
        case "exact" -> EXACT;
        default -> throw new IllegalArgumentException("unknown divergence '" + name
            + "' (expected rademacher, gaussian or exact)");
      };
    }
  }

  /** Exact divergences need D Jacobian-vector products per evaluation; above this dimension they are refused. */
  public static final int EXACT_MAX_DIM = 16;

  /**
   * @param logDensity     log p_eps(x) per row, nats
   * @param natsPerDim     mean negative log-likelihood per dimension, nats
   * @param networkCalls   evaluations of the batched vector field
   */
  public record Result(double[] logDensity, double natsPerDim, long networkCalls) {
    /** Bits per dimension: nats / ln 2. */
    public double bitsPerDim() {
      return natsPerDim / Math.log(2);
    }

    /**
     * Bits per dimension of 8-bit data that was scaled from {0..255} to an interval of width {@code range} before
     * training (2 for [-1, 1]): the continuous density is converted to a discrete one by adding log2(256 / range)
     * per dimension (score_sde's offset of 7 bits for centred data).
     */
    public double bitsPerDimEightBit(double range) {
      return bitsPerDim() + Math.log(256.0 / range) / Math.log(2);
    }
  }

  /** The NLL of the rows of x under the model, integrated with tolerances rtol and atol from the SDE's t_eps. */
  public static Result evaluate(ScoreModel model, INDArray x, Divergence divergence, double rtol, double atol,
                                long seed) {
    return evaluate(model, x, divergence, rtol, atol, seed, model.sde().tEps());
  }

  /**
   * The NLL of the rows of x as log p_eps(x) with the ODE started at {@code eps} (0 < eps < 1). score_sde starts its
   * likelihoods at 1e-5 for every SDE; below the times a network was trained on, the flow runs on the network's
   * extrapolated score, and the result is still the exact density of that flow.
   */
  public static Result evaluate(ScoreModel model, INDArray x, Divergence divergence, double rtol, double atol,
                                long seed, double eps) {
    if (!(eps > 0 && eps < 1)) throw new IllegalArgumentException("eps must be in (0, 1), got " + eps);
    int d = model.dim();
    if (x.size(1) != d) throw new IllegalArgumentException("expected width " + d + ", got " + x.size(1));
    if (divergence == Divergence.EXACT && d > EXACT_MAX_DIM) {
      throw new IllegalArgumentException("exact divergence needs D <= " + EXACT_MAX_DIM + " (got D = " + d
          + "); use rademacher or gaussian");
    }
    Sde sde = model.sde();
    DataType type = model.dataType();
    int b = (int) x.size(0);
    RowKeys keys = RowKeys.of(seed, 0, b);
    INDArray probe = divergence == Divergence.RADEMACHER
        ? CounterNoise.rademacher(keys, 0, CounterNoise.PROBE, d, type)
        : CounterNoise.normal(keys, 0, CounterNoise.PROBE, d, type);

    // Augmented state [y, delta]: the trajectory and the accumulated divergence.
    INDArray y = Nd4j.hstack(x.castTo(type), Nd4j.zeros(type, b, 1));
    double[] t = new double[b];
    double[] h = new double[b];
    java.util.Arrays.fill(t, eps);
    java.util.Arrays.fill(h, eps < 1e-3 ? 10 * eps : 0.01);
    boolean[] done = new boolean[b];
    long calls = 0;
    INDArray[] k = new INDArray[DormandPrinceTableau.STAGES];
    k[0] = field(model, y, t, probe, divergence);
    calls++;
    int remaining = b;
    while (remaining > 0) {
      double[] hs = new double[b];
      for (int i = 0; i < b; i++) hs[i] = done[i] ? 0 : h[i];
      INDArray hCol = col(hs, type);
      for (int s = 1; s < DormandPrinceTableau.STAGES; s++) {
        INDArray u = y.dup();
        for (int j = 0; j < s; j++) {
          double a = DormandPrinceTableau.A[s][j];
          if (a != 0) u.addi(k[j].mulColumnVector(hCol).muli(a));
        }
        double[] ts = new double[b];
        for (int i = 0; i < b; i++) ts[i] = t[i] + DormandPrinceTableau.C[s] * hs[i];
        k[s] = field(model, u, ts, probe, divergence);
        calls++;
        if (s == DormandPrinceTableau.STAGES - 1) {
          // Stage 7 is evaluated at the fifth-order solution (first-same-as-last).
          INDArray err = Nd4j.zeros(type, b, d + 1);
          for (int j = 0; j < DormandPrinceTableau.STAGES; j++) {
            err.addi(k[j].mul(DormandPrinceTableau.E[j]));
          }
          err.muliColumnVector(hCol);
          INDArray scale = Transforms.max(Transforms.abs(y, true), Transforms.abs(u, true), false).muli(rtol).addi(atol);
          double[] e = err.divi(scale).norm2(1).divi(Math.sqrt(d + 1)).toDoubleVector();
          double[] accept = new double[b];
          for (int i = 0; i < b; i++) {
            if (done[i]) continue;
            boolean ok = e[i] <= 1.0 || !Double.isFinite(e[i]);
            double next = DormandPrinceTableau.nextStep(h[i], e[i], ok);
            if (ok) {
              accept[i] = 1;
              t[i] += h[i];
              if (1.0 - t[i] <= 1e-12) {
                t[i] = 1.0;
                done[i] = true;
                remaining--;
              }
            }
            h[i] = Math.min(next, 1.0 - t[i]);
          }
          INDArray acc = col(accept, type);
          y.addi(u.sub(y).muliColumnVector(acc));
          k[0].addi(k[6].sub(k[0]).muliColumnVector(acc));
        }
      }
    }
    INDArray xT = y.get(NDArrayIndex.all(), NDArrayIndex.interval(0, d));
    double[] delta = y.get(NDArrayIndex.all(), NDArrayIndex.point(d)).toDoubleVector();
    double[] prior = sde.priorLogProb(xT);
    double[] logp = new double[b];
    double sum = 0;
    for (int i = 0; i < b; i++) {
      logp[i] = prior[i] + delta[i];
      sum += logp[i];
    }
    return new Result(logp, -sum / b / d, calls);
  }

  /** [f~(y, t), div f~(y, t)] for the augmented state. */
  private static INDArray field(ScoreModel model, INDArray aug, double[] t, INDArray probe, Divergence divergence) {
    Sde sde = model.sde();
    int d = model.dim();
    DataType type = model.dataType();
    INDArray y = aug.get(NDArrayIndex.all(), NDArrayIndex.interval(0, d)).dup();
    INDArray a = Sde.column(t, type, sde::driftCoeff);
    INDArray halfG2 = Sde.column(t, type, tt -> 0.5 * sde.diffusion(tt) * sde.diffusion(tt));
    INDArray trace;
    INDArray score;
    if (divergence == Divergence.EXACT) {
      trace = Nd4j.zeros(type, t.length, 1);
      score = null;
      for (int i = 0; i < d; i++) {
        INDArray e = Nd4j.zeros(type, t.length, d);
        e.getColumn(i).assign(1);
        ScoreModel.ScoreJvp sj = model.scoreJvp(y, t, e);
        score = sj.score();
        trace.addi(sj.jvp().getColumn(i).reshape(t.length, 1));
      }
    } else {
      ScoreModel.ScoreJvp sj = model.scoreJvp(y, t, probe);
      score = sj.score();
      trace = sj.jvp().mul(probe).sum(1).reshape(t.length, 1);
    }
    INDArray dy = y.mulColumnVector(a).subi(score.mulColumnVector(halfG2));
    INDArray div = a.mul(d).subi(trace.mul(halfG2));
    return Nd4j.hstack(dy, div);
  }

  private static INDArray col(double[] v, DataType type) {
    return Nd4j.createFromArray(v).castTo(type).reshape(v.length, 1);
  }
}
