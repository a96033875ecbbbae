package io.scorestream.streams.aeron;

import io.scorestream.actors.SampleEvent;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.protocol.Accepted;
import io.scorestream.protocol.Cancelled;
import io.scorestream.protocol.Completed;
import io.scorestream.protocol.ErrorCode;
import io.scorestream.protocol.Failed;
import io.scorestream.protocol.GenerateRequest;
import io.scorestream.protocol.Preview;
import io.scorestream.protocol.PreviewEncoding;
import io.scorestream.protocol.Protocol;
import io.scorestream.protocol.Rejected;
import io.scorestream.protocol.SamplerParams;
import io.scorestream.protocol.ServerMessage;
import io.scorestream.actors.Result;
import java.time.Duration;

/**
 * Maps between the node's in-process types (io.scorestream.actors) and the wire records (io.scorestream.protocol),
 * which know nothing of each other. Pure functions; any thread.
 */
final class EventMapper {
  /** Header, fixed block and variable-length headers of a Preview, rounded up. */
  private static final int PREVIEW_OVERHEAD = 96;

  private EventMapper() {}

  /** The node's request for a wire request; nodeId names it on the node. */
  static io.scorestream.actors.GenerateRequest toNode(GenerateRequest m, String nodeId) {
    SamplerParams s = m.sampler();
    SamplerSpec spec = new SamplerSpec(s.kind(), s.steps(), s.predictor(), s.corrector(), s.correctorSteps(),
        s.snr(), s.denoise(), s.method(), s.rtol(), s.atol(), s.levels(), s.stepSize(), s.t(), s.sigmaMax(),
        s.sigmaMin(), s.eta(), s.schedule(), s.churn());
    Duration deadline = m.deadlineNs() == 0 ? null : Duration.ofNanos(m.deadlineNs());
    io.scorestream.model.sample.Conditioning c =
        io.scorestream.model.sample.Conditioning.ofRequest(m.labels(), m.guidance());
    // The node checks the condition's dimension against the model's (INVALID_ARGUMENT).
    if (m.inpainting() != null) c = c.withMask(m.inpainting().mask(), m.inpainting().known());
    return new io.scorestream.actors.GenerateRequest(nodeId, m.count(), m.seed(), spec, m.previewEvery(), deadline,
        c, m.model().isEmpty() ? null : m.model(), m.priority());
  }

  /**
   * The wire form of a node event for the client's request id. A preview too large for one message falls back
   * to 8-bit, and is dropped (null) when even that does not fit: previews are best effort, results are not (the
   * egress agent splits large results into parts).
   */
  static ServerMessage toWire(long sessionId, long requestId, SampleEvent e, PreviewEncoding encoding,
                              int maxMessageLength) {
    if (e instanceof SampleEvent.Preview p) {
      int values = p.chains() * p.dim();
      PreviewEncoding enc = encoding;
      if (enc == PreviewEncoding.FLOAT_32 && (long) values * Float.BYTES + PREVIEW_OVERHEAD > maxMessageLength) {
        enc = PreviewEncoding.QUANTIZED_8;
      }
      if (enc == PreviewEncoding.QUANTIZED_8
          && ((long) values + 8L * p.dim() + PREVIEW_OVERHEAD > maxMessageLength
              || p.dim() > Protocol.MAX_QUANTIZED_DIM)) {
        return null;
      }
      return Preview.of(sessionId, requestId, p.step(), p.totalSteps(), Double.NaN, Double.NaN, p.dim(),
          p.estimates().buffer(), enc);
    }
    if (e instanceof SampleEvent.Accepted a) {
      return new Accepted(sessionId, requestId, a.chains(), a.queuePosition(), nanos(a.eta()));
    }
    if (e instanceof SampleEvent.Completed c) {
      Result r = c.result();
      long[] versions = r.modelVersions().stream().mapToLong(Long::longValue).toArray();
      return new Completed(sessionId, requestId, r.count(), r.dim(), 0, r.samples(), versions, r.networkCalls(),
          nanos(r.latency()));
    }
    if (e instanceof SampleEvent.Failed f) {
      return new Failed(sessionId, requestId, code(f.code()), Protocol.truncate(f.message()));
    }
    if (e instanceof SampleEvent.Cancelled c) {
      return new Cancelled(sessionId, requestId, Protocol.truncate(c.reason()));
    }
    SampleEvent.Rejected r = (SampleEvent.Rejected) e;
    return new Rejected(sessionId, requestId, code(r.code()), Protocol.truncate(r.message()), nanos(r.retryAfter()));
  }

  static ErrorCode code(io.scorestream.actors.ErrorCode c) {
    return switch (c) {
      case INVALID_ARGUMENT -> ErrorCode.INVALID_ARGUMENT;
      case OVERLOADED -> ErrorCode.OVERLOADED;
      case DEADLINE_EXCEEDED -> ErrorCode.DEADLINE_EXCEEDED;
      case CANCELLED -> ErrorCode.CANCELLED;
      case NON_FINITE -> ErrorCode.NON_FINITE;
      case UNAVAILABLE -> ErrorCode.UNAVAILABLE;
      case INTERNAL -> ErrorCode.INTERNAL;
    };
  }

  private static long nanos(Duration d) {
    if (d == null) return 0;
    try {
      return d.toNanos();
    } catch (ArithmeticException overflow) {
      return Long.MAX_VALUE;
    }
  }
}
