package io.scorestream.streams.aeron;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.Result;
import io.scorestream.actors.ScoreStream;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.protocol.Completed;
import io.scorestream.protocol.client.ClientContext;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A node (analytic gmm8, VP, dim 2) and helpers shared by the Aeron gateway tests. */
final class AeronTestNode {
  /** Guards against hangs only; never a performance bound. */
  static final long HANG_GUARD_S = 60;

  private AeronTestNode() {}

  static Config config(String overrides) {
    return ConfigFactory.parseString(overrides).withFallback(ConfigFactory.parseResources("aeron-test.conf"))
        .withFallback(ConfigFactory.load()).resolve();
  }

  static ScoreStream start(String overrides) {
    return ScoreStream.start(config(overrides));
  }

  /** Gateway settings from reference.conf with overrides of the scorestream.aeron section. */
  static AeronSettings settings(String aeronOverrides) {
    return AeronSettings.from(ConfigFactory.parseString(aeronOverrides).atPath("scorestream.aeron")
        .withFallback(ConfigFactory.load()));
  }

  /** A client context on the gateway's own driver over aeron:ipc. */
  static ClientContext ipcClient(AeronGateway gateway) {
    return new ClientContext().aeronDirectoryName(gateway.driverDirectory()).ingressChannel("aeron:ipc")
        .ingressStreamId(gateway.ingressStreamId()).egressChannel("aeron:ipc").clientName("test-ipc")
        .connectTimeoutNs(TimeUnit.SECONDS.toNanos(HANG_GUARD_S));
  }

  /** The samples of the same request run in-process. */
  static double[] inProcess(ScoreStream api, int count, long seed, SamplerSpec sampler) throws Exception {
    Result r = api.generate(new GenerateRequest(null, count, seed, sampler, 0, null)).toCompletableFuture()
        .get(HANG_GUARD_S, TimeUnit.SECONDS);
    return r.samples();
  }

  static void assertBitIdentical(double[] expected, Completed c) {
    double[] actual = c.samples();
    assertTrue(expected.length == actual.length, expected.length + " vs " + actual.length + " values");
    for (int i = 0; i < expected.length; i++) {
      if (Double.doubleToRawLongBits(expected[i]) != Double.doubleToRawLongBits(actual[i])) {
        throw new AssertionError("value " + i + ": " + expected[i] + " in-process, " + actual[i] + " over Aeron");
      }
    }
  }

  /** Waits until condition holds (hang guard only). */
  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_GUARD_S);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) throw new AssertionError("hang guard: " + what);
      Thread.sleep(5);
    }
  }
}
