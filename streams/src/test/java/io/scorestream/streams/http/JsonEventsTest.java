package io.scorestream.streams.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.scorestream.actors.SampleEvent;
import io.scorestream.actors.Samples;
import io.scorestream.protocol.json.EventJson;
import io.scorestream.protocol.json.Json;
import java.util.Base64;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The JSON forms of a preview: doubles, and one byte a value ({@code ?preview=8bit}). */
class JsonEventsTest {
  @Test
  void eightBitPreviewOfImagesDecodesWithinHalfAStepAndKeepsUnreportedChains() {
    int count = 16;
    int dim = 784;
    SplittableRandom rnd = new SplittableRandom(3);
    double[] v = new double[count * dim];
    for (int i = 0; i < v.length; i++) v[i] = rnd.nextDouble(-1.3, 1.1);
    for (int k = 0; k < dim; k++) v[5 * dim + k] = Double.NaN;   // chain 5 has not reported
    SampleEvent.Preview p = new SampleEvent.Preview("r", 7, 50,
        Samples.copyOf(new long[] {1, 28, 28}, count, v));

    EventJson.Preview q = JsonEvents.eightBit(p);
    assertNull(q.samples());
    assertEquals(count * dim, Base64.getDecoder().decode(q.pixels()).length);
    EventJson.Preview back = Json.read(Json.write(q), EventJson.Preview.class);
    double[][] rows = back.values();
    double[][] exact = JsonEvents.previewRows(p);
    double tolerance = (q.hi() - q.lo()) / 508 + 1e-12;
    double worst = 0;
    for (int i = 0; i < count; i++) {
      if (exact[i] == null) {
        assertNull(rows[i]);
        continue;
      }
      for (int k = 0; k < dim; k++) worst = Math.max(worst, Math.abs(rows[i][k] - exact[i][k]));
    }
    assertEquals(0, worst, tolerance, "max |decoded - exact|");
    // Its extremes are exact: lo and hi are the preview's own range.
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (double x : v) {
      if (!Double.isNaN(x)) {
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
    }
    assertEquals(lo, q.lo());
    assertEquals(hi, q.hi());
    // Fifteen reported 784-pixel chains: about 16 KB of base64 against some 200 KB of JSON doubles.
    assertEquals(true, Json.write(q).length() * 8 < Json.write(JsonEvents.of(p)).length());
  }

  @Test
  void aPreviewWithNoReportedChainIsAllUnreported() {
    double[] v = new double[3 * 2];
    java.util.Arrays.fill(v, Double.NaN);
    EventJson.Preview q = JsonEvents.eightBit(new SampleEvent.Preview("r", 0, 10, Samples.vectors(3, v)));
    for (double[] row : q.values()) assertNull(row);
  }
}
