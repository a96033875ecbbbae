package io.scorestream.streams.aeron;

import io.aeron.ExclusivePublication;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One connected client: its session id, the ingress image it speaks from, its own egress publication, and its
 * running requests. The ingress agent owns the session's life (open, liveness, drop); the egress agent owns the
 * publication and the queue of messages waiting for it; stream threads read {@link #gone} and the request map.
 */
final class ClientSession {
  final long sessionId;
  /** (ingress channel index, Aeron session id of the client's ingress publication). */
  final long imageKey;
  final String clientName;
  final ExclusivePublication publication;
  /** The longest message to offer: the configured limit or the publication's, whichever is smaller. */
  final int maxMessageLength;
  /** Client request id to node request id, for cancels; entries leave when their stream ends. */
  final ConcurrentHashMap<Long, String> requests = new ConcurrentHashMap<>();

  /** Ingress agent only. */
  long lastSeenNs;
  /** Set by the ingress agent when the session is dropped; from then on nothing more is sent. */
  volatile boolean gone;
  /** Set by the egress agent when the publication closed under it; the ingress agent then drops the session. */
  volatile boolean egressFailed;

  /** Egress agent only: messages waiting for the publication, in order. */
  final ArrayDeque<Outbound> pending = new ArrayDeque<>();
  /** Egress agent only. */
  long lastSentNs;
  /** Egress agent only: whether it is in the egress agent's client list. */
  boolean registered;

  ClientSession(long sessionId, long imageKey, String clientName, ExclusivePublication publication,
                int maxMessageLength, long nowNs) {
    this.sessionId = sessionId;
    this.imageKey = imageKey;
    this.clientName = clientName;
    this.publication = publication;
    this.maxMessageLength = Math.min(maxMessageLength, publication.maxMessageLength());
    this.lastSeenNs = nowNs;
    this.lastSentNs = nowNs;
  }

  @Override
  public String toString() {
    return "session " + Long.toHexString(sessionId) + " (" + clientName + ")";
  }
}
