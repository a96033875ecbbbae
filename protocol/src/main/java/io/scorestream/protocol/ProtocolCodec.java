package io.scorestream.protocol;

import io.scorestream.protocol.sbe.AcceptedDecoder;
import io.scorestream.protocol.sbe.AcceptedEncoder;
import io.scorestream.protocol.sbe.CancelDecoder;
import io.scorestream.protocol.sbe.CancelEncoder;
import io.scorestream.protocol.sbe.CancelledDecoder;
import io.scorestream.protocol.sbe.CancelledEncoder;
import io.scorestream.protocol.sbe.CompletedDecoder;
import io.scorestream.protocol.sbe.CompletedEncoder;
import io.scorestream.protocol.sbe.ConnectAckDecoder;
import io.scorestream.protocol.sbe.ConnectAckEncoder;
import io.scorestream.protocol.sbe.ConnectDecoder;
import io.scorestream.protocol.sbe.ConnectEncoder;
import io.scorestream.protocol.sbe.ConnectRejectedDecoder;
import io.scorestream.protocol.sbe.ConnectRejectedEncoder;
import io.scorestream.protocol.sbe.Corrector;
import io.scorestream.protocol.sbe.DisconnectDecoder;
import io.scorestream.protocol.sbe.DisconnectEncoder;
import io.scorestream.protocol.sbe.FailedDecoder;
import io.scorestream.protocol.sbe.FailedEncoder;
import io.scorestream.protocol.sbe.GenerateRequestDecoder;
import io.scorestream.protocol.sbe.GenerateRequestEncoder;
import io.scorestream.protocol.sbe.HeartbeatDecoder;
import io.scorestream.protocol.sbe.HeartbeatEncoder;
import io.scorestream.protocol.sbe.MessageHeaderDecoder;
import io.scorestream.protocol.sbe.MessageHeaderEncoder;
import io.scorestream.protocol.sbe.OdeMethod;
import io.scorestream.protocol.sbe.Predictor;
import io.scorestream.protocol.sbe.PreviewDecoder;
import io.scorestream.protocol.sbe.PreviewEncoder;
import io.scorestream.protocol.sbe.ProtocolErrorDecoder;
import io.scorestream.protocol.sbe.ProtocolErrorEncoder;
import io.scorestream.protocol.sbe.RejectedDecoder;
import io.scorestream.protocol.sbe.RejectedEncoder;
import io.scorestream.protocol.sbe.ResultPartDecoder;
import io.scorestream.protocol.sbe.ResultPartEncoder;
import io.scorestream.protocol.sbe.SamplerKind;
import io.scorestream.protocol.sbe.StatusDecoder;
import io.scorestream.protocol.sbe.StatusEncoder;
import io.scorestream.protocol.sbe.StatusRequestDecoder;
import io.scorestream.protocol.sbe.StatusRequestEncoder;
import io.scorestream.protocol.sbe.TriState;
import java.nio.ByteOrder;
import java.util.Locale;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Encodes {@link Message} records into SBE frames and decodes frames back, over the codecs generated from
 * {@code sbe/scorestream.xml}. The decoder checks the header first (length, schema id, version, template id, block
 * length), then every group size and variable length against the frame before it reads or allocates, then each
 * value; anything malformed ends in a {@link ProtocolException} with its typed code, never in another exception.
 *
 * <p>Not thread-safe: it reuses its flyweights. Give each thread (each Aeron agent) its own codec. Nothing is
 * allocated except the records, their arrays and strings.
 */
public final class ProtocolCodec {
  private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
  private static final int HEADER = MessageHeaderEncoder.ENCODED_LENGTH;

