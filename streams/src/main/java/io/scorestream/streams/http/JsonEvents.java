package io.scorestream.streams.http;

import io.scorestream.actors.Result;
import io.scorestream.actors.SampleEvent;
import io.scorestream.protocol.json.EventJson;

/**
 * Turns the node's {@link SampleEvent}s into their JSON shapes ({@link EventJson}). Pure; any thread. Runs in each
 * subscriber's stream, after conflation, so only previews that are actually sent get converted.
 */
final class JsonEvents {
  private JsonEvents() {}

  /** The JSON shape of e; Rejected never reaches a subscriber (the POST answers it). */
  static EventJson of(SampleEvent e) {
    return of(e, false);
  }

  /** As {@link #of(SampleEvent)}, a preview as one byte a value when eightBit ({@code ?preview=8bit}). */
  static EventJson of(SampleEvent e, boolean eightBit) {
    if (eightBit && e instanceof SampleEvent.Preview p) return eightBit(p);
    if (e instanceof SampleEvent.Accepted a) {
      return new EventJson.Accepted(a.requestId(), a.chains(), a.queuePosition(), millis(a.eta()));
    }
    if (e instanceof SampleEvent.Preview p) {
      return new EventJson.Preview(p.requestId(), p.step(), p.totalSteps(), p.dim(), previewRows(p));
    }
    if (e instanceof SampleEvent.Completed c) {
      Result r = c.result();
      return new EventJson.Completed(r.requestId(), r.count(), r.dim(), r.rows(), r.modelVersions(),
          r.networkCalls(), r.latency().toNanos() / 1e6);
    }
    if (e instanceof SampleEvent.Failed f) return new EventJson.Failed(f.requestId(), f.code().name(), f.message());
    if (e instanceof SampleEvent.Cancelled c) return new EventJson.Cancelled(c.requestId(), c.reason());
    SampleEvent.Rejected r = (SampleEvent.Rejected) e;
    return new EventJson.Failed(r.requestId(), r.code().name(), r.message());
  }

  /** The preview as rows; a chain that has not reported yet (NaN) is a null row, since JSON has no NaN. */
  static double[][] previewRows(SampleEvent.Preview p) {
    io.scorestream.actors.Samples e = p.estimates();
    double[][] rows = new double[e.count()][];
    for (int i = 0; i < rows.length; i++) {
      if (e.rowFinite(i)) rows[i] = e.row(i);
    }
    return rows;
  }

  /**
   * The preview quantised to one byte a value over its own range [lo, hi] (the previews of 256 digits of 784 pixels:
   * about 270 KB of base64 where the JSON doubles are about 2 MB); a chain that has not reported is
   * {@link EventJson.Preview#NOT_REPORTED} throughout its row.
   */
  static EventJson.Preview eightBit(SampleEvent.Preview p) {
    io.scorestream.actors.Samples e = p.estimates();
    int dim = e.dim();
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < e.count(); i++) {
      if (!e.rowFinite(i)) continue;
      for (int k = 0; k < dim; k++) {
        double v = e.get(i, k);
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    if (lo > hi) {
      lo = 0;
      hi = 0;
    }
    byte[] b = new byte[e.count() * dim];
    for (int i = 0; i < e.count(); i++) {
      boolean finite = e.rowFinite(i);
      for (int k = 0; k < dim; k++) {
        b[i * dim + k] = (byte) (finite ? io.scorestream.protocol.Quantized8.level(e.get(i, k), lo, hi)
            : EventJson.Preview.NOT_REPORTED);
      }
    }
    return new EventJson.Preview(p.requestId(), p.step(), p.totalSteps(), dim, null,
        java.util.Base64.getEncoder().encodeToString(b), lo, hi);
  }

  static long millis(java.time.Duration d) {
    return d == null ? 0 : d.toMillis();
  }
}
