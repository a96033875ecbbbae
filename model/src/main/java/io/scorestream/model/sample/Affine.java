package io.scorestream.model.sample;

/**
 * The per-row update x' = a x + b s + c z shared by every predictor, corrector and Langevin step, where s is the
 * score at x and z standard normal noise. Writing all of them this way lets one network call serve a batch whose
 * rows run different steps of different programs.
 */
public record Affine(double a, double b, double c) {
  public static final Affine IDENTITY = new Affine(1, 0, 0);

  /** Tweedie's formula x0 = (x + std^2 s) / m (Efron 2011) as an update: the final denoising step. */
  public static Affine tweedie(double meanCoeff, double std) {
    return new Affine(1 / meanCoeff, std * std / meanCoeff, 0);
  }
}
