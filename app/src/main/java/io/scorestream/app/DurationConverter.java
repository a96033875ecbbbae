package io.scorestream.app;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Parses durations as 500ms, 60s, 5m, 1h, 0 (or ISO-8601, PT1M). */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
  private static final Pattern SIMPLE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)");

  @Override
  public Duration convert(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.equals("0")) return Duration.ZERO;
    Matcher m = SIMPLE.matcher(v);
    try {
      if (m.matches()) {
        double amount = Double.parseDouble(m.group(1));
        double millis = switch (m.group(2)) {
          case "ms" -> amount;
          case "s" -> amount * 1e3;
          case "m" -> amount * 60e3;
          default -> amount * 3600e3;
        };
        return Duration.ofNanos(Math.round(millis * 1e6));
      }
      return Duration.parse(value.trim().toUpperCase(Locale.ROOT));
    } catch (RuntimeException e) {
      throw new CommandLine.TypeConversionException("'" + value
          + "' is not a duration (expected e.g. 500ms, 60s, 5m)");
    }
  }

  static String format(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }
}
