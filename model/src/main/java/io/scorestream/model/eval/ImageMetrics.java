package io.scorestream.model.eval;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;

/**
 * Sample-quality metrics on a classifier's outputs, for image models evaluated with a small classifier in place of
 * Inception (so the numbers are comparable across runs here, not with published Inception scores):
 * <ul>
 *   <li>{@link #accuracy}: the fraction of class-conditional samples classified as their label;</li>
 *   <li>{@link #inceptionScore}: exp E_x KL(p(y | x) || p(y)) (Salimans et al. 2016), at most the class count;</li>
 *   <li>{@link #frechetDistance}: ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2) between Gaussians
 *       fitted to two feature sets (Heusel et al. 2017);</li>
 *   <li>{@link #kernelInceptionDistance}: the unbiased MMD^2 with the kernel (a.b / d + 1)^3 (Binkowski et al.
 *       2018).</li>
 * </ul>
 * Rows are [n x d] row-major. Pure functions.
 */
public final class ImageMetrics {
  private ImageMetrics() {}

  /** The fraction of rows whose arg-max logit is the label (labels[i % labels.length]). */
  public static double accuracy(double[] logits, int classes, int[] labels) {
    int n = logits.length / classes;
    int hits = 0;
    for (int i = 0; i < n; i++) if (argmax(logits, i * classes, classes) == labels[i % labels.length]) hits++;
    return hits / (double) n;
  }

  static int argmax(double[] v, int offset, int n) {
    int best = 0;
    for (int k = 1; k < n; k++) if (v[offset + k] > v[offset + best]) best = k;
    return best;
  }

  /** Softmax probabilities of logits rows. */
  public static double[] softmax(double[] logits, int classes) {
    double[] p = new double[logits.length];
    for (int i = 0; i < logits.length / classes; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < classes; k++) max = Math.max(max, logits[i * classes + k]);
      double z = 0;
      for (int k = 0; k < classes; k++) z += p[i * classes + k] = Math.exp(logits[i * classes + k] - max);
      for (int k = 0; k < classes; k++) p[i * classes + k] /= z;
    }
    return p;
  }

  /** exp(mean_x KL(p(y|x) || p(y))) with p(y) the mean of p(y|x) over the rows. */
  public static double inceptionScore(double[] logits, int classes) {
    double[] p = softmax(logits, classes);
    int n = p.length / classes;
    double[] marginal = new double[classes];
    for (int i = 0; i < n; i++) for (int k = 0; k < classes; k++) marginal[k] += p[i * classes + k] / n;
    double kl = 0;
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < classes; k++) {
        double q = p[i * classes + k];
        if (q > 0) kl += q * (Math.log(q) - Math.log(marginal[k]));
      }
    }
    return Math.exp(kl / n);
  }

  /** The Frechet distance between Gaussians fitted to feature sets a and b (d features each). */
  public static double frechetDistance(double[] a, double[] b, int d) {
    double[] ma = mean(a, d);
    double[] mb = mean(b, d);
    RealMatrix sa = covariance(a, ma, d);
    RealMatrix sb = covariance(b, mb, d);
    RealMatrix rootA = sqrtSymmetric(sa);
    RealMatrix m = rootA.multiply(sb).multiply(rootA);
    m = m.add(m.transpose()).scalarMultiply(0.5);
    double traceSqrt = 0;
    for (double ev : new EigenDecomposition(m).getRealEigenvalues()) traceSqrt += Math.sqrt(Math.max(ev, 0));
    double diff = 0;
    for (int j = 0; j < d; j++) diff += (ma[j] - mb[j]) * (ma[j] - mb[j]);
    return diff + sa.getTrace() + sb.getTrace() - 2 * traceSqrt;
  }

  /** The unbiased MMD^2 between a and b with k(x, y) = (x.y / d + 1)^3. */
  public static double kernelInceptionDistance(double[] a, double[] b, int d) {
    int n = a.length / d;
    int m = b.length / d;
    double kaa = 0;
    double kbb = 0;
    double kab = 0;
    for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) if (i != j) kaa += kernel(a, i, a, j, d);
    for (int i = 0; i < m; i++) for (int j = 0; j < m; j++) if (i != j) kbb += kernel(b, i, b, j, d);
    for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) kab += kernel(a, i, b, j, d);
    return kaa / ((double) n * (n - 1)) + kbb / ((double) m * (m - 1)) - 2 * kab / ((double) n * m);
  }

  private static double kernel(double[] a, int i, double[] b, int j, int d) {
    double dot = 0;
    for (int k = 0; k < d; k++) dot += a[i * d + k] * b[j * d + k];
    double v = dot / d + 1;
    return v * v * v;
  }

  private static double[] mean(double[] x, int d) {
    int n = x.length / d;
    double[] m = new double[d];
    for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) m[j] += x[i * d + j] / n;
    return m;
  }

  private static RealMatrix covariance(double[] x, double[] mean, int d) {
    int n = x.length / d;
    double[][] c = new double[d][d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        double ej = x[i * d + j] - mean[j];
        for (int k = j; k < d; k++) c[j][k] += ej * (x[i * d + k] - mean[k]);
      }
    }
    for (int j = 0; j < d; j++) {
      for (int k = j; k < d; k++) {
        c[j][k] /= (n - 1);
        c[k][j] = c[j][k];
      }
    }
    return new Array2DRowRealMatrix(c, false);
  }

  private static RealMatrix sqrtSymmetric(RealMatrix s) {
    EigenDecomposition e = new EigenDecomposition(s);
    double[] ev = e.getRealEigenvalues();
    int d = ev.length;
    double[][] root = new double[d][d];
    for (int i = 0; i < d; i++) root[i][i] = Math.sqrt(Math.max(ev[i], 0));
    return e.getV().multiply(new Array2DRowRealMatrix(root, false)).multiply(e.getVT());
  }
}
