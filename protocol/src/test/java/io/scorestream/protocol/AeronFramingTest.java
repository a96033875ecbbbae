package io.scorestream.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aeron.Aeron;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.agrona.CloseHelper;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Messages larger than one frame (a 4,096 x 2 result is 64 KiB, an MTU is 1,408 bytes) cross Aeron whole:
 * Publication.offer fragments them, a FragmentAssembler on the subscription puts them back together.
 */
class AeronFramingTest {
  private static MediaDriver driver;
  private static Aeron aeron;

  @BeforeAll
  static void start() {
    driver = MediaDriver.launch(new MediaDriver.Context()
        .aeronDirectoryName(new File(System.getProperty("java.io.tmpdir"), "ss-framing-" + UUID.randomUUID()).getPath())
        .threadingMode(ThreadingMode.SHARED).sharedIdleStrategy(new SleepingMillisIdleStrategy(1))
        .termBufferSparseFile(true).dirDeleteOnStart(true).dirDeleteOnShutdown(true));
    aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
  }

  @AfterAll
  static void stop() {
    CloseHelper.quietCloseAll(aeron, driver);
  }

  @Test
  void largeMessagesCrossIpcWhole() throws Exception {
    roundTrip("aeron:ipc", "aeron:ipc");
  }

  @Test
  void largeMessagesCrossUdpWhole() throws Exception {
    try (Subscription probe = aeron.addSubscription("aeron:udp?endpoint=127.0.0.1:0", 11)) {
      String channel = awaitResolved(probe);
      roundTrip(probe, channel);
    }
  }

  private void roundTrip(String subChannel, String pubChannel) throws Exception {
    try (Subscription sub = aeron.addSubscription(subChannel, 10)) {
      roundTrip(sub, pubChannel);
    }
  }

  private void roundTrip(Subscription sub, String pubChannel) throws Exception {
    Random rnd = new Random(8);
    List<Message> sent = List.of(Samples.completed(4096, 2, 77),
        Preview.of(5, 42, 10, 100, 0.3, Double.NaN, 2, Samples.values(rnd, 4096 * 2), PreviewEncoding.QUANTIZED_8),
        Preview.of(5, 42, 20, 100, Double.NaN, Double.NaN, 2, Samples.values(rnd, 4096 * 2), PreviewEncoding.FLOAT_32),
        new Heartbeat(5, 1));
    ProtocolCodec codec = new ProtocolCodec();
    List<Message> received = new ArrayList<>();
    List<Throwable> errors = new ArrayList<>();
    FragmentAssembler assembler = new FragmentAssembler((buffer, offset, length, header) -> {
      try {
        received.add(codec.decode(buffer, offset, length));
      } catch (ProtocolException e) {
        errors.add(e);
      }
    });
    try (Publication pub = aeron.addExclusivePublication(pubChannel, sub.streamId())) {
      ExpandableDirectByteBuffer buffer = new ExpandableDirectByteBuffer(1024);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      for (Message m : sent) {
        int length = codec.encode(m, buffer, 0);
        assertTrue(length < pub.maxMessageLength(), "message of " + length + " bytes");
        while (pub.offer(buffer, 0, length) < 0) {
          assertTrue(System.nanoTime() < deadline, "hang guard: offer");
          sub.poll(assembler, 64);
          Thread.sleep(1);
        }
      }
      while (received.size() < sent.size()) {
        assertTrue(System.nanoTime() < deadline, "hang guard: receive");
        if (sub.poll(assembler, 64) == 0) Thread.sleep(1);
      }
    }
    assertEquals(List.of(), errors);
    assertEquals(sent, received);
  }

  private static String awaitResolved(Subscription sub) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    String s;
    while ((s = sub.tryResolveChannelEndpointPort()) == null) {
      assertTrue(System.nanoTime() < deadline, "hang guard: endpoint");
      Thread.sleep(1);
    }
    return s;
  }
}
