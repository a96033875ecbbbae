package io.scorestream.protocol;

/**
 * Asks for {@code count} samples. Chain i draws its noise from (seed, i), so the same request gives the same
 * samples on any node serving the same model version. The node validates it and answers with {@link Accepted} or
 * {@link Rejected}.
 *
 * @param sessionId       the session (the client fills it in)
 * @param requestId       unique among the session's running requests (the client fills it in when 0)
 * @param seed            the noise seed
 * @param count           number of chains (samples)
 * @param sde             "" for any; else must name the node's SDE (ve | vp | subvp), or the request is rejected
 * @param sampler         sampler parameters; {@link SamplerParams#defaults()} for the node's default
 * @param previewEvery    a preview every this many steps; 0: none; -1: the node's default
 * @param deadlineNs      how long the request may take from admission; 0: the node's default
 * @param priority        carried on the wire for schedulers to come; the node does not act on it yet
 * @param previewEncoding how previews travel
 */
public record GenerateRequest(long sessionId, long requestId, long seed, int count, String sde, SamplerParams sampler,
                              int previewEvery, long deadlineNs, int priority, PreviewEncoding previewEncoding)
    implements ClientMessage {

  /** {@link #previewEvery()} value that asks for the node's default preview period. */
  public static final int DEFAULT_PREVIEW = -1;

  public GenerateRequest {
    Protocol.text(sde, "sde");
    if (sampler == null) sampler = SamplerParams.defaults();
    if (previewEncoding == null) previewEncoding = PreviewEncoding.FLOAT_32;
  }

  /** count samples with the given seed and sampler; node defaults for everything else, float32 previews. */
  public static GenerateRequest of(int count, long seed, SamplerParams sampler) {
    return new GenerateRequest(0, 0, seed, count, "", sampler, DEFAULT_PREVIEW, 0, 0, PreviewEncoding.FLOAT_32);
  }

  public GenerateRequest withIds(long session, long request) {
    return new GenerateRequest(session, request, seed, count, sde, sampler, previewEvery, deadlineNs, priority,
        previewEncoding);
  }

  public GenerateRequest withSde(String name) {
    return new GenerateRequest(sessionId, requestId, seed, count, name, sampler, previewEvery, deadlineNs, priority,
        previewEncoding);
  }

  public GenerateRequest withPreviewEvery(int steps) {
    return new GenerateRequest(sessionId, requestId, seed, count, sde, sampler, steps, deadlineNs, priority,
        previewEncoding);
  }

  public GenerateRequest withDeadlineNs(long ns) {
    return new GenerateRequest(sessionId, requestId, seed, count, sde, sampler, previewEvery, ns, priority,
        previewEncoding);
  }

  public GenerateRequest withPriority(int p) {
    return new GenerateRequest(sessionId, requestId, seed, count, sde, sampler, previewEvery, deadlineNs, p,
        previewEncoding);
  }

  public GenerateRequest withPreviewEncoding(PreviewEncoding encoding) {
    return new GenerateRequest(sessionId, requestId, seed, count, sde, sampler, previewEvery, deadlineNs, priority,
        encoding);
  }
}
