package io.scorestream.protocol;

/**
 * The one-byte form of a preview value, shared by the SBE preview ({@link PreviewEncoding#QUANTIZED_8}, a range per
 * dimension) and the JSON one ({@code ?preview=8bit}, one range per preview): v in [lo, hi] is the level
 * round((v - lo) / (hi - lo) x 254), within (hi - lo) / 508 of v when read back; {@link #NAN_LEVEL} stands for NaN
 * (a chain that has not reported yet).
 */
public final class Quantized8 {
  /** The byte that stands for NaN. */
  public static final int NAN_LEVEL = 255;
  /** The highest level of a value. */
  public static final int LEVELS = 254;

  private Quantized8() {}

  /** The level of v over [lo, hi], clamped to [0, LEVELS]; NaN gives {@link #NAN_LEVEL}. */
  public static int level(double v, double lo, double hi) {
    if (Double.isNaN(v)) return NAN_LEVEL;
    double range = hi - lo;
    int q = range > 0 ? (int) Math.round((v - lo) / range * LEVELS) : 0;
    return Math.max(0, Math.min(LEVELS, q));
  }

  /** The value level q stands for over [lo, hi] (NaN for {@link #NAN_LEVEL}). */
  public static double value(int q, double lo, double hi) {
    return q == NAN_LEVEL ? Double.NaN : lo + (hi - lo) * q / LEVELS;
  }
}
