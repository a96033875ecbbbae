package io.scorestream.protocol.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The body of {@code POST /v1/samples}: a request for {@code count} samples. Only {@code count} is required; every
 * other field may be absent (or null), meaning the node's default. Flat on purpose: the sampler's optional
 * parameters sit beside {@code sampler}, and each kind reads its own (see the node's SamplerSpec):
 * <ul>
 *   <li>{@code pc}: steps, predictor (euler-maruyama | reverse-diffusion | ancestral | none), corrector
 *       (langevin | ald | none), correctorSteps, snr, denoise</li>
 *   <li>{@code ode}: method (rk45 | euler | heun), steps (fixed-step methods), rtol, atol, denoise</li>
 *   <li>{@code ald}: levels, steps (per level), stepSize, sigmaMax, sigmaMin, denoise</li>
 *   <li>{@code langevin}: t, steps, stepSize</li>
 *   <li>{@code ddim} (eta), {@code dpmpp-2m}, {@code dpmpp-2m-sde} (eta), {@code edm} (churn): steps, schedule
 *       (uniform | karras | logsnr), denoise</li>
 * </ul>
 * {@link #parse} checks the shape (types, presence, finiteness, signs, known names) and names the field at fault;
 * limits that depend on the node (largest count, most steps, the node's SDE) are the gateway's to check.
 *
 * @param count        number of samples (chains), >= 1; required
 * @param seed         noise seed; absent: the gateway draws one and reports it
 * @param sde          ve | vp | subvp; when present it must be the node's SDE
 * @param sampler      pc | ode | ald | langevin | ddim | dpmpp-2m | dpmpp-2m-sde | edm; absent: pc with the node's
 *                     per-SDE defaults
 * @param previewEvery a preview every this many steps, >= 0 (0: none); absent: the node's default
 * @param deadlineMs   how long the request may run after admission, > 0; absent: the node's default
 * @param labels       class labels cycled over the chains (integers >= -1, -1: none); absent: unconditional
 * @param guidance     classifier-free guidance scale >= 0 (0: unconditional, 1: conditional); absent: 1
 * @param model        which of the node's models to sample ({@link #MODEL_NAME}); absent: its primary model
 * @param known        inpainting: one finite value per dimension (pixels in the data's [-1, 1] scale), the values
 *                     kept where mask is 1; with mask, absent together
 * @param mask         inpainting: one 0 or 1 per dimension, 1 where the value is known and kept, 0 where it is
 *                     generated
 * @param priority     higher goes first when the node is saturated (default 0)
 */
public record SampleRequest(Integer count, Long seed, String sde, String sampler, Integer steps, String predictor,
                            String corrector, Integer correctorSteps, Double snr, Boolean denoise, String method,
                            Double rtol, Double atol, Integer levels, Double stepSize, Double t, Double eta,
                            String schedule, Double churn, Double sigmaMax, Double sigmaMin, Integer previewEvery,
                            Long deadlineMs, List<Integer> labels, Double guidance, String model,
                            List<Double> known, List<Integer> mask, Integer priority) {

  /** A request of the default priority. */
  public SampleRequest(Integer count, Long seed, String sde, String sampler, Integer steps, String predictor,
                       String corrector, Integer correctorSteps, Double snr, Boolean denoise, String method,
                       Double rtol, Double atol, Integer levels, Double stepSize, Double t, Double eta,
                       String schedule, Double churn, Double sigmaMax, Double sigmaMin, Integer previewEvery,
                       Long deadlineMs, List<Integer> labels, Double guidance, String model,
                       List<Double> known, List<Integer> mask) {
    this(count, seed, sde, sampler, steps, predictor, corrector, correctorSteps, snr, denoise, method, rtol, atol,
        levels, stepSize, t, eta, schedule, churn, sigmaMax, sigmaMin, previewEvery, deadlineMs, labels, guidance,
        model, known, mask, null);
  }

  /** A request without inpainting. */
  public SampleRequest(Integer count, Long seed, String sde, String sampler, Integer steps, String predictor,
                       String corrector, Integer correctorSteps, Double snr, Boolean denoise, String method,
                       Double rtol, Double atol, Integer levels, Double stepSize, Double t, Double eta,
                       String schedule, Double churn, Double sigmaMax, Double sigmaMin, Integer previewEvery,
                       Long deadlineMs, List<Integer> labels, Double guidance, String model) {
    this(count, seed, sde, sampler, steps, predictor, corrector, correctorSteps, snr, denoise, method, rtol, atol,
        levels, stepSize, t, eta, schedule, churn, sigmaMax, sigmaMin, previewEvery, deadlineMs, labels, guidance,
        model, null, null);
  }

  /** What a model name looks like: lower-case letters, digits and dashes, at most 63. */
  public static final java.util.regex.Pattern MODEL_NAME = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  /** A request for the node's primary model. */
  public SampleRequest(Integer count, Long seed, String sde, String sampler, Integer steps, String predictor,
                       String corrector, Integer correctorSteps, Double snr, Boolean denoise, String method,
                       Double rtol, Double atol, Integer levels, Double stepSize, Double t, Double eta,
                       String schedule, Double churn, Double sigmaMax, Double sigmaMin, Integer previewEvery,
                       Long deadlineMs, List<Integer> labels, Double guidance) {
    this(count, seed, sde, sampler, steps, predictor, corrector, correctorSteps, snr, denoise, method, rtol, atol,
        levels, stepSize, t, eta, schedule, churn, sigmaMax, sigmaMin, previewEvery, deadlineMs, labels, guidance,
        null);
  }

  /** An unconditional request. */
  public SampleRequest(Integer count, Long seed, String sde, String sampler, Integer steps, String predictor,
                       String corrector, Integer correctorSteps, Double snr, Boolean denoise, String method,
                       Double rtol, Double atol, Integer levels, Double stepSize, Double t, Double eta,
                       String schedule, Double churn, Double sigmaMax, Double sigmaMin, Integer previewEvery,
                       Long deadlineMs) {
    this(count, seed, sde, sampler, steps, predictor, corrector, correctorSteps, snr, denoise, method, rtol, atol,
        levels, stepSize, t, eta, schedule, churn, sigmaMax, sigmaMin, previewEvery, deadlineMs, null, null, null);
  }

  /** The most labels a body may carry. */
  public static final int MAX_LABELS = 4096;

  /** The field names a body may carry, in documentation order. */
  public static final List<String> FIELDS = List.of("count", "seed", "sde", "sampler", "steps", "predictor",
      "corrector", "correctorSteps", "snr", "denoise", "method", "rtol", "atol", "levels", "stepSize", "t", "eta",
      "schedule", "churn", "sigmaMax", "sigmaMin", "previewEvery", "deadlineMs", "labels", "guidance", "model",
      "known", "mask", "priority");
  /** The most values an inpainting {@code known} or {@code mask} may hold. */
  public static final int MAX_PIXELS = 1 << 20;
  /** The sampler kinds. */
  public static final List<String> SAMPLERS = List.of("pc", "ode", "ald", "langevin", "ddim", "dpmpp-2m",
      "dpmpp-2m-sde", "edm");
  /** The time-step schedules of the few-step samplers. */
  public static final List<String> SCHEDULES = List.of("uniform", "karras", "logsnr");
  /** The SDE names. */
  public static final List<String> SDES = List.of("ve", "vp", "subvp");
  private static final Set<String> PREDICTORS = Set.of("euler-maruyama", "reverse-diffusion", "ancestral", "none");
  private static final Set<String> CORRECTORS = Set.of("langevin", "ald", "none");
  private static final Set<String> METHODS = Set.of("rk45", "euler", "heun");

  /** A request with only count, seed and sampler kind set (the rest: node defaults). */
  public static SampleRequest of(int count, long seed, String sampler, Integer steps) {
    return new SampleRequest(count, seed, null, sampler, steps, null, null, null, null, null, null, null, null, null,
        null, null, null, null, null, null, null, null, null);
  }

  /**
   * Parses and checks a request body.
   *
   * @throws JsonShapeException MALFORMED_JSON (not a JSON object), UNKNOWN_FIELD, or INVALID_ARGUMENT naming the field
   */
  public static SampleRequest parse(String body) {
    JsonNode root;
    try {
      root = Json.STRICT.readTree(body);
    } catch (JsonProcessingException e) {
      String near = e.getProcessor() instanceof com.fasterxml.jackson.core.JsonParser p
          ? p.getParsingContext().getCurrentName() : null;
      String where = e.getLocation() == null ? ""
          : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
      // The parser knows the field it was in for sure only when that field is the fault (a repeated name).
      String field = e.getOriginalMessage().startsWith("Duplicate field") ? near : null;
      throw new JsonShapeException("MALFORMED_JSON", field, "the body is not valid JSON" + where
          + (near == null ? "" : " (after field '" + near + "')") + ": " + e.getOriginalMessage());
    }
    if (root == null || root.isMissingNode()) {
      throw new JsonShapeException("MALFORMED_JSON", null, "the body is empty; expected a JSON object");
    }
    if (!(root instanceof ObjectNode obj)) {
      throw new JsonShapeException("MALFORMED_JSON", null, "the body must be a JSON object, got " + kind(root));
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
      String name = it.next().getKey();
      if (!FIELDS.contains(name)) {
        throw new JsonShapeException("UNKNOWN_FIELD", name, "unknown field '" + name + "' (known: "
            + String.join(", ", FIELDS) + ")");
      }
    }
    Integer count = integer(obj, "count", 1);
    if (count == null) throw invalid("count", "count is required (number of samples, an integer >= 1)");
    Long seed = longValue(obj, "seed", Long.MIN_VALUE);
    String sde = name(obj, "sde", Set.copyOf(SDES));
    String sampler = name(obj, "sampler", Set.copyOf(SAMPLERS));
    Integer steps = integer(obj, "steps", 1);
    String predictor = name(obj, "predictor", PREDICTORS);
    String corrector = name(obj, "corrector", CORRECTORS);
    Integer correctorSteps = integer(obj, "correctorSteps", 0);
    Double snr = positive(obj, "snr");
    Boolean denoise = bool(obj, "denoise");
    String method = name(obj, "method", METHODS);
    Double rtol = positive(obj, "rtol");
    Double atol = positive(obj, "atol");
    Integer levels = integer(obj, "levels", 1);
    Double stepSize = positive(obj, "stepSize");
    Double t = positive(obj, "t");
    Double eta = nonNegative(obj, "eta");
    String schedule = name(obj, "schedule", Set.copyOf(SCHEDULES));
    Double churn = nonNegative(obj, "churn");
    Double sigmaMax = positive(obj, "sigmaMax");
    Double sigmaMin = positive(obj, "sigmaMin");
    Integer previewEvery = integer(obj, "previewEvery", 0);
    Long deadlineMs = longValue(obj, "deadlineMs", 1);
    List<Integer> labels = labels(obj);
    Double guidance = nonNegative(obj, "guidance");
    return new SampleRequest(count, seed, sde, sampler, steps, predictor, corrector, correctorSteps, snr, denoise,
        method, rtol, atol, levels, stepSize, t, eta, schedule, churn, sigmaMax, sigmaMin, previewEvery, deadlineMs,
        labels, guidance, modelName(obj), known(obj), mask(obj, present(obj, "known") != null),
        integer(obj, "priority", -1_000_000));
  }

  private static List<Double> known(ObjectNode obj) {
    JsonNode n = present(obj, "known");
    if (n == null) return null;
    if (!n.isArray() || n.isEmpty() || n.size() > MAX_PIXELS) {
      throw invalid("known", "known must be an array of 1 to " + MAX_PIXELS + " finite numbers (the kept values), got "
          + shown(n));
    }
    List<Double> out = new java.util.ArrayList<>(n.size());
    for (JsonNode e : n) {
      if (!e.isNumber() || !Double.isFinite(e.doubleValue())) {
        throw invalid("known", "known must hold finite numbers, got " + shown(e));
      }
      out.add(e.doubleValue());
    }
    return List.copyOf(out);
  }

  private static List<Integer> mask(ObjectNode obj, boolean withKnown) {
    JsonNode n = present(obj, "mask");
    if (n == null) {
      if (withKnown) throw invalid("mask", "known needs a mask (1 where a value is kept, 0 where it is generated)");
      return null;
    }
    if (!withKnown) throw invalid("known", "mask needs known (the values kept where mask is 1)");
    if (!n.isArray() || n.size() != obj.get("known").size()) {
      throw invalid("mask", "mask must be an array of 0s and 1s as long as known (" + obj.get("known").size()
          + "), got " + shown(n));
    }
    List<Integer> out = new java.util.ArrayList<>(n.size());
    for (JsonNode e : n) {
      if (!e.isIntegralNumber() || !e.canConvertToInt() || (e.intValue() != 0 && e.intValue() != 1)) {
        throw invalid("mask", "mask must hold 0 (generate) or 1 (keep), got " + shown(e));
      }
      out.add(e.intValue());
    }
    return List.copyOf(out);
  }

  private static String modelName(ObjectNode obj) {
    JsonNode n = present(obj, "model");
    if (n == null) return null;
    if (!n.isTextual() || !MODEL_NAME.matcher(n.textValue()).matches()) {
      throw invalid("model", "model must be a model name (lower-case letters, digits and dashes; GET /v1/status "
          + "lists the node's), got " + shown(n));
    }
    return n.textValue();
  }

  private static List<Integer> labels(ObjectNode obj) {
    JsonNode n = present(obj, "labels");
    if (n == null) return null;
    if (!n.isArray()) throw invalid("labels", "labels must be an array of integers >= -1, got " + shown(n));
    if (n.size() > MAX_LABELS) throw invalid("labels", "labels may hold at most " + MAX_LABELS + ", got " + n.size());
    List<Integer> out = new java.util.ArrayList<>();
    for (JsonNode e : n) {
      if (!e.isIntegralNumber() || !e.canConvertToInt() || e.intValue() < -1) {
        throw invalid("labels", "labels must be integers >= -1 (-1: no label), got " + shown(e));
      }
      out.add(e.intValue());
    }
    return List.copyOf(out);
  }

  private static JsonNode present(ObjectNode obj, String field) {
    JsonNode n = obj.get(field);
    return n == null || n.isNull() ? null : n;
  }

  private static Integer integer(ObjectNode obj, String field, int min) {
    JsonNode n = present(obj, field);
    if (n == null) return null;
    if (!n.isIntegralNumber() || !n.canConvertToInt()) {
      throw invalid(field, field + " must be an integer in [" + min + ", " + Integer.MAX_VALUE + "], got "
          + shown(n));
    }
    int v = n.intValue();
    if (v < min) throw invalid(field, field + " must be >= " + min + ", got " + v);
    return v;
  }

  private static Long longValue(ObjectNode obj, String field, long min) {
    JsonNode n = present(obj, field);
    if (n == null) return null;
    if (!n.isIntegralNumber() || !n.canConvertToLong()) {
      throw invalid(field, field + " must be a 64-bit integer, got " + shown(n));
    }
    long v = n.longValue();
    if (v < min) throw invalid(field, field + " must be >= " + min + ", got " + v);
    return v;
  }

  private static Double positive(ObjectNode obj, String field) {
    JsonNode n = present(obj, field);
    if (n == null) return null;
    if (!n.isNumber()) throw invalid(field, field + " must be a number, got " + shown(n));
    double v = n.doubleValue();
    if (!Double.isFinite(v) || !(v > 0)) throw invalid(field, field + " must be a finite number > 0, got " + shown(n));
    return v;
  }

  private static Double nonNegative(ObjectNode obj, String field) {
    JsonNode n = present(obj, field);
    if (n == null) return null;
    if (!n.isNumber()) throw invalid(field, field + " must be a number, got " + shown(n));
    double v = n.doubleValue();
    if (!Double.isFinite(v) || !(v >= 0)) throw invalid(field, field + " must be a finite number >= 0, got " + shown(n));
    return v;
  }

  private static Boolean bool(ObjectNode obj, String field) {
    JsonNode n = present(obj, field);
    if (n == null) return null;
    if (!n.isBoolean()) throw invalid(field, field + " must be true or false, got " + shown(n));
    return n.booleanValue();
  }

  private static String name(ObjectNode obj, String field, Set<String> allowed) {
    JsonNode n = present(obj, field);
    if (n == null) return null;
    String v = n.isTextual() ? n.textValue().trim().toLowerCase(Locale.ROOT) : null;
    if (v == null || !allowed.contains(v)) {
      throw invalid(field, field + " must be one of " + allowed.stream().sorted().toList() + ", got " + shown(n));
    }
    return v;
  }

  private static String shown(JsonNode n) {
    String s = n.isNumber() && !Double.isFinite(n.doubleValue()) ? String.valueOf(n.doubleValue()) : n.toString();
    return (s.length() > 40 ? s.substring(0, 40) + "..." : s) + " (" + kind(n) + ")";
  }

  private static String kind(JsonNode n) {
    return switch (n.getNodeType()) {
      case ARRAY -> "an array";
      case OBJECT -> "an object";
      case STRING -> "a string";
      case NUMBER -> n.isIntegralNumber() ? "an integer" : "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      default -> n.getNodeType().toString().toLowerCase(Locale.ROOT);
    };
  }

  private static JsonShapeException invalid(String field, String message) {
    return new JsonShapeException("INVALID_ARGUMENT", field, message);
  }
}
