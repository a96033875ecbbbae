package io.scorestream.actors;

import io.scorestream.model.sample.Conditioning;
import io.scorestream.model.sample.SamplerSpec;
import java.time.Duration;

/**
 * A client's request for {@code count} samples. Chain i of a request with seed S draws its noise from the key
 * (S, i), so the same request returns the same samples whatever else the node is running. Not validated here: the
 * coordinator validates and answers bad input with {@link ErrorCode#INVALID_ARGUMENT}. Immutable.
 *
 * @param requestId    unique among running requests; null lets {@link ScoreStream#submit} choose one
 * @param count        number of chains (samples)
 * @param seed         the noise seed
 * @param sampler      sampler parameters (null: the node's default sampler)
 * @param previewEvery a preview every this many steps; 0: none; {@link #DEFAULT_PREVIEW}: the node's default
 * @param deadline     how long the request may take from admission; null: the node's default
 * @param conditioning class labels (cycled over the chains), the guidance scale and an inpainting mask
 *                     ({@link Conditioning#NONE} for none); the node refuses labels its model does not take
 * @param model        which of the node's models to sample (null: its primary model); an unknown name is refused
 * @param priority     higher goes first: a request waiting for rows is routed before every waiting request of lower
 *                     priority, and its chains join a sampler's batch before theirs (0: the default)
 */
public record GenerateRequest(String requestId, int count, long seed, SamplerSpec sampler, int previewEvery,
                              Duration deadline, Conditioning conditioning, String model, int priority) {

  /** {@link #previewEvery()} value that asks for the node's default preview period. */
  public static final int DEFAULT_PREVIEW = -1;

  public GenerateRequest {
    if (sampler == null) sampler = SamplerSpec.defaults();
    if (conditioning == null) conditioning = Conditioning.NONE;
    if (model != null && model.isEmpty()) model = null;
  }

  /** A request of the default priority. */
  public GenerateRequest(String requestId, int count, long seed, SamplerSpec sampler, int previewEvery,
                         Duration deadline, Conditioning conditioning, String model) {
    this(requestId, count, seed, sampler, previewEvery, deadline, conditioning, model, 0);
  }

  /** A request for the node's primary model. */
  public GenerateRequest(String requestId, int count, long seed, SamplerSpec sampler, int previewEvery,
                         Duration deadline, Conditioning conditioning) {
    this(requestId, count, seed, sampler, previewEvery, deadline, conditioning, null);
  }

  /** An unconditional request. */
  public GenerateRequest(String requestId, int count, long seed, SamplerSpec sampler, int previewEvery,
                         Duration deadline) {
    this(requestId, count, seed, sampler, previewEvery, deadline, Conditioning.NONE, null);
  }

  public GenerateRequest withConditioning(Conditioning c) {
    return new GenerateRequest(requestId, count, seed, sampler, previewEvery, deadline, c, model, priority);
  }

  /** count samples with the given seed and sampler, default previews and deadline, an id chosen at submission. */
  public static GenerateRequest of(int count, long seed, SamplerSpec sampler) {
    return new GenerateRequest(null, count, seed, sampler, DEFAULT_PREVIEW, null);
  }

  public GenerateRequest withRequestId(String id) {
    return new GenerateRequest(id, count, seed, sampler, previewEvery, deadline, conditioning, model, priority);
  }

  public GenerateRequest withPreviewEvery(int steps) {
    return new GenerateRequest(requestId, count, seed, sampler, steps, deadline, conditioning, model, priority);
  }

  public GenerateRequest withDeadline(Duration d) {
    return new GenerateRequest(requestId, count, seed, sampler, previewEvery, d, conditioning, model, priority);
  }

  /** The same request with this priority (higher goes first). */
  public GenerateRequest withPriority(int p) {
    return new GenerateRequest(requestId, count, seed, sampler, previewEvery, deadline, conditioning, model, p);
  }

  /** The same request for the node's model of that name (null: the primary one). */
  public GenerateRequest withModel(String name) {
    return new GenerateRequest(requestId, count, seed, sampler, previewEvery, deadline, conditioning, name, priority);
  }
}
