package io.scorestream.model.data;

/**
 * Training data: a source of already-normalised rows (images flattened row-major), optionally labelled, drawn
 * deterministically per (seed, step).
 */
public interface DataSource {

  /** Number of columns of every row. */
  int dim();

  /** A short human-readable description, e.g. {@code toy:gmm8} or {@code csv:/path/file.csv (n=1000, d=2)}. */
  String describe();

  /**
   * A batch of {@code batchSize} rows, already normalised by {@link #normalization()}. A pure function of its
   * arguments: the same (seed, step, batchSize) always gives the same rows, so resumed training is exact.
   * The returned arrays are fresh; callers may modify them.
   */
  double[][] batch(long seed, long step, int batchSize);

  /** The number of class labels (0: unlabelled data). */
  default int classes() {
    return 0;
  }

  /**
   * The labels of the rows {@link #batch} returns for the same arguments, in [0, classes), or null for unlabelled
   * data. A pure function of its arguments, like the batch.
   */
  default int[] batchLabels(long seed, long step, int batchSize) {
    return null;
  }

  /** The shape of one row seen as a sample: [D] for vectors, [C, H, W] for images. */
  default long[] shape() {
    return new long[] {dim()};
  }

  /** The normalisation already applied to the rows that {@link #batch} and {@link #all} return. */
  Normalization normalization();

  /**
   * The whole data set, normalised: a file's every row, or for a toy {@code batch(12345, 0, 10000)}.
   * The returned arrays are fresh.
   */
  double[][] all();

  /**
   * The 64-bit RNG seed of the batch for (seed, step): a SplitMix64-style mix that is a bijection of step for a
   * fixed seed, so different steps never share a stream.
   */
  static long streamSeed(long seed, long step) {
    return mix64(mix64(seed ^ 0x5DEECE66DL) + step * 0x9E3779B97F4A7C15L);
  }

  /** The SplitMix64 finalizer (a bijection on longs). */
  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Checks a requested batch size. */
  static void checkBatchSize(int batchSize) {
    if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
  }
}
