package io.scorestream.streams.aeron;

import akka.Done;
import io.scorestream.protocol.ServerMessage;
import java.util.concurrent.CompletableFuture;

/**
 * A message waiting for a client's publication, with the future its request stream waits on (null for control
 * messages). Egress agent only after it is queued. A back-pressured message keeps its encoded bytes, so a retry
 * does not encode it again; a large Completed remembers how many rows already went out as ResultParts.
 */
final class Outbound {
  final ServerMessage message;
  final CompletableFuture<Done> delivered;
  /** Encoded frame kept for retries (null until the first offer fails). */
  byte[] encoded;
  /** Large results: the samples, and the first row not yet sent. */
  double[] samples;
  int nextChain;

  Outbound(ServerMessage message, CompletableFuture<Done> delivered) {
    this.message = message;
    this.delivered = delivered;
  }

  void complete() {
    if (delivered != null) delivered.complete(Done.getInstance());
  }
}
