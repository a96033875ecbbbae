package io.scorestream.streams.http;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The HTTP gateway's connection counters, for flood protection and {@code /metrics}: open connections, and how many
 * were accepted, refused at max-connections, and closed for missing the first header's deadline. Thread-safe.
 */
final class ConnectionStats {
  private final AtomicInteger open = new AtomicInteger();
  private final LongAdder accepted = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private final LongAdder headerTimeouts = new LongAdder();

  /** Takes a slot if fewer than max are open; false (and counted as refused) otherwise. */
  boolean tryOpen(int max) {
    while (true) {
      int n = open.get();
      if (n >= max) {
        refused.increment();
        return false;
      }
      if (open.compareAndSet(n, n + 1)) {
        accepted.increment();
        return true;
      }
    }
  }

  void closed() {
    open.decrementAndGet();
  }

  void headerTimeout() {
    headerTimeouts.increment();
  }

  int open() {
    return open.get();
  }

  Snapshot snapshot() {
    return new Snapshot(open.get(), accepted.sum(), refused.sum(), headerTimeouts.sum());
  }

  /** The counters at one instant. */
  record Snapshot(int open, long accepted, long refused, long headerTimeouts) {}
}
