package io.scorestream.streams.aeron;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The Connect token bucket: a burst at once, then the rate, never more than the burst saved up. */
class TokenBucketTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void aBurstThenTheRate() {
    TokenBucket b = new TokenBucket(20, 10, 0);
    int taken = 0;
    for (int i = 0; i < 100; i++) if (b.take(0)) taken++;
    assertEquals(10, taken, "the burst");
    assertFalse(b.take(SECOND / 40), "half a token after 25 ms at 20/s");
    assertTrue(b.take(SECOND / 20), "one token after 50 ms");
    taken = 0;
    for (long t = SECOND / 20; t <= SECOND * 11 / 20; t += SECOND / 1000) if (b.take(t)) taken++;
    assertEquals(10, taken, "20/s for half a second");
  }

  @Test
  void aLongQuietSpellSavesUpOnlyTheBurst() {
    TokenBucket b = new TokenBucket(50, 5, 0);
    int taken = 0;
    for (int i = 0; i < 100; i++) if (b.take(3600 * SECOND)) taken++;
    assertEquals(5, taken);
  }
}
