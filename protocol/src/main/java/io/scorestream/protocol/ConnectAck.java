package io.scorestream.protocol;

/**
 * The session is open.
 *
 * @param correlationId       the Connect's
 * @param sessionId           names the session in every later message, both ways
 * @param heartbeatIntervalNs how often the server heartbeats, and how often the client should
 * @param livenessTimeoutNs   a client silent for this long is dropped and its requests cancelled
 * @param maxMessageLength    the longest message the server sends or accepts, in bytes
 * @param dim                 the data dimension D of the node's model
 * @param sde                 the node's SDE (ve | vp | subvp)
 */
public record ConnectAck(long correlationId, long sessionId, long heartbeatIntervalNs, long livenessTimeoutNs,
                         int maxMessageLength, int dim, String sde) implements ServerMessage {
  public ConnectAck {
    Protocol.text(sde, "sde");
  }
}
