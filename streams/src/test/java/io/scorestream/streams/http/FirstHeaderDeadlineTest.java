package io.scorestream.streams.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The first-header deadline: the end-of-header matcher finds the first CR LF CR LF whatever precedes it, a header
 * that arrives in time (in any chunks) passes untouched and the deadline no longer applies, and a connection whose
 * header is missing or incomplete at the deadline fails (is closed) once.
 */
class FirstHeaderDeadlineTest {
  private static final ActorSystem<Void> SYSTEM = ActorSystem.create(Behaviors.empty(), "first-header-deadline");

  @AfterAll
  static void stop() {
    SYSTEM.terminate();
  }

  private static int firstEnd(String text) {
    byte[] b = text.getBytes(StandardCharsets.US_ASCII);
    int m = 0;
    for (int i = 0; i < b.length; i++) {
      m = FirstHeaderDeadline.advance(m, b[i]);
      if (m == 4) return i + 1;
    }
    return -1;
  }

  @Test
  void theMatcherFindsTheEmptyLineThatEndsTheHeader() {
    assertEquals(18, firstEnd("GET / HTTP/1.1\r\n\r\nbody"));
    assertEquals(27, firstEnd("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    assertEquals(-1, firstEnd("GET / HTTP/1.1\r\nHost: x\r\n"), "not complete");
    assertEquals(-1, firstEnd("\n\n\r\r\n\r"), "bare LFs and CRs are not the end");
    assertEquals(6, firstEnd("\r\r\r\n\r\n"), "a run of CRs restarts the match at the last one");
    assertEquals(7, firstEnd("\r\n\r\r\n\r\n"), "CR LF CR then CR restarts at that CR");
  }

  @Test
  void aHeaderInTimePassesInAnyChunksAndTheDeadlineNoLongerApplies() throws Exception {
    String req = "POST /v1/samples HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}";
    AtomicInteger timeouts = new AtomicInteger();
    List<ByteString> chunks = List.of(ByteString.fromString(req.substring(0, 20)),
        ByteString.fromString(req.substring(20, 62)), ByteString.fromString(req.substring(62)));
    // The body arrives well after the deadline: only the header is held to it.
    List<ByteString> out = Source.from(chunks).concat(Source.single(ByteString.fromString("late"))
            .initialDelay(Duration.ofMillis(600)))
        .via(new FirstHeaderDeadline(Duration.ofMillis(300), timeouts::incrementAndGet))
        .runWith(Sink.seq(), SYSTEM).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(req + "late", out.stream().map(ByteString::utf8String).reduce("", String::concat));
    assertEquals(0, timeouts.get());
  }

  @Test
  void aMissingOrIncompleteHeaderFailsTheConnectionAtTheDeadline() {
    for (Source<ByteString, ?> in : List.<Source<ByteString, ?>>of(Source.<ByteString>maybe(),
        Source.single(ByteString.fromString("GET / HTTP/1.1\r\nHost: x\r\n")).concat(Source.maybe()))) {
      AtomicInteger timeouts = new AtomicInteger();
      ExecutionException e = assertThrows(ExecutionException.class, () -> in
          .via(new FirstHeaderDeadline(Duration.ofMillis(200), timeouts::incrementAndGet))
          .runWith(Sink.ignore(), SYSTEM).toCompletableFuture().get(10, TimeUnit.SECONDS));
      assertInstanceOf(java.util.concurrent.TimeoutException.class, e.getCause());
      assertEquals(1, timeouts.get());
    }
  }
}
