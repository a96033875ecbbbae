package io.scorestream.model.sde;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/** The JSON form of an SDE in checkpoint and classifier descriptions: its kind and parameters. */
public final class SdeJson {
  private SdeJson() {}

  /** Writes kind and parameters of sde into s. */
  public static ObjectNode write(ObjectNode s, Sde sde) {
    s.put("kind", sde.kind().name().toLowerCase(Locale.ROOT));
    if (sde instanceof VeSde ve) {
      s.put("sigmaMin", ve.sigmaMin());
      s.put("sigmaMax", ve.sigmaMax());
    } else if (sde instanceof VpSde vp) {
      s.put("betaMin", vp.betaMin());
      s.put("betaMax", vp.betaMax());
    }
    return s;
  }

  /** Reads what {@link #write} wrote; an unknown kind or a missing parameter throws IllegalArgumentException. */
  public static Sde read(JsonNode s) {
    if (s == null || !s.hasNonNull("kind")) throw new IllegalArgumentException("no SDE kind");
    return switch (s.get("kind").asText()) {
      case "ve" -> new VeSde(number(s, "sigmaMin"), number(s, "sigmaMax"));
      case "vp" -> new VpSde(number(s, "betaMin"), number(s, "betaMax"));
      case "subvp" -> new SubVpSde(number(s, "betaMin"), number(s, "betaMax"));
      default -> throw new IllegalArgumentException("unknown SDE kind " + s.get("kind"));
    };
  }

  private static double number(JsonNode s, String field) {
    JsonNode v = s.get(field);
    if (v == null || !v.isNumber()) throw new IllegalArgumentException("SDE " + field + " missing or not a number");
    return v.asDouble();
  }
}