  private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
  private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
  private final ConnectEncoder connectEncoder = new ConnectEncoder();
  private final ConnectDecoder connectDecoder = new ConnectDecoder();
  private final HeartbeatEncoder heartbeatEncoder = new HeartbeatEncoder();
  private final HeartbeatDecoder heartbeatDecoder = new HeartbeatDecoder();
  private final DisconnectEncoder disconnectEncoder = new DisconnectEncoder();
  private final DisconnectDecoder disconnectDecoder = new DisconnectDecoder();
  private final GenerateRequestEncoder generateEncoder = new GenerateRequestEncoder();
  private final GenerateRequestDecoder generateDecoder = new GenerateRequestDecoder();
  private final CancelEncoder cancelEncoder = new CancelEncoder();
  private final CancelDecoder cancelDecoder = new CancelDecoder();
  private final StatusRequestEncoder statusRequestEncoder = new StatusRequestEncoder();
  private final StatusRequestDecoder statusRequestDecoder = new StatusRequestDecoder();
  private final ConnectAckEncoder connectAckEncoder = new ConnectAckEncoder();
  private final ConnectAckDecoder connectAckDecoder = new ConnectAckDecoder();
  private final ConnectRejectedEncoder connectRejectedEncoder = new ConnectRejectedEncoder();
  private final ConnectRejectedDecoder connectRejectedDecoder = new ConnectRejectedDecoder();
  private final AcceptedEncoder acceptedEncoder = new AcceptedEncoder();
  private final AcceptedDecoder acceptedDecoder = new AcceptedDecoder();
  private final PreviewEncoder previewEncoder = new PreviewEncoder();
  private final PreviewDecoder previewDecoder = new PreviewDecoder();
  private final ResultPartEncoder resultPartEncoder = new ResultPartEncoder();
  private final ResultPartDecoder resultPartDecoder = new ResultPartDecoder();
  private final CompletedEncoder completedEncoder = new CompletedEncoder();
  private final CompletedDecoder completedDecoder = new CompletedDecoder();
  private final FailedEncoder failedEncoder = new FailedEncoder();
  private final FailedDecoder failedDecoder = new FailedDecoder();
  private final CancelledEncoder cancelledEncoder = new CancelledEncoder();
  private final CancelledDecoder cancelledDecoder = new CancelledDecoder();
  private final RejectedEncoder rejectedEncoder = new RejectedEncoder();
  private final RejectedDecoder rejectedDecoder = new RejectedDecoder();
  private final StatusEncoder statusEncoder = new StatusEncoder();
  private final StatusDecoder statusDecoder = new StatusDecoder();
  private final ProtocolErrorEncoder protocolErrorEncoder = new ProtocolErrorEncoder();
  private final ProtocolErrorDecoder protocolErrorDecoder = new ProtocolErrorDecoder();

  /** The frame being decoded, bounds-checked to exactly its length. */
  private final UnsafeBuffer view = new UnsafeBuffer(new byte[0]);
  private int frameLength;
  private int actingVersion;

  /** The fixed block length of a template in this schema version, or -1 for an unknown template. */
  public static int blockLength(int templateId) {
    return switch (templateId) {
      case ConnectDecoder.TEMPLATE_ID -> ConnectDecoder.BLOCK_LENGTH;
      case HeartbeatDecoder.TEMPLATE_ID -> HeartbeatDecoder.BLOCK_LENGTH;
      case DisconnectDecoder.TEMPLATE_ID -> DisconnectDecoder.BLOCK_LENGTH;
      case GenerateRequestDecoder.TEMPLATE_ID -> GenerateRequestDecoder.BLOCK_LENGTH;
      case CancelDecoder.TEMPLATE_ID -> CancelDecoder.BLOCK_LENGTH;
      case StatusRequestDecoder.TEMPLATE_ID -> StatusRequestDecoder.BLOCK_LENGTH;
      case ConnectAckDecoder.TEMPLATE_ID -> ConnectAckDecoder.BLOCK_LENGTH;
      case ConnectRejectedDecoder.TEMPLATE_ID -> ConnectRejectedDecoder.BLOCK_LENGTH;
      case AcceptedDecoder.TEMPLATE_ID -> AcceptedDecoder.BLOCK_LENGTH;
      case PreviewDecoder.TEMPLATE_ID -> PreviewDecoder.BLOCK_LENGTH;
      case ResultPartDecoder.TEMPLATE_ID -> ResultPartDecoder.BLOCK_LENGTH;
      case CompletedDecoder.TEMPLATE_ID -> CompletedDecoder.BLOCK_LENGTH;
      case FailedDecoder.TEMPLATE_ID -> FailedDecoder.BLOCK_LENGTH;
      case CancelledDecoder.TEMPLATE_ID -> CancelledDecoder.BLOCK_LENGTH;
      case RejectedDecoder.TEMPLATE_ID -> RejectedDecoder.BLOCK_LENGTH;
      case StatusDecoder.TEMPLATE_ID -> StatusDecoder.BLOCK_LENGTH;
      case ProtocolErrorDecoder.TEMPLATE_ID -> ProtocolErrorDecoder.BLOCK_LENGTH;
      default -> -1;
    };
  }

  /** The bytes {@link #encode} writes for a Completed of rows x dim samples and the given number of versions. */
  public static long completedLength(int rows, int dim, int versions) {
    return HEADER + CompletedEncoder.BLOCK_LENGTH + 4 + versions * 8L + 4 + (long) rows * dim * 8;
  }

  /** The bytes {@link #encode} writes for a ResultPart of rows x dim samples. */
  public static long resultPartLength(int rows, int dim) {
    return HEADER + ResultPartEncoder.BLOCK_LENGTH + 4 + (long) rows * dim * 8;
  }

  // ------------------------------------------------------------------------------------------------- encode

