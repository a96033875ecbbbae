package io.scorestream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.scorestream.actors.ScoreStream;
import io.scorestream.protocol.Cancel;
import io.scorestream.protocol.Completed;
import io.scorestream.protocol.Connect;
import io.scorestream.protocol.GenerateRequest;
import io.scorestream.protocol.Heartbeat;
import io.scorestream.protocol.Message;
import io.scorestream.protocol.Preview;
import io.scorestream.protocol.PreviewEncoding;
import io.scorestream.protocol.ProtocolError;
import io.scorestream.protocol.SamplerParams;
import io.scorestream.protocol.Status;
import io.scorestream.protocol.StatusRequest;
import io.scorestream.protocol.Terminal;
import io.scorestream.protocol.client.ClientContext;
import io.scorestream.protocol.client.RequestHandle;
import io.scorestream.protocol.client.ScoreStreamClient;
import io.scorestream.protocol.sbe.MessageHeaderEncoder;
import io.scorestream.streams.aeron.AeronGateway;
import io.scorestream.streams.aeron.AeronSettings;
import io.scorestream.streams.aeron.GatewayStats;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * A live gateway takes more than 10,000 malformed SBE frames (truncated, bit-flipped, wrong template or schema id,
 * absurd lengths and counts, random bytes) from one client while another runs a well-formed load: the gateway
 * stays up, answers the garbage with ProtocolErrors, and every well-formed request completes.
 */
class AeronFuzzLoadTest {
  private static final int FUZZ_FRAMES = 12_000;
  private static final int LOAD_REQUESTS = 40;

  @Test
  void gatewaySurvivesFuzzingWhileServingWellFormedLoad() throws Exception {
    // Fuzzed requests that happen to be valid stay small: the node refuses more than 64 chains or 200 steps.
    ScoreStream api = ScoreStream.start(ConfigFactory.parseString("""
            akka.loglevel = WARNING
            akka.log-dead-letters = off
            scorestream.compute-threads = 1
            scorestream.coordinator.max-chains-per-request = 64
            scorestream.coordinator.max-steps = 200
            scorestream.coordinator.default-steps = 50
            """).withFallback(ConfigFactory.load()).resolve());
    AeronSettings settings = AeronSettings.from(ConfigFactory.parseString(
        "scorestream.aeron { ingress-channels = [\"aeron:ipc\"], ingress-stream-id = 7201, shared-secret = k }")
        .withFallback(ConfigFactory.load()));
    try (api; AeronGateway gateway = AeronGateway.start(api, settings);
         ScoreStreamClient good = ScoreStreamClient.connect(new ClientContext()
             .aeronDirectoryName(gateway.driverDirectory()).ingressStreamId(7201).secret("k").clientName("load"));
         RawAeronClient fuzzer = new RawAeronClient(gateway.driverDirectory(), 7201, 7299)) {
      long session = fuzzer.connect("k");

      // the well-formed load, from another thread, while the fuzzing runs
      List<RequestHandle> load = new ArrayList<>();
      AtomicReference<Throwable> loadError = new AtomicReference<>();
      Thread loader = new Thread(() -> {
        try {
          for (int i = 0; i < LOAD_REQUESTS; i++) {
            synchronized (load) {
              load.add(good.submit(GenerateRequest.of(8, 1000 + i, SamplerParams.pc(30)).withPreviewEvery(5), null));
            }
            Thread.sleep(5);
          }
        } catch (Throwable t) {
          loadError.set(t);
        }
      }, "load");
      loader.start();

      List<byte[]> seeds = seeds(session);
      Random rnd = new Random(4242);
      int sent = 0;
      while (sent < FUZZ_FRAMES) {
        byte[] f = mutate(seeds.get(rnd.nextInt(seeds.size())), rnd);
        fuzzer.sendRaw(f);
        sent++;
        if (sent % 100 == 0) fuzzer.send(new Heartbeat(session, sent));
        fuzzer.poll();
      }
      loader.join(TimeUnit.SECONDS.toMillis(60));
      assertEquals(null, loadError.get());

      // every well-formed request completes
      assertEquals(LOAD_REQUESTS, load.size());
      for (RequestHandle h : load) {
        Terminal t = h.outcome().get(60, TimeUnit.SECONDS);
        assertInstanceOf(Completed.class, t, () -> "request " + h.requestId() + " ended with " + t);
        assertTrue(h.previews() >= 1);
      }

      // the garbage was counted and answered: a Status answer means every earlier frame of the fuzzer was read
      fuzzer.send(new StatusRequest(session, 424242));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (fuzzer.received().stream().noneMatch(m -> m instanceof Status s && s.correlationId() == 424242)) {
        assertTrue(System.nanoTime() < deadline, "hang guard: no Status came back");
        fuzzer.poll();
        Thread.sleep(1);
      }
      assertTrue(fuzzer.received().stream().anyMatch(ProtocolError.class::isInstance), "no ProtocolError");
      GatewayStats stats = gateway.stats();
      assertTrue(stats.malformedFrames() + stats.unexpectedFrames() >= FUZZ_FRAMES / 2, stats.toString());
      assertEquals(0, fuzzer.undecodable);

      // and the gateway still serves a new client, same samples as before the storm
      try (ScoreStreamClient late = ScoreStreamClient.connect(new ClientContext()
          .aeronDirectoryName(gateway.driverDirectory()).ingressStreamId(7201).secret("k").clientName("late"))) {
        Completed c = (Completed) late.submit(GenerateRequest.of(8, 1000, SamplerParams.pc(30)), null).outcome()
            .get(60, TimeUnit.SECONDS);
        Completed first = (Completed) load.get(0).outcome().get();
        assertEquals(List.of(toList(first.samples())), List.of(toList(c.samples())));
      }
    }
  }

