package io.scorestream.streams.aeron;

import java.util.Locale;

/** What a ConnectAck tells a client about the node: its SDE (ve | vp | subvp) and data dimension. */
record NodeInfo(String sde, int dim) {

  /** Whether a request's informational SDE name agrees with the node's. */
  boolean matches(String requested) {
    String r = requested.toLowerCase(Locale.ROOT).replace("-", "");
    return r.equals(sde);
  }
}
