package io.scorestream.streams.aeron;

import java.util.Locale;
import java.util.Map;

/**
 * What a ConnectAck tells a client about the node, its primary model's SDE (ve | vp | subvp) and data dimension,
 * and the SDE of every model it serves by name (for checking a request's informational SDE).
 */
record NodeInfo(String sde, int dim, Map<String, String> sdes) {

  NodeInfo {
    sdes = Map.copyOf(sdes);
  }

  /** A node serving one model. */
  NodeInfo(String sde, int dim) {
    this(sde, dim, Map.of());
  }

  /**
   * Whether a request's informational SDE name agrees with that of the model it asks for ("": the primary one). A
   * model the node does not serve matches any name: the node refuses the request for its model.
   */
  boolean matches(String model, String requested) {
    String r = requested.toLowerCase(Locale.ROOT).replace("-", "");
    return r.equals(sdeOf(model)) || !model.isEmpty() && !sdes.containsKey(model);
  }

  /** The SDE of the model a request asks for ("": the primary one). */
  String sdeOf(String model) {
    return model.isEmpty() ? sde : sdes.getOrDefault(model, sde);
  }
}
