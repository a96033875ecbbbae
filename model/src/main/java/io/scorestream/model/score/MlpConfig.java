package io.scorestream.model.score;

/**
 * The shape of the reference score network for vectors: input [x, Gaussian Fourier features of the noise
 * condition] (Tancik et al. 2020; Song et al. 2021, appendix H), {@code depth} hidden layers of {@code width} with
 * SiLU, and a linear output of width D.
 *
 * @param dim            data dimension D
 * @param width          hidden width (default 256)
 * @param depth          number of hidden layers (default 3)
 * @param fourierHalf    number of random frequencies; the embedding has 2 x fourierHalf features (sin, cos)
 * @param fourierScale   standard deviation of the random frequencies (default 16)
 */
public record MlpConfig(int dim, int width, int depth, int fourierHalf, double fourierScale) {

  public MlpConfig {
    if (dim < 1) throw new IllegalArgumentException("dim must be >= 1, got " + dim);
    if (width < 1) throw new IllegalArgumentException("width must be >= 1, got " + width);
    if (depth < 1) throw new IllegalArgumentException("depth must be >= 1, got " + depth);
    if (fourierHalf < 1) throw new IllegalArgumentException("fourier features must be >= 1, got " + fourierHalf);
    if (!(fourierScale > 0)) throw new IllegalArgumentException("fourier scale must be > 0, got " + fourierScale);
  }

  /** The reference network: 3 x 256 SiLU, 32 + 32 Fourier features at scale 16. */
  public static MlpConfig reference(int dim) {
    return new MlpConfig(dim, 256, 3, 32, 16.0);
  }

  public int inputWidth() {
    return dim + 2 * fourierHalf;
  }

  /** Multiply-adds x 2 of one forward pass for one row (the GEMMs; activations not counted). */
  public long flopsPerRow() {
    long f = 2L * inputWidth() * width + 2L * (depth - 1) * width * width + 2L * width * dim;
    f += 2L * fourierHalf;
    return f;
  }

  /** Names of the layer weights, in order: w0, b0, ..., w_out, b_out. */
  public String weightName(int layer) { return "w" + layer; }

  public String biasName(int layer) { return "b" + layer; }

  public static final String FOURIER = "fourier_W";
  public static final String OUT_W = "w_out";
  public static final String OUT_B = "b_out";
}
