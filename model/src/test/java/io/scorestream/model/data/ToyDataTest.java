package io.scorestream.model.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.score.GaussianMixture;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ToyDataTest {

  @Test
  void batchesAreDeterministicPerSeedAndStep() {
    for (String name : ToyData.NAMES) {
      ToyData toy = new ToyData(name);
      double[][] a = toy.batch(42, 7, 64);
      double[][] b = new ToyData(name).batch(42, 7, 64);
      assertTrue(Arrays.deepEquals(a, b), name + ": same arguments must give the same rows");
      assertFalse(Arrays.deepEquals(a, toy.batch(42, 8, 64)), name + ": next step must differ");
      assertFalse(Arrays.deepEquals(a, toy.batch(43, 7, 64)), name + ": other seed must differ");
      assertEquals(64, a.length);
      for (double[] row : a) {
        assertEquals(2, row.length);
        assertTrue(Double.isFinite(row[0]) && Double.isFinite(row[1]));
      }
      assertEquals("toy:" + name, toy.describe());
      assertEquals("none", toy.normalization().kind());
    }
  }

  @Test
  void gmm8ModeWeightsAreEqual() {
    ToyData toy = new ToyData("gmm8");
    GaussianMixture gmm = GaussianMixture.named("gmm8");
    int n = 20_000;
    int[] counts = new int[8];
    for (double[] x : toy.batch(2024, 0, n)) counts[gmm.nearestMode(x)]++;
    for (int k = 0; k < 8; k++) assertEquals(1.0 / 8, counts[k] / (double) n, 0.02, "mode " + k);
  }

  @Test
  void ncsnGmmModeWeightsAreEightyTwenty() {
    GaussianMixture gmm = GaussianMixture.named("ncsn-gmm");
    int n = 20_000;
    int first = 0;
    for (double[] x : new ToyData("ncsn-gmm").batch(5, 3, n)) if (gmm.nearestMode(x) == 0) first++;
    assertEquals(0.8, first / (double) n, 0.02);
  }

  @Test
  void mixtureToysMatchTheOracleSampler() {
    ToyData toy = new ToyData("GMM8");
    assertEquals("gmm8", toy.name());
    GaussianMixture gmm = toy.mixture().orElseThrow();
    assertTrue(Arrays.deepEquals(gmm.sample(100, DataSource.streamSeed(9, 11)), toy.batch(9, 11, 100)));
    assertTrue(new ToyData("rings").mixture().isEmpty());
  }

  @Test
  void allIsTheFixedReferenceSample() {
    ToyData toy = new ToyData("moons");
    double[][] all = toy.all();
    assertEquals(10_000, all.length);
    assertTrue(Arrays.deepEquals(toy.batch(12345, 0, 10_000), all));
  }

  @Test
  void checkerboardFillsTheEightEvenCells() {
    boolean[][] hit = new boolean[4][4];
    for (double[] x : new ToyData("checkerboard").batch(1, 0, 5000)) {
      assertTrue(Math.abs(x[0]) <= 4 && Math.abs(x[1]) <= 4, Arrays.toString(x));
      int i = (int) Math.floor(x[0] / 2);
      int j = (int) Math.floor(x[1] / 2);
      assertEquals(0, Math.floorMod(i + j, 2), "point in an empty cell: " + Arrays.toString(x));
      hit[i + 2][j + 2] = true;
    }
    int cells = 0;
    for (boolean[] r : hit) for (boolean h : r) if (h) cells++;
    assertEquals(8, cells);
  }

  @Test
  void ringsHaveFourEqualRadii() {
    int[] counts = new int[5];
    int n = 8000;
    for (double[] x : new ToyData("rings").batch(3, 1, n)) {
      double r = Math.hypot(x[0], x[1]);
      long k = Math.round(r);
      assertTrue(k >= 1 && k <= 4 && Math.abs(r - k) < 0.5, "radius " + r);
      counts[(int) k]++;
    }
    for (int k = 1; k <= 4; k++) assertEquals(0.25, counts[k] / (double) n, 0.03, "ring " + k);
  }

  @Test
  void swissrollAndMoonsStayInRange() {
    for (String name : new String[] {"swissroll", "moons"}) {
      double[][] xs = new ToyData(name).batch(8, 0, 5000);
      double maxAbs = 0;
      double mx = 0;
      for (double[] x : xs) {
        maxAbs = Math.max(maxAbs, Math.max(Math.abs(x[0]), Math.abs(x[1])));
        mx += x[0] / xs.length;
      }
      assertTrue(maxAbs < 5.5 && maxAbs > 2.5, name + " extent " + maxAbs);
      assertEquals(0.0, mx, 1.0, name + " centred");
    }
  }

  @Test
  void swissrollLiesNearItsSpiral() {
    // Every point is within a few noise stds of the curve (t cos t, t sin t)/3, t in [1.5 pi, 4.5 pi].
    for (double[] x : new ToyData("swissroll").batch(4, 2, 500)) {
      double best = Double.POSITIVE_INFINITY;
      for (int s = 0; s <= 4000; s++) {
        double t = 1.5 * Math.PI * (1 + 2 * s / 4000.0);
        best = Math.min(best, Math.hypot(x[0] - t * Math.cos(t) / 3, x[1] - t * Math.sin(t) / 3));
      }
      assertTrue(best < 0.6, "point " + Arrays.toString(x) + " is " + best + " from the spiral");
    }
  }

  @Test
  void unknownToyNamesTheValidOnes() {
    DataException e = assertThrows(DataException.class, () -> new ToyData("spiral"));
    assertTrue(e.getMessage().contains("'spiral'"), e.getMessage());
    for (String name : ToyData.NAMES) assertTrue(e.getMessage().contains(name), e.getMessage());
  }

  @Test
  void rejectsNonPositiveBatchSize() {
    assertThrows(IllegalArgumentException.class, () -> new ToyData("gmm8").batch(1, 1, 0));
  }

  @Test
  void streamSeedSeparatesSteps() {
    assertEquals(DataSource.streamSeed(1, 2), DataSource.streamSeed(1, 2));
    long[] seen = new long[1000];
    for (int s = 0; s < seen.length; s++) seen[s] = DataSource.streamSeed(7, s);
    assertEquals(seen.length, Arrays.stream(seen).distinct().count());
    assertFalse(DataSource.streamSeed(1, 2) == DataSource.streamSeed(2, 1));
    assertArrayEquals(seen, java.util.stream.IntStream.range(0, 1000).mapToLong(s -> DataSource.streamSeed(7, s))
        .toArray());
  }
}
