package io.scorestream.app;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress display on stderr: a bar, step / total, the caller's fields, rate and ETA. Redrawn at most
 * five times a second; on a non-terminal (CI logs) it prints a line every tenth of the work instead.
 */
final class ProgressBar {
  private final PrintStream out;
  private final long total;
  private final String unit;
  private final long startNs = System.nanoTime();
  private final boolean terminal = System.console() != null;
  private long lastDrawNs;
  private long lastDecile = -1;

  ProgressBar(long total, String unit) {
    this.out = System.err;
    this.total = total;
    this.unit = unit;
  }

  void update(long done, String fields) {
    long now = System.nanoTime();
    long decile = total == 0 ? 10 : done * 10 / total;
    boolean last = done >= total;
    if (terminal) {
      if (!last && now - lastDrawNs < 200_000_000L) return;
    } else if (decile == lastDecile && !last) {
      return;
    }
    lastDrawNs = now;
    lastDecile = decile;
    double secs = (now - startNs) / 1e9;
    double rate = done / Math.max(secs, 1e-9);
    double eta = rate > 0 ? (total - done) / rate : 0;
    int width = 24;
    int filled = (int) (width * Math.min(1.0, (double) done / Math.max(1, total)));
    String line = String.format(Locale.ROOT, "[%s%s] %d/%d %s | %s | %.1f %s/s | ETA %s",
        "#".repeat(filled), ".".repeat(width - filled), done, total, unit, fields, rate, unit, clock(eta));
    if (terminal) {
      out.print("\r" + line + (last ? "\n" : ""));
    } else {
      out.println(line);
    }
    out.flush();
  }

  static String clock(double seconds) {
    long s = Math.round(seconds);
    return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
