package io.scorestream.model.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Images as training data: each row is one C x H x W image flattened row-major, scaled from [0, 1] to [-1, 1]
 * ({@link Normalization#IMAGE}, recorded in checkpoints), with its class label. Batches draw images uniformly with
 * replacement, a pure function of (seed, step). Immutable.
 */
public final class ImageData implements DataSource {
  /** Where {@code model/mnist/setup-mnist.sh} installs the digits, relative to the repository root. */
  public static final Path MNIST_DIR = Path.of("model", "mnist", "data");

  /** The MNIST directory: the system property {@code scorestream.mnist} if set, else {@link #MNIST_DIR}. */
  public static Path mnistDir() {
    String p = System.getProperty("scorestream.mnist");
    return p == null || p.isBlank() ? MNIST_DIR : Path.of(p);
  }

  private final LabelledImages images;
  private final String description;
  private final Normalization normalization;

  public ImageData(LabelledImages images, String description) {
    if (images.size() == 0) throw new DataException(description + ": no images");
    this.images = images;
    this.description = description;
    this.normalization = Normalization.image(images.imageSize());
  }

  /**
   * The MNIST split {@code train} or {@code heldout} as installed by {@code model/mnist/setup-mnist.sh} under dir;
   * a missing install says how to make one.
   */
  public static ImageData mnist(Path dir, String split) {
    Path images = dir.resolve(split + "-images-idx3-ubyte");
    Path labels = dir.resolve(split + "-labels-idx1-ubyte");
    if (!Files.isRegularFile(images)) {
      throw new DataException("no MNIST digits at " + images + " (run: bash model/mnist/setup-mnist.sh)");
    }
    return new ImageData(LabelledImages.idx(images, labels), "mnist:" + split + " (" + dir + ")");
  }

  public LabelledImages images() { return images; }

  @Override public int dim() { return images.imageSize(); }

  @Override public long[] shape() { return new long[] {images.channels(), images.height(), images.width()}; }

  @Override public int classes() { return images.labels() == null ? 0 : images.classes(); }

  @Override
  public String describe() {
    return description + " (n=" + images.size() + ", " + images.channels() + "x" + images.height() + "x"
        + images.width() + (classes() > 0 ? ", " + classes() + " classes" : "") + ")";
  }

  private int[] indices(long seed, long step, int batchSize) {
    DataSource.checkBatchSize(batchSize);
    SplittableRandom rng = new SplittableRandom(DataSource.streamSeed(seed, step));
    int[] idx = new int[batchSize];
    for (int i = 0; i < batchSize; i++) idx[i] = rng.nextInt(images.size());
    return idx;
  }

  @Override
  public double[][] batch(long seed, long step, int batchSize) {
    int[] idx = indices(seed, step, batchSize);
    double[][] rows = new double[batchSize][];
    for (int i = 0; i < batchSize; i++) rows[i] = row(idx[i]);
    return rows;
  }

  @Override
  public int[] batchLabels(long seed, long step, int batchSize) {
    if (classes() == 0) return null;
    int[] idx = indices(seed, step, batchSize);
    int[] y = new int[batchSize];
    for (int i = 0; i < batchSize; i++) y[i] = images.labels()[idx[i]];
    return y;
  }

  /** Image i, scaled to [-1, 1]. */
  public double[] row(int i) {
    int d = images.imageSize();
    double[] r = new double[d];
    float[] p = images.pixels();
    for (int k = 0; k < d; k++) r[k] = 2.0 * p[i * d + k] - 1.0;
    return r;
  }

  @Override public Normalization normalization() { return normalization; }

  @Override
  public double[][] all() {
    double[][] rows = new double[images.size()][];
    for (int i = 0; i < rows.length; i++) rows[i] = row(i);
    return rows;
  }
}
