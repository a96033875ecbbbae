package io.scorestream.protocol.json;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;

/**
 * One event of a request's stream ({@code GET /v1/samples/{id}/events}), as one WebSocket text message or the data
 * of one server-sent event (whose event name is {@link #type()}): {@code accepted}, then any number of
 * {@code preview}s (conflated: a slow reader gets the latest), then exactly one terminal event, {@code completed},
 * {@code failed} or {@code cancelled}, after which the stream closes. A subscriber that arrives late gets the
 * request's latest state first: accepted, its latest preview, and the terminal event if there is one.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = EventJson.Accepted.class, name = "accepted"),
    @JsonSubTypes.Type(value = EventJson.Preview.class, name = "preview"),
    @JsonSubTypes.Type(value = EventJson.Completed.class, name = "completed"),
    @JsonSubTypes.Type(value = EventJson.Failed.class, name = "failed"),
    @JsonSubTypes.Type(value = EventJson.Cancelled.class, name = "cancelled")})
public sealed interface EventJson
    permits EventJson.Accepted, EventJson.Preview, EventJson.Completed, EventJson.Failed, EventJson.Cancelled {

  /** The request id. */
  String id();

  /** The event's name: accepted, preview, completed, failed or cancelled (the SSE event name). */
  String type();

  /** Whether the stream ends with this event. */
  default boolean terminal() {
    return !(this instanceof Accepted) && !(this instanceof Preview);
  }

  /** The request was admitted; see {@link SampleAccepted} for the fields. */
  record Accepted(String id, int chains, int queuePosition, long etaMs) implements EventJson {
    @Override
    public String type() {
      return "accepted";
    }
  }

  /**
   * A progressive preview: the denoised estimate E[x0 | x_t] of every chain, as rows of doubles or, for a subscriber
   * that asked for {@code ?preview=8bit}, as one byte a value.
   *
   * @param step       the step of the least advanced chain
   * @param totalSteps the request's number of steps (an estimate for adaptive solvers)
   * @param samples    one row of dim values per chain; null for a chain that has not reported yet; absent in 8-bit
   * @param pixels     8-bit: base64 of chains x dim bytes, row-major; byte q in 0..254 stands for lo + q (hi - lo) /
   *                   254 (within (hi - lo) / 508 of the value), {@link #NOT_REPORTED} for a chain that has not
   *                   reported yet; absent otherwise
   * @param lo         8-bit: the smallest value of the preview
   * @param hi         8-bit: the largest
   */
  record Preview(String id, int step, int totalSteps, int dim, double[][] samples, String pixels, Double lo,
                 Double hi) implements EventJson {
    /** The byte of a value whose chain has not reported yet. */
    public static final int NOT_REPORTED = io.scorestream.protocol.Quantized8.NAN_LEVEL;

    /** A preview as rows of doubles. */
    public Preview(String id, int step, int totalSteps, int dim, double[][] samples) {
      this(id, step, totalSteps, dim, samples, null, null, null);
    }

    @Override
    public String type() {
      return "preview";
    }

    /** The rows, decoded from the 8-bit form when that is what this preview carries (null rows: not reported). */
    public double[][] values() {
      if (pixels == null) return samples;
      if (lo == null || hi == null) throw new IllegalArgumentException("an 8-bit preview needs lo and hi");
      byte[] b = java.util.Base64.getDecoder().decode(pixels);
      if (dim <= 0 || b.length % dim != 0) {
        throw new IllegalArgumentException("an 8-bit preview of " + b.length + " bytes does not hold rows of " + dim);
      }
      double[][] rows = new double[b.length / dim][];
      for (int i = 0; i < rows.length; i++) {
        if ((b[i * dim] & 0xff) == NOT_REPORTED) continue;
        double[] r = new double[dim];
        for (int k = 0; k < dim; k++) r[k] = io.scorestream.protocol.Quantized8.value(b[i * dim + k] & 0xff, lo, hi);
        rows[i] = r;
      }
      return rows;
    }
  }

  /**
   * The request completed.
   *
   * @param samples       count rows of dim values, exactly the node's doubles
   * @param modelVersions the model versions whose weights produced them, ascending
   * @param networkCalls  the request's share of the score-network calls
   * @param latencyMs     from submission to completion, as the node measured it
   */
  record Completed(String id, int count, int dim, double[][] samples, List<Long> modelVersions, long networkCalls,
                   double latencyMs) implements EventJson {
    public Completed {
      modelVersions = List.copyOf(modelVersions);
    }

    @Override
    public String type() {
      return "completed";
    }
  }

  /** The request failed after admission (DEADLINE_EXCEEDED, NON_FINITE, INTERNAL, UNAVAILABLE). */
  record Failed(String id, String error, String message) implements EventJson {
    @Override
    public String type() {
      return "failed";
    }
  }

  /** The request was cancelled. */
  record Cancelled(String id, String reason) implements EventJson {
    @Override
    public String type() {
      return "cancelled";
    }
  }
}
