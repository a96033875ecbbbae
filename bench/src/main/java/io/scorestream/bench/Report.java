package io.scorestream.bench;

import java.util.Locale;
import org.HdrHistogram.Histogram;

/** Formatting shared by the load tools' machine-readable result lines: latencies are recorded in microseconds. */
final class Report {
  private Report() {}

  /** Nanoseconds to whole microseconds, at least 1 (HdrHistogram records positive values). */
  static long micros(long nanos) {
    return Math.max(1, nanos / 1000);
  }

  /** A percentile of a microsecond histogram in milliseconds with the given decimals; NaN when it is empty. */
  static String ms(Histogram h, double percentile, int decimals) {
    if (h.getTotalCount() == 0) return "NaN";
    return String.format(Locale.ROOT, "%." + decimals + "f", h.getValueAtPercentile(percentile) / 1000.0);
  }

  /** The median of v (the mean of the middle two for an even length). */
  static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** A number without a trailing ".0" when it is whole (load fractions in result lines). */
  static String trim(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
  }
}
