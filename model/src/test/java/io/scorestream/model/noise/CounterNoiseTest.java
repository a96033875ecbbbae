package io.scorestream.model.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class CounterNoiseTest {

  @Test
  void philoxMatchesTheReferenceKnownAnswer() {
    // Known-answer vector of Random123 (kat_vectors: philox4x32 10 rounds, counter and key all ones-pattern).
    int[] out = new int[4];
    CounterNoise.philox(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out);
    assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}, out);
  }

  @Test
  void aChainSeesTheSameNoiseAloneAndInABatchOf1024() {
    long seed = 99;
    INDArray alone = CounterNoise.normal(RowKeys.of(seed, 517, 1), 12, CounterNoise.PREDICTOR, 3, DataType.DOUBLE);
    INDArray batch = CounterNoise.normal(RowKeys.of(seed, 0, 1024), 12, CounterNoise.PREDICTOR, 3, DataType.DOUBLE);
    assertArrayEquals(alone.getRow(0).toDoubleVector(), batch.getRow(517).toDoubleVector(), 0.0);
  }

  @Test
  void drawsDifferAcrossChainsStepsAndSubstreams() {
    RowKeys k = RowKeys.of(1, 0, 2);
    double[] a = CounterNoise.normal(k, 0, 1, 4, DataType.DOUBLE).getRow(0).toDoubleVector();
    assertNotEquals(a[0], CounterNoise.normal(k, 0, 1, 4, DataType.DOUBLE).getRow(1).toDoubleVector()[0]);
    assertNotEquals(a[0], CounterNoise.normal(k, 1, 1, 4, DataType.DOUBLE).getRow(0).toDoubleVector()[0]);
    assertNotEquals(a[0], CounterNoise.normal(k, 0, 2, 4, DataType.DOUBLE).getRow(0).toDoubleVector()[0]);
  }

  @Test
  void normalsHaveZeroMeanUnitVarianceAndNoCorrelation() {
    INDArray z = CounterNoise.normal(RowKeys.of(5, 0, 50_000), 3, 1, 4, DataType.DOUBLE);
    double[] mean = z.mean(0).toDoubleVector();
    double[] var = z.var(false, 0).toDoubleVector();
    for (int j = 0; j < 4; j++) {
      assertEquals(0, mean[j], 0.02);
      assertEquals(1, var[j], 0.03);
    }
    double corr = z.getColumn(0).mul(z.getColumn(1)).meanNumber().doubleValue();
    assertEquals(0, corr, 0.02);
    double kurt = z.getColumn(2).mul(z.getColumn(2)).mul(z.getColumn(2)).mul(z.getColumn(2)).meanNumber().doubleValue();
    assertEquals(3, kurt, 0.15);
  }

  @Test
  void rademacherSignsAreBalanced() {
    INDArray r = CounterNoise.rademacher(RowKeys.of(8, 0, 20_000), 0, CounterNoise.PROBE, 2, DataType.DOUBLE);
    assertEquals(0, r.meanNumber().doubleValue(), 0.02);
    assertEquals(1.0, r.mul(r).meanNumber().doubleValue(), 0.0);
  }
}
