package io.scorestream.model.data;

import io.scorestream.model.score.GaussianMixture;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Synthetic 2-D toy distributions at their natural scale (normalisation {@code none}), sampled afresh for every
 * (seed, step). The two Gaussian mixtures are drawn by {@link GaussianMixture#sample(int, long)} so they match
 * the analytic score oracle exactly.
 */
public final class ToyData implements DataSource {

  /** The accepted toy names. */
  public static final List<String> NAMES =
      List.of("ncsn-gmm", "gmm8", "checkerboard", "swissroll", "moons", "rings");

  /** Seed, step and size of the fixed sample that {@link #all()} returns. */
  public static final long ALL_SEED = 12345;
  public static final int ALL_SIZE = 10_000;

  private static final int DIM = 2;

  private final String name;
  private final GaussianMixture mixture;

  /** The toy of this name (case-insensitive); {@link DataException} listing {@link #NAMES} if unknown. */
  public ToyData(String name) {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    if (!NAMES.contains(n)) {
      throw new DataException("unknown toy data set '" + name + "' (expected one of " + String.join(", ", NAMES) + ")");
    }
    this.name = n;
    this.mixture = GaussianMixture.NAMES.contains(n) ? GaussianMixture.named(n) : null;
  }

  /** The canonical (lower-case) name. */
  public String name() {
    return name;
  }

  /** The analytic mixture behind {@code ncsn-gmm} and {@code gmm8}; empty for the other toys. */
  public Optional<GaussianMixture> mixture() {
    return Optional.ofNullable(mixture);
  }

  @Override
  public int dim() {
    return DIM;
  }

  @Override
  public String describe() {
    return "toy:" + name;
  }

  @Override
  public Normalization normalization() {
    return Normalization.none(DIM);
  }

  @Override
  public double[][] all() {
    return batch(ALL_SEED, 0, ALL_SIZE);
  }

  @Override
  public double[][] batch(long seed, long step, int batchSize) {
    DataSource.checkBatchSize(batchSize);
    long s = DataSource.streamSeed(seed, step);
    if (mixture != null) return mixture.sample(batchSize, s);
    SplittableRandom rng = new SplittableRandom(s);
    double[][] out = new double[batchSize][];
    for (int i = 0; i < batchSize; i++) out[i] = draw(rng);
    return out;
  }

  private double[] draw(SplittableRandom rng) {
    switch (name) {
      case "checkerboard":
        return checkerboard(rng);
      case "swissroll":
        return swissroll(rng);
      case "moons":
        return moons(rng);
      case "rings":
        return rings(rng);
      default:
        throw new IllegalStateException("no sampler for " + name);
    }
  }

  /**
   * FFJORD's checkerboard times 2: 16 cells of side 2 tiling [-4,4]^2, the 8 with floor(x/2)+floor(y/2) even
   * filled uniformly.
   */
  private static double[] checkerboard(SplittableRandom rng) {
    double x1 = rng.nextDouble() * 4 - 2;
    double x2 = rng.nextDouble() - 2 * rng.nextInt(2) + Math.floorMod((long) Math.floor(x1), 2L);
    return new double[] {2 * x1, 2 * x2};
  }

  /** t = 1.5 pi (1 + 2u); (t cos t, t sin t) / 3 + N(0, 0.1^2 I); within about [-5,5]^2. */
  private static double[] swissroll(SplittableRandom rng) {
    double t = 1.5 * Math.PI * (1 + 2 * rng.nextDouble());
    return new double[] {t * Math.cos(t) / 3 + 0.1 * gaussian(rng), t * Math.sin(t) / 3 + 0.1 * gaussian(rng)};
  }

  /**
   * scikit-learn's two moons with noise 0.1 (in the unit-radius frame), centred and scaled by 2.5: the upper
   * moon (cos a, sin a), the lower (1 - cos a, 0.5 - sin a), a ~ U[0, pi]; within about [-4,4] x [-2.5,2.5].
   */
  private static double[] moons(SplittableRandom rng) {
    double a = Math.PI * rng.nextDouble();
    double x;
    double y;
    if (rng.nextBoolean()) {
      x = Math.cos(a);
      y = Math.sin(a);
    } else {
      x = 1 - Math.cos(a);
      y = 0.5 - Math.sin(a);
    }
    x += 0.1 * gaussian(rng);
    y += 0.1 * gaussian(rng);
    return new double[] {2.5 * (x - 0.5), 2.5 * (y - 0.25)};
  }

  /** Radius r in {1,2,3,4} with equal probability, angle uniform, plus N(0, 0.08^2 I). */
  private static double[] rings(SplittableRandom rng) {
    int r = 1 + rng.nextInt(4);
    double a = 2 * Math.PI * rng.nextDouble();
    return new double[] {r * Math.cos(a) + 0.08 * gaussian(rng), r * Math.sin(a) + 0.08 * gaussian(rng)};
  }

  /** Box-Muller standard normal. */
  private static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  @Override
  public String toString() {
    return describe();
  }
}
