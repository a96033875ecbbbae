package io.scorestream.model.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NormalizationTest {

  private static double[][] skewedRows(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[][] rows = new double[n][3];
    for (int i = 0; i < n; i++) {
      rows[i][0] = 100 + 7 * rng.nextDouble();
      rows[i][1] = -3 + 0.01 * rng.nextDouble();
      rows[i][2] = 1e4 * (rng.nextDouble() - 0.5);
    }
    return rows;
  }

  @Test
  void fittedDataHasZeroMeanUnitStd() {
    double[][] rows = skewedRows(5000, 3);
    Normalization norm = Normalization.fit(rows);
    assertEquals("standard", norm.kind());
    double[][] z = norm.apply(rows);
    for (int j = 0; j < 3; j++) {
      double m = 0;
      for (double[] r : z) m += r[j];
      m /= z.length;
      double v = 0;
      for (double[] r : z) v += (r[j] - m) * (r[j] - m);
      v /= z.length;
      assertEquals(0.0, m, 1e-9, "mean of column " + j);
      assertEquals(1.0, Math.sqrt(v), 1e-9, "std of column " + j);
    }
    // The fitted parameters are the column statistics themselves.
    assertEquals(103.5, norm.mean()[0], 0.2);
    assertEquals(7 / Math.sqrt(12), norm.std()[0], 0.05);
  }

  @Test
  void invertUndoesApply() {
    double[][] rows = skewedRows(200, 4);
    Normalization norm = Normalization.fit(rows);
    double[][] back = norm.invert(norm.apply(rows));
    for (int i = 0; i < rows.length; i++) {
      for (int j = 0; j < 3; j++) assertEquals(rows[i][j], back[i][j], 1e-12 * Math.max(1, Math.abs(rows[i][j])));
    }
  }

  @Test
  void logDetJacobianIsMinusSumLogStd() {
    Normalization norm = new Normalization("standard", new double[] {1, 2}, new double[] {2, 0.5});
    assertEquals(-Math.log(2) - Math.log(0.5), norm.logDetJacobian(), 1e-15);
    assertArrayEquals(new double[] {0.5, 2}, norm.apply(new double[] {2, 3}), 1e-15);
    assertEquals(0.0, Normalization.none(4).logDetJacobian());
  }

  @Test
  void logDetJacobianTransformsDensities() {
    // A 1-D Gaussian N(3, 2^2) normalised to N(0, 1): log p_data(x) = log N(apply(x); 0, 1) + logDet.
    Normalization norm = new Normalization("standard", new double[] {3}, new double[] {2});
    double x = 4.2;
    double logData = -0.5 * Math.log(2 * Math.PI * 4) - 0.5 * (x - 3) * (x - 3) / 4;
    double z = norm.apply(new double[] {x})[0];
    double logNorm = -0.5 * Math.log(2 * Math.PI) - 0.5 * z * z;
    assertEquals(logData, logNorm + norm.logDetJacobian(), 1e-12);
  }

  @Test
  void noneIsIdentityAndConstantColumnsAreFloored() {
    Normalization none = Normalization.none(2);
    assertArrayEquals(new double[] {5, -7}, none.apply(new double[] {5, -7}));
    Normalization flat = Normalization.fit(new double[][] {{1, 2}, {1, 4}});
    assertEquals(Normalization.STD_FLOOR, flat.std()[0]);
    assertEquals(1.0, flat.std()[1], 1e-15);
  }

  @Test
  void validatesAndCopies() {
    assertThrows(IllegalArgumentException.class, () -> new Normalization("standard", new double[2], new double[3]));
    assertThrows(IllegalArgumentException.class, () -> new Normalization("zscore", new double[1], new double[] {1}));
    assertThrows(IllegalArgumentException.class, () -> new Normalization("standard", new double[1], new double[1]));
    assertThrows(IllegalArgumentException.class, () -> Normalization.none(2).apply(new double[3]));
    assertThrows(DataException.class, () -> Normalization.canonicalKind("minmax"));
    double[] mean = {1, 2};
    Normalization norm = new Normalization("standard", mean, new double[] {1, 1});
    mean[0] = 99;
    norm.mean()[1] = 99;
    assertArrayEquals(new double[] {1, 2}, norm.mean());
  }
}
