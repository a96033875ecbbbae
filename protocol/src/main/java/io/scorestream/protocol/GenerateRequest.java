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
 * @param priority        higher goes first: routed before waiting requests of lower priority, and admitted into a
 *                        sampler's batch before their chains (default 0)
 * @param previewEncoding how previews travel
 * @param labels          class labels cycled over the chains (chain i: labels[i % size]); empty: unconditional
 * @param guidance        the classifier-free guidance scale (null: 1, the conditional score)
 * @param model           "" for the node's primary model; else the name of one of its models (ConnectAck's sde and
 *                        dim are the primary model's)
 * @param inpainting      the known values and the mask of an inpainting request; null: none. The node refuses a
 *                        condition whose dimension is not its model's (INVALID_ARGUMENT).
 */
public record GenerateRequest(long sessionId, long requestId, long seed, int count, String sde, SamplerParams sampler,
                              int previewEvery, long deadlineNs, int priority, PreviewEncoding previewEncoding,
                              java.util.List<Integer> labels, Double guidance, String model, Inpainting inpainting)
    implements ClientMessage {

  /** A request without inpainting. */
  public GenerateRequest(long sessionId, long requestId, long seed, int count, String sde, SamplerParams sampler,
                         int previewEvery, long deadlineNs, int priority, PreviewEncoding previewEncoding,
                         java.util.List<Integer> labels, Double guidance, String model) {
    this(sessionId, requestId, seed, count, sde, sampler, previewEvery, deadlineNs, priority, previewEncoding, labels,
        guidance, model, null);
  }

  /** A request for the node's primary model. */
  public GenerateRequest(long sessionId, long requestId, long seed, int count, String sde, SamplerParams sampler,
                         int previewEvery, long deadlineNs, int priority, PreviewEncoding previewEncoding,
                         java.util.List<Integer> labels, Double guidance) {
    this(sessionId, requestId, seed, count, sde, sampler, previewEvery, deadlineNs, priority, previewEncoding, labels,
        guidance, "");
  }

  /** The most labels one request may carry. */
  public static final int MAX_LABELS = 4096;

  /** An unconditional request. */
  public GenerateRequest(long sessionId, long requestId, long seed, int count, String sde, SamplerParams sampler,
                         int previewEvery, long deadlineNs, int priority, PreviewEncoding previewEncoding) {
    this(sessionId, requestId, seed, count, sde, sampler, previewEvery, deadlineNs, priority, previewEncoding,
        java.util.List.of(), null);
  }

  /** {@link #previewEvery()} value that asks for the node's default preview period. */
  public static final int DEFAULT_PREVIEW = -1;

  public GenerateRequest {
    Protocol.text(sde, "sde");
    if (model == null) model = "";
    Protocol.text(model, "model");
    if (sampler == null) sampler = SamplerParams.defaults();
    if (previewEncoding == null) previewEncoding = PreviewEncoding.FLOAT_32;
    labels = labels == null ? java.util.List.of() : java.util.List.copyOf(labels);
    if (labels.size() > MAX_LABELS) throw new IllegalArgumentException(labels.size() + " labels (at most " + MAX_LABELS + ")");
  }

  /** The same request with class labels and a guidance scale (null: 1). */
  public GenerateRequest withLabels(java.util.List<Integer> ls, Double w) {
    return new GenerateRequest(sessionId, requestId, seed, count, sde, sampler, previewEvery, deadlineNs, priority,
        previewEncoding, ls, w, model, inpainting);
  }

  /** The same request inpainting the values where the condition's mask is false (null: no inpainting). */
  public GenerateRequest withInpainting(Inpainting condition) {
    return new GenerateRequest(sessionId, requestId, seed, count, sde, sampler, previewEvery, deadlineNs, priority,
        previewEncoding, labels, guidance, model, condition);
  }

  /** count samples with the given seed and sampler; node defaults for everything else, float32 previews. */
  public static GenerateRequest of(int count, long seed, SamplerParams sampler) {
    return new GenerateRequest(0, 0, seed, count, "", sampler, DEFAULT_PREVIEW, 0, 0, PreviewEncoding.FLOAT_32);
  }

  public GenerateRequest withIds(long session, long request) {
    return new GenerateRequest(session, request, seed, count, sde, sampler, previewEvery, deadlineNs, priority,
        previewEncoding, labels, guidance, model, inpainting);
  }

  /** The same request for the node's model of that name ("": its primary model). */
  public GenerateRequest withModel(String name) {
    return new GenerateRequest(sessionId, requestId, seed, count, sde, sampler, previewEvery, deadlineNs, priority,
        previewEncoding, labels, guidance, name, inpainting);
  }

  public GenerateRequest withSde(String name) {
    return new GenerateRequest(sessionId, requestId, seed, count, name, sampler, previewEvery, deadlineNs, priority,
        previewEncoding, labels, guidance, model, inpainting);
  }

  public GenerateRequest withPreviewEvery(int steps) {
    return new GenerateRequest(sessionId, requestId, seed, count, sde, sampler, steps, deadlineNs, priority,
        previewEncoding, labels, guidance, model, inpainting);
  }

  public GenerateRequest withDeadlineNs(long ns) {
    return new GenerateRequest(sessionId, requestId, seed, count, sde, sampler, previewEvery, ns, priority,
        previewEncoding, labels, guidance, model, inpainting);
  }

  public GenerateRequest withPriority(int p) {
    return new GenerateRequest(sessionId, requestId, seed, count, sde, sampler, previewEvery, deadlineNs, p,
        previewEncoding, labels, guidance, model, inpainting);
  }

  public GenerateRequest withPreviewEncoding(PreviewEncoding encoding) {
    return new GenerateRequest(sessionId, requestId, seed, count, sde, sampler, previewEvery, deadlineNs, priority,
        encoding, labels, guidance, model, inpainting);
  }
}