  private static List<Double> toList(double[] a) {
    return java.util.Arrays.stream(a).boxed().toList();
  }

  /** Valid frames of the fuzzer's session, and a few server messages it has no business sending. */
  private static List<byte[]> seeds(long session) {
    io.scorestream.protocol.ProtocolCodec codec = new io.scorestream.protocol.ProtocolCodec();
    org.agrona.ExpandableArrayBuffer b = new org.agrona.ExpandableArrayBuffer(256);
    List<Message> ms = List.of(
        GenerateRequest.of(4, 1, SamplerParams.pc(20)).withIds(session, 1).withPreviewEvery(5),
        new GenerateRequest(session, 2, 9, 16, "vp", SamplerParams.pc(20, "reverse-diffusion", "langevin", 1, 0.16),
            2, 1_000_000_000L, 0, PreviewEncoding.QUANTIZED_8),
        GenerateRequest.of(2, 3, SamplerParams.ode("heun", 10)).withIds(session, 3),
        new Cancel(session, 1),
        new StatusRequest(session, 5),
        new Heartbeat(session, 6),
        new Connect(9, "aeron:ipc", 7298, "wrong", "fuzz"),
        Preview.of(session, 1, 1, 10, 0.5, 0.5, 2, new double[] {1, 2, 3, 4}, PreviewEncoding.QUANTIZED_8),
        new Completed(session, 1, 2, 2, 0, new double[] {1, 2, 3, 4}, new long[] {1}, 1, 1));
    List<byte[]> out = new ArrayList<>();
    for (Message m : ms) {
      int length = codec.encode(m, b, 0);
      byte[] f = new byte[length];
      b.getBytes(0, f);
      out.add(f);
    }
    return out;
  }

  private static byte[] mutate(byte[] seed, Random rnd) {
    byte[] f = seed.clone();
    UnsafeBuffer b = new UnsafeBuffer(f);
    MessageHeaderEncoder h = new MessageHeaderEncoder().wrap(b, 0);
    switch (rnd.nextInt(7)) {
      case 0 -> {
        return java.util.Arrays.copyOf(f, rnd.nextInt(f.length));
      }
      case 1 -> {
        int flips = 1 + rnd.nextInt(4);
        for (int k = 0; k < flips; k++) f[rnd.nextInt(f.length)] ^= (byte) (1 << rnd.nextInt(8));
      }
      case 2 -> h.templateId(100 + rnd.nextInt(60000));
      case 3 -> h.schemaId(rnd.nextInt(4000));
      case 4 -> {
        int at = 8 + rnd.nextInt(Math.max(1, f.length - 11));
        if (rnd.nextBoolean()) b.putShort(at, (short) 0xFFFF, ByteOrder.LITTLE_ENDIAN);
        else b.putInt(at, Integer.MAX_VALUE, ByteOrder.LITTLE_ENDIAN);
      }
      case 5 -> {
        byte[] noise = new byte[1 + rnd.nextInt(300)];
        rnd.nextBytes(noise);
        return noise;
      }
      default -> h.blockLength(rnd.nextInt(65536));
    }
    return f;
  }
}
