package io.scorestream.actors;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Latency distributions of the requests that went through one {@link ScoreStream} facade (and so through every
 * gateway built on it): submission to first preview, and submission to result. Recorded once per request, not per
 * step, so one lock is cheap. Values in microseconds, 3 significant digits, up to one hour. Thread-safe.
 */
public final class RequestLatencies {
  private static final long MAX_MICROS = TimeUnit.HOURS.toMicros(1);

  private final Histogram firstPreview = new Histogram(MAX_MICROS, 3);
  private final Histogram result = new Histogram(MAX_MICROS, 3);

  /**
   * A point-in-time view; quantiles are 0 until something was recorded.
   *
   * @param completed            requests that completed
   * @param previewed            requests that saw at least one preview
   * @param resultP50Ms          median submission-to-result latency
   * @param resultP99Ms          99th percentile submission-to-result latency
   * @param firstPreviewP50Ms    median submission-to-first-preview latency
   * @param firstPreviewP99Ms    99th percentile submission-to-first-preview latency
   */
  public record Snapshot(long completed, long previewed, double resultP50Ms, double resultP99Ms,
                         double firstPreviewP50Ms, double firstPreviewP99Ms) {}

  synchronized void recordFirstPreview(long nanos) {
    firstPreview.recordValue(clamp(nanos));
  }

  synchronized void recordResult(long nanos) {
    result.recordValue(clamp(nanos));
  }

  /** The distributions so far. */
  public synchronized Snapshot snapshot() {
    return new Snapshot(result.getTotalCount(), firstPreview.getTotalCount(), ms(result, 50), ms(result, 99),
        ms(firstPreview, 50), ms(firstPreview, 99));
  }

  private static long clamp(long nanos) {
    return Math.min(MAX_MICROS, Math.max(0, nanos / 1000));
  }

  private static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
  }
}
