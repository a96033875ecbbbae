package io.scorestream.protocol;

/** How a {@link Preview}'s values travel: one byte a value over a per-dimension range, or float32. */
public enum PreviewEncoding {
  /** One byte a value: 0..254 spread linearly over [min, max] of the value's dimension, 255 for NaN. */
  QUANTIZED_8,
  /** IEEE float32, little-endian. */
  FLOAT_32
}
