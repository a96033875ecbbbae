package io.scorestream.streams.http;

import io.scorestream.actors.GenerateRequest;
import io.scorestream.model.sample.Conditioning;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.protocol.json.JsonShapeException;
import io.scorestream.protocol.json.SampleRequest;
import io.scorestream.actors.ScoreStreamNode;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Turns a parsed {@link SampleRequest} into the node's {@link GenerateRequest}: applies the gateway's limits
 * ({@code max-count}, {@code max-steps}) and checks the SDE, naming the field at fault; everything else the node's
 * coordinator validates (and {@link #fieldOf} finds the field its message is about). Pure; any thread.
 */
final class SampleRequests {
  private SampleRequests() {}

  /**
   * The node's request for body.
   *
   * @param id      the request id the gateway chose
   * @param seed    the seed to use (the body's, or one the gateway drew)
   * @param models  the node's models, the primary one first: the body's {@code model} must name one, and its SDE
   *                is the one {@code sde} must name
   * @throws JsonShapeException INVALID_ARGUMENT naming the field
   */
  static GenerateRequest toGenerateRequest(SampleRequest body, String id, long seed, HttpSettings limits,
                                           List<ScoreStreamNode.ServedModel> models) {
    ScoreStreamNode.ServedModel target = body.model() == null ? models.get(0)
        : models.stream().filter(m -> m.name().equals(body.model())).findFirst().orElseThrow(() -> invalid("model",
            "this node serves no model '" + body.model() + "' (it serves "
                + String.join(", ", models.stream().map(ScoreStreamNode.ServedModel::name).toList()) + ")"));
    String nodeSde = target.sde().kind().name().toLowerCase(Locale.ROOT);
    if (body.count() > limits.maxCount()) {
      throw invalid("count", "count must be in [1, " + limits.maxCount() + "] (max-count), got " + body.count());
    }
    if (body.steps() != null && body.steps() > limits.maxSteps()) {
      throw invalid("steps", "steps must be in [1, " + limits.maxSteps() + "] (max-steps), got " + body.steps());
    }
    if (body.levels() != null && body.levels() > limits.maxSteps()) {
      throw invalid("levels", "levels must be in [1, " + limits.maxSteps() + "] (max-steps), got " + body.levels());
    }
    if (body.sde() != null && !body.sde().equals(nodeSde)) {
      throw invalid("sde", "sde '" + body.sde() + "' is not this node's SDE '" + nodeSde
          + "' (leave sde out to use the node's)");
    }
    SamplerSpec spec = new SamplerSpec(body.sampler(), body.steps(), body.predictor(), body.corrector(),
        body.correctorSteps(), body.snr(), body.denoise(), body.method(), body.rtol(), body.atol(), body.levels(),
        body.stepSize(), body.t(), body.sigmaMax(), body.sigmaMin(), body.eta(), body.schedule(), body.churn());
    return new GenerateRequest(id, body.count(), seed, spec,
        body.previewEvery() == null ? GenerateRequest.DEFAULT_PREVIEW : body.previewEvery(),
        body.deadlineMs() == null ? null : Duration.ofMillis(body.deadlineMs()),
        conditioning(body, target), body.model(), body.priority() == null ? 0 : body.priority());
  }

  /** Labels and guidance, and the inpainting mask when the body has one, checked against the model's dimension. */
  private static Conditioning conditioning(SampleRequest body, ScoreStreamNode.ServedModel target) {
    Conditioning c = Conditioning.ofRequest(body.labels(), body.guidance());
    if (body.known() == null) return c;
    int d = target.dim();
    if (body.known().size() != d) {
      throw invalid("known", "known must hold one value per dimension of model '" + target.name() + "' (" + d
          + "), got " + body.known().size());
    }
    boolean[] mask = new boolean[d];
    double[] known = new double[d];
    for (int i = 0; i < d; i++) {
      mask[i] = body.mask().get(i) == 1;
      known[i] = body.known().get(i);
    }
    return c.withMask(mask, known);
  }

  /**
   * The request field a node validation message is about: its first word when that names a field ("steps must be
   * ..."), with the node's names mapped to the JSON ones; null when none is recognisable.
   */
  static String fieldOf(String nodeMessage) {
    if (nodeMessage == null) return null;
    String m = nodeMessage.trim();
    if (m.startsWith("unknown sampler ")) return "sampler";
    int end = 0;
    while (end < m.length() && Character.isLetter(m.charAt(end))) end++;
    String word = m.substring(0, end);
    if (word.equals("deadline")) return "deadlineMs";
    if (SampleRequest.FIELDS.contains(word)) return word;
    String lower = m.toLowerCase(Locale.ROOT);
    for (String f : new String[] {"predictor", "corrector", "method"}) {
      if (lower.contains(f)) return f;
    }
    return null;
  }

  private static JsonShapeException invalid(String field, String message) {
    return new JsonShapeException("INVALID_ARGUMENT", field, message);
  }
}
