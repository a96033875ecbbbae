package io.scorestream.model.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Group normalisation (Wu and He 2018, eq. 1-3) of activations [N, C, H, W] with G groups of C / G channels:
 * y = gamma (x - mu_g) / sqrt(var_g + eps) + beta, with the mean and the (biased) variance of each sample's group
 * over its channels and pixels, and a learned gamma and beta per channel. SameDiff 1.0.0-M2.1 has no group norm op,
 * so it is built from reshape, mean and arithmetic, which SameDiff differentiates; {@link #forward} is the same
 * function on plain arrays for inference and tests. The U-Net's blocks use it (issue 11).
 */
public final class GroupNorm {
  /** Wu and He's epsilon. */
  public static final double EPS = 1e-5;

  private GroupNorm() {}

  /**
   * Adds group norm of x [N, C, H, W] to sd, with trainable {@code name/gamma} (ones) and {@code name/beta}
   * (zeros) of shape [1, C, 1, 1].
   *
   * @throws IllegalArgumentException when C is not a multiple of groups
   */
  public static SDVariable build(SameDiff sd, String name, SDVariable x, int channels, int groups) {
    check(channels, groups);
    SDVariable gamma = sd.var(name + "/gamma", Nd4j.ones(x.dataType(), 1, channels, 1, 1));
    SDVariable beta = sd.var(name + "/beta", Nd4j.zeros(x.dataType(), 1, channels, 1, 1));
    return build(sd, x, gamma, beta, channels, groups);
  }

  /** Group norm of x with the given gamma and beta variables [1, C, 1, 1]. */
  public static SDVariable build(SameDiff sd, SDVariable x, SDVariable gamma, SDVariable beta, int channels,
                                 int groups) {
    check(channels, groups);
    SDVariable shape = x.shape();
    // [N, C, H, W] -> [N, G, C/G * H * W]
    SDVariable grouped = x.reshape(sd.concat(0, shape.get(org.nd4j.autodiff.samediff.SDIndex.point(0)).reshape(1),
        sd.constant(Nd4j.createFromArray((long) groups)), sd.constant(Nd4j.createFromArray(-1L))));
    SDVariable mean = grouped.mean(true, 2);
    SDVariable centred = grouped.sub(mean);
    SDVariable var = centred.mul(centred).mean(true, 2);
    SDVariable normed = centred.div(sd.math().sqrt(var.add(EPS)));
    return normed.reshape(shape).mul(gamma).add(beta);
  }

  /** The same function on arrays: y = gamma (x - mu) / sqrt(var + eps) + beta, x [N, C, H, W], gamma/beta [C]. */
  public static double[] forward(double[] x, int n, int channels, int height, int width, int groups, double[] gamma,
                                 double[] beta) {
    check(channels, groups);
    int per = channels / groups * height * width;
    int hw = height * width;
    double[] y = new double[x.length];
    for (int s = 0; s < n; s++) {
      for (int g = 0; g < groups; g++) {
        int from = (s * groups + g) * per;
        double mean = 0;
        for (int k = from; k < from + per; k++) mean += x[k];
        mean /= per;
        double var = 0;
        for (int k = from; k < from + per; k++) var += (x[k] - mean) * (x[k] - mean);
        var /= per;
        double inv = 1 / Math.sqrt(var + EPS);
        for (int k = from; k < from + per; k++) {
          int c = (k / hw) % channels;
          y[k] = gamma[c] * (x[k] - mean) * inv + beta[c];
        }
      }
    }
    return y;
  }

  /** Group norm of an [N, C, H, W] array (any type) through {@link #forward}, for inference outside SameDiff. */
  public static INDArray apply(INDArray x, int groups, double[] gamma, double[] beta) {
    long[] s = x.shape();
    double[] y = forward(x.dup('c').data().asDouble(), (int) s[0], (int) s[1], (int) s[2], (int) s[3], groups, gamma,
        beta);
    return Nd4j.createFromArray(y).reshape(s).castTo(x.dataType());
  }

  private static void check(int channels, int groups) {
    if (groups < 1 || channels < 1 || channels % groups != 0) {
      throw new IllegalArgumentException("group norm needs C a multiple of G >= 1, got C = " + channels + ", G = "
          + groups);
    }
  }
}