  /**
   * Writes message (header included) into buffer at offset and returns its length in bytes. The buffer must have
   * room (an expandable buffer grows as needed); a fixed buffer that is too small throws IndexOutOfBoundsException.
   */
  public int encode(Message message, MutableDirectBuffer buffer, int offset) {
    if (message instanceof Heartbeat m) {
      return HEADER + heartbeatEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder).sessionId(m.sessionId())
          .timestampNs(m.timestampNs()).encodedLength();
    }
    if (message instanceof Preview m) return encodePreview(m, buffer, offset);
    if (message instanceof Accepted m) {
      return HEADER + acceptedEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder).sessionId(m.sessionId())
          .requestId(m.requestId()).chains(m.chains()).queuePosition(m.queuePosition()).etaNs(m.etaNs())
          .encodedLength();
    }
    if (message instanceof GenerateRequest m) return encodeGenerate(m, buffer, offset);
    if (message instanceof Completed m) return encodeCompleted(m, buffer, offset);
    if (message instanceof ResultPart m) {
      ResultPartEncoder e = resultPartEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder)
          .sessionId(m.sessionId()).requestId(m.requestId()).firstChain(m.firstChain()).dim(m.dim());
      putDoubles(buffer, e.limit(), m.samplesUnsafe());
      e.limit(e.limit() + 4 + m.samplesUnsafe().length * 8);
      return HEADER + e.encodedLength();
    }
    if (message instanceof Failed m) {
      return HEADER + failedEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder).sessionId(m.sessionId())
          .requestId(m.requestId()).code(toWire(io.scorestream.protocol.sbe.ErrorCode.class, m.code()))
          .message(m.message()).encodedLength();
    }
    if (message instanceof Cancelled m) {
      return HEADER + cancelledEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder).sessionId(m.sessionId())
          .requestId(m.requestId()).reason(m.reason()).encodedLength();
    }
    if (message instanceof Rejected m) {
      return HEADER + rejectedEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder).sessionId(m.sessionId())
          .requestId(m.requestId()).code(toWire(io.scorestream.protocol.sbe.ErrorCode.class, m.code()))
          .retryAfterNs(m.retryAfterNs()).message(m.message()).encodedLength();
    }
    if (message instanceof Cancel m) {
      return HEADER + cancelEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder).sessionId(m.sessionId())
          .requestId(m.requestId()).encodedLength();
    }
    if (message instanceof StatusRequest m) {
      return HEADER + statusRequestEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder)
          .sessionId(m.sessionId()).correlationId(m.correlationId()).encodedLength();
    }
    if (message instanceof Status m) {
      return HEADER + statusEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder).sessionId(m.sessionId())
          .correlationId(m.correlationId()).queuedRequests(m.queuedRequests()).activeRequests(m.activeRequests())
          .activeChains(m.activeChains()).samplers(m.samplers()).chainSteps(m.chainSteps()).accepted(m.accepted())
          .rejected(m.rejected()).ended(m.ended()).modelVersion(m.modelVersion()).encodedLength();
    }
    if (message instanceof Connect m) {
      return HEADER + connectEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder)
          .correlationId(m.correlationId()).egressStreamId(m.egressStreamId()).egressChannel(m.egressChannel())
          .secret(m.secret()).clientName(m.clientName()).encodedLength();
    }
    if (message instanceof ConnectAck m) {
      return HEADER + connectAckEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder)
          .correlationId(m.correlationId()).sessionId(m.sessionId()).heartbeatIntervalNs(m.heartbeatIntervalNs())
          .livenessTimeoutNs(m.livenessTimeoutNs()).maxMessageLength(m.maxMessageLength()).dim(m.dim())
          .sde(m.sde()).encodedLength();
    }
    if (message instanceof ConnectRejected m) {
      return HEADER + connectRejectedEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder)
          .correlationId(m.correlationId())
          .code(toWire(io.scorestream.protocol.sbe.ErrorCode.class, m.code())).message(m.message())
          .encodedLength();
    }
    if (message instanceof Disconnect m) {
      return HEADER + disconnectEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder).sessionId(m.sessionId())
          .reason(m.reason()).encodedLength();
    }
    if (message instanceof ProtocolError m) {
      return HEADER + protocolErrorEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder)
          .sessionId(m.sessionId())
          .code(toWire(io.scorestream.protocol.sbe.ProtocolErrorCode.class, m.code()))
          .message(m.message()).encodedLength();
    }
    throw new IllegalArgumentException("not a protocol message: " + message);
  }

  private int encodeGenerate(GenerateRequest m, MutableDirectBuffer buffer, int offset) {
    SamplerParams s = m.sampler();
    GenerateRequestEncoder e = generateEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder)
        .sessionId(m.sessionId()).requestId(m.requestId()).seed(m.seed()).count(m.count())
        .previewEvery(m.previewEvery()).deadlineNs(m.deadlineNs()).priority(m.priority())
        .previewEncoding(toWire(io.scorestream.protocol.sbe.PreviewEncoding.class, m.previewEncoding()))
        .kind(nameToWire(SamplerKind.class, s.kind()))
        .steps(s.steps() == null ? GenerateRequestEncoder.stepsNullValue() : s.steps())
        .predictor(nameToWire(Predictor.class, s.predictor()))
        .corrector(nameToWire(Corrector.class, s.corrector()))
        .correctorSteps(s.correctorSteps() == null ? GenerateRequestEncoder.correctorStepsNullValue()
            : s.correctorSteps())
        .snr(orNaN(s.snr()))
        .denoise(s.denoise() == null ? TriState.DEFAULT : s.denoise() ? TriState.TRUE : TriState.FALSE)
        .method(nameToWire(OdeMethod.class, s.method()))
        .rtol(orNaN(s.rtol())).atol(orNaN(s.atol()))
        .levels(s.levels() == null ? GenerateRequestEncoder.levelsNullValue() : s.levels())
        .stepSize(orNaN(s.stepSize())).t(orNaN(s.t()))
        .eta(orNaN(s.eta()))
        .schedule(nameToWire(io.scorestream.protocol.sbe.Schedule.class, s.schedule()))
        .churn(orNaN(s.churn())).sigmaMax(orNaN(s.sigmaMax())).sigmaMin(orNaN(s.sigmaMin()))
        .guidance(orNaN(m.guidance()));
    GenerateRequestEncoder.LabelsEncoder labels = e.labelsCount(m.labels().size());
    for (int y : m.labels()) labels.next().label(y);
    e.sde(m.sde());
    e.model(m.model());
    Inpainting inpainting = m.inpainting();
    double[] known = inpainting == null ? new double[0] : inpainting.known();
    putDoubles(buffer, e.limit(), known);
    e.limit(e.limit() + 4 + known.length * 8);
    boolean[] mask = inpainting == null ? new boolean[0] : inpainting.mask();
    byte[] flags = new byte[mask.length];
    for (int i = 0; i < mask.length; i++) flags[i] = (byte) (mask[i] ? 1 : 0);
    e.putMask(flags, 0, flags.length);
    return HEADER + e.encodedLength();
  }

  private int encodePreview(Preview m, MutableDirectBuffer buffer, int offset) {
    PreviewEncoder e = previewEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder).sessionId(m.sessionId())
        .requestId(m.requestId()).step(m.step()).totalSteps(m.totalSteps()).t(m.t()).sigma(m.sigma())
        .chains(m.chains()).dim(m.dim())
        .encoding(toWire(io.scorestream.protocol.sbe.PreviewEncoding.class, m.encoding()));
    int ranges = m.encoding() == PreviewEncoding.QUANTIZED_8 ? m.dim() : 0;
    PreviewEncoder.DimRangeEncoder g = e.dimRangeCount(ranges);
    for (int d = 0; d < ranges; d++) g.next().min(m.minAt(d)).max(m.maxAt(d));
    byte[] data = m.dataUnsafe();
    e.putValues(data, 0, data.length);
    return HEADER + e.encodedLength();
  }

  private int encodeCompleted(Completed m, MutableDirectBuffer buffer, int offset) {
    CompletedEncoder e = completedEncoder.wrapAndApplyHeader(buffer, offset, headerEncoder).sessionId(m.sessionId())
        .requestId(m.requestId()).count(m.count()).dim(m.dim()).firstChain(m.firstChain())
        .networkCalls(m.networkCalls()).latencyNs(m.latencyNs());
    long[] versions = m.modelVersionsUnsafe();
    CompletedEncoder.ModelVersionsEncoder g = e.modelVersionsCount(versions.length);
    for (long v : versions) g.next().version(v);
    double[] samples = m.samplesUnsafe();
    putDoubles(buffer, e.limit(), samples);
    e.limit(e.limit() + 4 + samples.length * 8);
    return HEADER + e.encodedLength();
  }

  private static void putDoubles(MutableDirectBuffer buffer, int at, double[] values) {
    buffer.putInt(at, values.length * 8, LE);
    int p = at + 4;
    for (double v : values) {
      buffer.putDouble(p, v, LE);
      p += 8;
    }
  }

  /**
   * The SBE constant of a protocol name, by name: "reverse-diffusion" is REVERSE_DIFFUSION, null is DEFAULT. Wire
   * values are the schema's explicit ones; the order of any Java list plays no part (a golden-bytes test holds it).
   */
  static <E extends Enum<E>> E nameToWire(Class<E> type, String name) {
    return Enum.valueOf(type, name == null ? "DEFAULT" : name.toUpperCase(Locale.ROOT).replace('-', '_'));
  }

  /** The SBE constant of the same name as a protocol enum constant. */
  private static <E extends Enum<E>> E toWire(Class<E> type, Enum<?> value) {
    return Enum.valueOf(type, value.name());
  }

  private static double orNaN(Double d) {
    return d == null ? Double.NaN : d;
  }

  // ------------------------------------------------------------------------------------------------- decode

  /**
   * Decodes the frame of length bytes at offset in buffer.
   *
   * @throws ProtocolException for anything malformed: too short (TRUNCATED), a foreign schema id (UNKNOWN_SCHEMA),
   *                           an older version (UNSUPPORTED_VERSION), an unknown template (UNKNOWN_TEMPLATE),
   *                           lengths that disagree with the frame (BAD_LENGTH), or bad values (BAD_VALUE)
   */
  public Message decode(DirectBuffer buffer, int offset, int length) throws ProtocolException {
    if (offset < 0 || length < 0 || (long) offset + length > buffer.capacity()) {
      throw new ProtocolException(ProtocolErrorCode.BAD_LENGTH, "frame [" + offset + ", +" + length
          + ") lies outside a buffer of " + buffer.capacity() + " bytes");
    }
    if (length < HEADER) {
      throw new ProtocolException(ProtocolErrorCode.TRUNCATED, length + " bytes, shorter than the header");
    }
    view.wrap(buffer, offset, length);
    frameLength = length;
    headerDecoder.wrap(view, 0);
    int blockLength = headerDecoder.blockLength();
    int templateId = headerDecoder.templateId();
    int schemaId = headerDecoder.schemaId();
    int version = headerDecoder.version();
    if (schemaId != Protocol.SCHEMA_ID) {
      throw new ProtocolException(ProtocolErrorCode.UNKNOWN_SCHEMA, "schema id " + schemaId);
    }
    if (version < Protocol.SCHEMA_VERSION) {
      throw new ProtocolException(ProtocolErrorCode.UNSUPPORTED_VERSION, "schema version " + version);
    }
    int expected = blockLength(templateId);
    if (expected < 0) throw new ProtocolException(ProtocolErrorCode.UNKNOWN_TEMPLATE, "template id " + templateId);
    // A newer version may append fields to the block; this version's block must be exact.
    if (blockLength < expected || (version == Protocol.SCHEMA_VERSION && blockLength != expected)) {
      throw new ProtocolException(ProtocolErrorCode.BAD_LENGTH, "block length " + blockLength + " of template "
          + templateId + ", expected " + expected);
    }
    if (HEADER + blockLength > length) {
      throw new ProtocolException(ProtocolErrorCode.TRUNCATED, length + " bytes, shorter than the block of "
          + blockLength + " of template " + templateId);
    }
    actingVersion = version;
    try {
      Message m = decodeBody(templateId, blockLength, version);
      return m;
    } catch (IndexOutOfBoundsException e) {
      // Every length is checked before it is read; this is the safety net of the bounds-checked view.
      throw new ProtocolException(ProtocolErrorCode.TRUNCATED, String.valueOf(e.getMessage()), e);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new ProtocolException(ProtocolErrorCode.BAD_VALUE, String.valueOf(e.getMessage()), e);
    }
  }

  private Message decodeBody(int templateId, int blockLength, int version) throws ProtocolException {
    switch (templateId) {
      case HeartbeatDecoder.TEMPLATE_ID -> {
        HeartbeatDecoder d = heartbeatDecoder.wrap(view, HEADER, blockLength, version);
        end(d.limit());
        return new Heartbeat(d.sessionId(), d.timestampNs());
      }
      case PreviewDecoder.TEMPLATE_ID -> {
        return decodePreview(previewDecoder.wrap(view, HEADER, blockLength, version));
      }
      case AcceptedDecoder.TEMPLATE_ID -> {
        AcceptedDecoder d = acceptedDecoder.wrap(view, HEADER, blockLength, version);
        end(d.limit());
        return new Accepted(d.sessionId(), d.requestId(), d.chains(), d.queuePosition(), d.etaNs());
      }
      case GenerateRequestDecoder.TEMPLATE_ID -> {
        return decodeGenerate(generateDecoder.wrap(view, HEADER, blockLength, version));
      }
      case CompletedDecoder.TEMPLATE_ID -> {
        return decodeCompleted(completedDecoder.wrap(view, HEADER, blockLength, version));
      }
      case ResultPartDecoder.TEMPLATE_ID -> {
        ResultPartDecoder d = resultPartDecoder.wrap(view, HEADER, blockLength, version);
        double[] samples = doubles(d.limit());
        d.limit(d.limit() + 4 + samples.length * 8);
        end(d.limit());
        return new ResultPart(d.sessionId(), d.requestId(), d.firstChain(), d.dim(), samples);
      }
      case FailedDecoder.TEMPLATE_ID -> {
        FailedDecoder d = failedDecoder.wrap(view, HEADER, blockLength, version);
        ErrorCode code = wireToEnum(ErrorCode.class, io.scorestream.protocol.sbe.ErrorCode::get, d.codeRaw(), "error code");
        text(d.limit());
        String message = d.message();
        end(d.limit());
        return new Failed(d.sessionId(), d.requestId(), code, message);
      }
      case CancelledDecoder.TEMPLATE_ID -> {
        CancelledDecoder d = cancelledDecoder.wrap(view, HEADER, blockLength, version);
        text(d.limit());
        String reason = d.reason();
        end(d.limit());
        return new Cancelled(d.sessionId(), d.requestId(), reason);
      }
      case RejectedDecoder.TEMPLATE_ID -> {
        RejectedDecoder d = rejectedDecoder.wrap(view, HEADER, blockLength, version);
        ErrorCode code = wireToEnum(ErrorCode.class, io.scorestream.protocol.sbe.ErrorCode::get, d.codeRaw(), "error code");
        text(d.limit());
        String message = d.message();
        end(d.limit());
        return new Rejected(d.sessionId(), d.requestId(), code, message, d.retryAfterNs());
      }
      case CancelDecoder.TEMPLATE_ID -> {
        CancelDecoder d = cancelDecoder.wrap(view, HEADER, blockLength, version);
        end(d.limit());
        return new Cancel(d.sessionId(), d.requestId());
      }
      case StatusRequestDecoder.TEMPLATE_ID -> {
        StatusRequestDecoder d = statusRequestDecoder.wrap(view, HEADER, blockLength, version);
        end(d.limit());
        return new StatusRequest(d.sessionId(), d.correlationId());
      }
      case StatusDecoder.TEMPLATE_ID -> {
        StatusDecoder d = statusDecoder.wrap(view, HEADER, blockLength, version);
        end(d.limit());
        return new Status(d.sessionId(), d.correlationId(), d.queuedRequests(), d.activeRequests(),
            d.activeChains(), d.samplers(), d.chainSteps(), d.accepted(), d.rejected(), d.ended(), d.modelVersion());
      }
      case ConnectDecoder.TEMPLATE_ID -> {
        ConnectDecoder d = connectDecoder.wrap(view, HEADER, blockLength, version);
        text(d.limit());
        String channel = d.egressChannel();
        text(d.limit());
        String secret = d.secret();
        text(d.limit());
        String name = d.clientName();
        end(d.limit());
        return new Connect(d.correlationId(), channel, d.egressStreamId(), secret, name);
      }
      case ConnectAckDecoder.TEMPLATE_ID -> {
        ConnectAckDecoder d = connectAckDecoder.wrap(view, HEADER, blockLength, version);
        text(d.limit());
        String sde = d.sde();
        end(d.limit());
        return new ConnectAck(d.correlationId(), d.sessionId(), d.heartbeatIntervalNs(), d.livenessTimeoutNs(),
            d.maxMessageLength(), d.dim(), sde);
      }
      case ConnectRejectedDecoder.TEMPLATE_ID -> {
        ConnectRejectedDecoder d = connectRejectedDecoder.wrap(view, HEADER, blockLength, version);
        ErrorCode code = wireToEnum(ErrorCode.class, io.scorestream.protocol.sbe.ErrorCode::get, d.codeRaw(), "error code");
        text(d.limit());
        String message = d.message();
        end(d.limit());
        return new ConnectRejected(d.correlationId(), code, message);
      }
      case DisconnectDecoder.TEMPLATE_ID -> {
        DisconnectDecoder d = disconnectDecoder.wrap(view, HEADER, blockLength, version);
        text(d.limit());
        String reason = d.reason();
        end(d.limit());
        return new Disconnect(d.sessionId(), reason);
      }
      case ProtocolErrorDecoder.TEMPLATE_ID -> {
        ProtocolErrorDecoder d = protocolErrorDecoder.wrap(view, HEADER, blockLength, version);
        ProtocolErrorCode code = wireToEnum(ProtocolErrorCode.class, io.scorestream.protocol.sbe.ProtocolErrorCode::get, d.codeRaw(), "protocol error code");
        text(d.limit());
        String message = d.message();
        end(d.limit());
        return new ProtocolError(d.sessionId(), code, message);
      }
      default -> throw new ProtocolException(ProtocolErrorCode.UNKNOWN_TEMPLATE, "template id " + templateId);
    }
  }

  private GenerateRequest decodeGenerate(GenerateRequestDecoder d) throws ProtocolException {
    PreviewEncoding encoding = wireToEnum(PreviewEncoding.class, io.scorestream.protocol.sbe.PreviewEncoding::get, d.previewEncodingRaw(), "preview encoding");
    String kind = wireToName(SamplerKind::get, d.kindRaw(), "sampler kind");
    String predictor = wireToName(Predictor::get, d.predictorRaw(), "predictor");
    String corrector = wireToName(Corrector::get, d.correctorRaw(), "corrector");
    String method = wireToName(OdeMethod::get, d.methodRaw(), "ode method");
    Boolean denoise = switch (d.denoiseRaw()) {
      case 0 -> null;
      case 1 -> Boolean.TRUE;
      case 2 -> Boolean.FALSE;
      default -> throw new ProtocolException(ProtocolErrorCode.BAD_VALUE, "denoise " + d.denoiseRaw());
    };
    SamplerParams sampler = new SamplerParams(kind, optional(d.steps()), predictor, corrector,
        optional(d.correctorSteps()), optional(d.snr()), denoise, method, optional(d.rtol()), optional(d.atol()),
        optional(d.levels()), optional(d.stepSize()), optional(d.t()), optional(d.eta()),
        wireToName(io.scorestream.protocol.sbe.Schedule::get, d.scheduleRaw(), "schedule"), optional(d.churn()),
        optional(d.sigmaMax()), optional(d.sigmaMin()));
    int count = group(d.limit(), GenerateRequestDecoder.LabelsDecoder.sbeBlockLength());
    if (count > GenerateRequest.MAX_LABELS) {
      throw new ProtocolException(ProtocolErrorCode.BAD_VALUE, count + " labels (at most " + GenerateRequest.MAX_LABELS + ")");
    }
    java.util.List<Integer> labels = new java.util.ArrayList<>(count);
    for (GenerateRequestDecoder.LabelsDecoder g : d.labels()) labels.add(g.label());
    text(d.limit());
    String sde = d.sde();
    text(d.limit());
    String model = d.model();
    double[] known = doubles(d.limit());
    d.limit(d.limit() + 4 + known.length * 8);
    int n = varLength32(d.limit());
    if (n != known.length) {
      throw new ProtocolException(ProtocolErrorCode.BAD_VALUE, "inpainting mask of " + n + " values for "
          + known.length + " known values");
    }
    byte[] flags = new byte[n];
    d.getMask(flags, 0, n);
    end(d.limit());
    Inpainting inpainting = null;
    if (n > 0) {
      boolean[] mask = new boolean[n];
      for (int i = 0; i < n; i++) {
        if (flags[i] != 0 && flags[i] != 1) {
          throw new ProtocolException(ProtocolErrorCode.BAD_VALUE, "inpainting mask value " + flags[i] + " at " + i
              + " (0: generate, 1: keep)");
        }
        mask[i] = flags[i] == 1;
      }
      try {
        inpainting = new Inpainting(known, mask);
      } catch (IllegalArgumentException ex) {
        throw new ProtocolException(ProtocolErrorCode.BAD_VALUE, ex.getMessage());
      }
    }
    return new GenerateRequest(d.sessionId(), d.requestId(), d.seed(), d.count(), sde, sampler, d.previewEvery(),
        d.deadlineNs(), d.priority(), encoding, labels, optional(d.guidance()), model, inpainting);
  }

  private Preview decodePreview(PreviewDecoder d) throws ProtocolException {
    PreviewEncoding encoding = wireToEnum(PreviewEncoding.class, io.scorestream.protocol.sbe.PreviewEncoding::get, d.encodingRaw(), "preview encoding");
    int ranges = group(d.limit(), PreviewDecoder.DimRangeDecoder.sbeBlockLength());
    float[] min = new float[ranges];
    float[] max = new float[ranges];
    int i = 0;
    for (PreviewDecoder.DimRangeDecoder g : d.dimRange()) {
      min[i] = g.min();
      max[i] = g.max();
      i++;
    }
    int n = varLength32(d.limit());
    byte[] data = new byte[n];
    d.getValues(data, 0, n);
    end(d.limit());
    return new Preview(d.sessionId(), d.requestId(), d.step(), d.totalSteps(), d.t(), d.sigma(), d.chains(), d.dim(),
        encoding, min, max, data);
  }

  private Completed decodeCompleted(CompletedDecoder d) throws ProtocolException {
    int n = group(d.limit(), CompletedDecoder.ModelVersionsDecoder.sbeBlockLength());
    long[] versions = new long[n];
    int i = 0;
    for (CompletedDecoder.ModelVersionsDecoder g : d.modelVersions()) versions[i++] = g.version();
    double[] samples = doubles(d.limit());
    d.limit(d.limit() + 4 + samples.length * 8);
    end(d.limit());
    return new Completed(d.sessionId(), d.requestId(), d.count(), d.dim(), d.firstChain(), samples, versions,
        d.networkCalls(), d.latencyNs());
  }

  /** Checks the uint16-prefixed text at limit against the frame and the text limit. */
  private void text(int limit) throws ProtocolException {
    if (limit + 2 > frameLength) throw truncated(limit, 2);
    int n = view.getShort(limit, LE) & 0xFFFF;
    if (n > Protocol.MAX_STRING_BYTES) {
      throw new ProtocolException(ProtocolErrorCode.BAD_LENGTH, "text of " + n + " bytes, the limit is "
          + Protocol.MAX_STRING_BYTES);
    }
    if (limit + 2 + n > frameLength) throw overrun(limit + 2, n);
  }

  /** The checked byte length of the uint32-prefixed data at limit. */
  private int varLength32(int limit) throws ProtocolException {
    if (limit + 4 > frameLength) throw truncated(limit, 4);
    long n = view.getInt(limit, LE) & 0xFFFF_FFFFL;
    if (limit + 4 + n > frameLength) throw overrun(limit + 4, n);
    return (int) n;
  }

  /** The float64 array of the uint32-prefixed data at limit (the limit is not moved). */
  private double[] doubles(int limit) throws ProtocolException {
    int n = varLength32(limit);
    if (n % 8 != 0) throw new ProtocolException(ProtocolErrorCode.BAD_LENGTH, n + " bytes are not float64s");
    double[] out = new double[n / 8];
    int p = limit + 4;
    for (int i = 0; i < out.length; i++, p += 8) out[i] = view.getDouble(p, LE);
    return out;
  }

  /** The checked entry count of the group whose header is at limit. */
  private int group(int limit, int minBlockLength) throws ProtocolException {
    if (limit + 4 > frameLength) throw truncated(limit, 4);
    int blockLength = view.getShort(limit, LE) & 0xFFFF;
    int count = view.getShort(limit + 2, LE) & 0xFFFF;
    if (blockLength < minBlockLength || (actingVersion == Protocol.SCHEMA_VERSION && blockLength != minBlockLength)) {
      throw new ProtocolException(ProtocolErrorCode.BAD_LENGTH, "group block length " + blockLength + ", expected "
          + minBlockLength);
    }
    if (limit + 4 + (long) count * blockLength > frameLength) throw overrun(limit + 4, (long) count * blockLength);
    return count;
  }

  /** Checks that a message of this version ends where the frame does (newer versions may append). */
  private void end(int limit) throws ProtocolException {
    if (limit > frameLength) throw overrun(limit, 0);
    if (limit < frameLength && actingVersion == Protocol.SCHEMA_VERSION) {
      throw new ProtocolException(ProtocolErrorCode.BAD_LENGTH, (frameLength - limit) + " trailing bytes");
    }
  }

  private ProtocolException truncated(int at, int need) {
    return new ProtocolException(ProtocolErrorCode.TRUNCATED, "need " + need + " bytes at " + at + " of a "
        + frameLength + "-byte frame");
  }

  private ProtocolException overrun(int at, long declared) {
    return new ProtocolException(ProtocolErrorCode.BAD_LENGTH, declared + " bytes declared at " + at + " of a "
        + frameLength + "-byte frame");
  }

  /** An SBE enum's lookup of a raw value ({@code X::get}). */
  @FunctionalInterface
  private interface WireEnum {
    Enum<?> apply(short raw);
  }

  /** The protocol name of a raw SBE value, by the constant's name: REVERSE_DIFFUSION is "reverse-diffusion". */
  private static String wireToName(WireEnum get, short raw, String what)
      throws ProtocolException {
    Enum<?> e = fromWire(get, raw, what);
    return e.name().equals("DEFAULT") ? null : e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The SBE constant of a raw value; an unknown value (or the null value) is BAD_VALUE. */
  private static Enum<?> fromWire(WireEnum get, short raw, String what)
      throws ProtocolException {
    Enum<?> e;
    try {
      e = get.apply(raw);
    } catch (IllegalArgumentException unknown) {
      e = null;
    }
    if (e == null || e.name().equals("NULL_VAL")) {
      throw new ProtocolException(ProtocolErrorCode.BAD_VALUE, what + " " + raw);
    }
    return e;
  }

  /** The protocol enum constant of the same name as the SBE constant of a raw value. */
  private static <E extends Enum<E>> E wireToEnum(Class<E> type, WireEnum get,
                                                  short raw, String what) throws ProtocolException {
    return Enum.valueOf(type, fromWire(get, raw, what).name());
  }

  private static Integer optional(int v) {
    return v == Integer.MIN_VALUE ? null : v;
  }

  private static Double optional(double v) {
    return Double.isNaN(v) ? null : v;
  }
}
