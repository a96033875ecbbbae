package io.scorestream.streams.aeron;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** The live counters behind {@link GatewayStats}; written by the gateway's agents, read by any thread. */
final class GatewayCounters {
  final AtomicInteger clients = new AtomicInteger();
  final AtomicLong connects = new AtomicLong();
  final AtomicLong connectsRejected = new AtomicLong();
  final AtomicLong clientsDropped = new AtomicLong();
  final AtomicLong disconnects = new AtomicLong();
  final AtomicLong requests = new AtomicLong();
  final AtomicLong cancelledOnDrop = new AtomicLong();
  final AtomicLong malformedFrames = new AtomicLong();
  final AtomicLong unexpectedFrames = new AtomicLong();
  final AtomicLong previewsSent = new AtomicLong();
  final AtomicLong terminalsSent = new AtomicLong();
  final AtomicLong resultParts = new AtomicLong();
  final AtomicLong connectsThrottled = new AtomicLong();

  GatewayStats snapshot() {
    return new GatewayStats(clients.get(), connects.get(), connectsRejected.get(), clientsDropped.get(),
        disconnects.get(), requests.get(), cancelledOnDrop.get(), malformedFrames.get(), unexpectedFrames.get(),
        previewsSent.get(), terminalsSent.get(), resultParts.get(), connectsThrottled.get());
  }
}
