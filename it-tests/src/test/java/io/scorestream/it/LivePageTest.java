package io.scorestream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.Result;
import io.scorestream.actors.ScoreStream;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.protocol.json.SampleStatus;
import io.scorestream.streams.http.HttpGateway;
import io.scorestream.streams.http.HttpSettings;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The live page in a real browser: a node (gmm8 over the VP SDE) behind the HTTP gateway, and Debian's headless
 * Chromium driven by {@code browser/live-page.mjs} (playwright-core). The page must draw at least three previews
 * that reached it over its WebSocket, then the result; the screenshot of the final scatter is left at
 * {@code it-tests/target/screenshots/live-page.png}. Needs {@code it-tests/setup-browser.sh} to have run: without
 * Chromium or node_modules the test fails (it does not skip) and says so.
 */
class LivePageTest {
  /** Guards against hangs only; never a performance bound. */
  private static final long HANG_GUARD_S = 180;
  private static final Path MODULE = Path.of("").toAbsolutePath();
  private static final Path BROWSER = MODULE.resolve("browser");
  private static final Path SCRIPT = BROWSER.resolve("live-page.mjs");
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path SCREENSHOT = MODULE.resolve("target/screenshots/live-page.png");
  /** The whole page at the end, for a person to look at (not checked). */
  private static final Path PAGE_SCREENSHOT = MODULE.resolve("target/screenshots/live-page-full.png");
  private static final String SETUP = "run it-tests/setup-browser.sh (as root: it installs Debian's chromium and "
      + "runs npm ci in it-tests/browser)";
  private static final int COUNT = 1024;
  private static final int STEPS = 1000;
  private static final long SEED = 42;

  @Test
  void thePageDrawsLivePreviewsAndTheFinalEightClusters() throws Exception {
    if (!Files.isExecutable(CHROMIUM)) fail("no Chromium at " + CHROMIUM + ": " + SETUP);
    if (!Files.isRegularFile(BROWSER.resolve("node_modules/playwright-core/package.json"))) {
      fail("no playwright-core under " + BROWSER.resolve("node_modules") + ": " + SETUP);
    }
    String nodeJs = executableOnPath("node").orElseGet(() -> fail("no node on the PATH (node >= 20): " + SETUP));
    Files.deleteIfExists(SCREENSHOT);

    Config config = ConfigFactory.parseString("akka.loglevel = WARNING\nscorestream.compute-threads = 1")
        .withFallback(ConfigFactory.load()).resolve();
    try (ScoreStream api = ScoreStream.start(config);
         HttpGateway gateway = HttpGateway.start(api, HttpSettings.from(config).withPort(0)).toCompletableFuture()
             .get(HANG_GUARD_S, TimeUnit.SECONDS)) {
      Process browser = new ProcessBuilder(nodeJs, SCRIPT.toString(), gateway.baseUrl() + "/", SCREENSHOT.toString(),
          "--sampler", "pc", "--steps", Integer.toString(STEPS), "--count", Integer.toString(COUNT),
          "--seed", Long.toString(SEED), "--min-previews", "3", "--timeout-ms", Long.toString(HANG_GUARD_S * 1000 / 2),
          "--page-screenshot", PAGE_SCREENSHOT.toString())
          .directory(BROWSER.toFile()).redirectErrorStream(true).start();
      CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
        try {
          return new String(browser.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      if (!browser.waitFor(HANG_GUARD_S, TimeUnit.SECONDS)) {
        browser.destroyForcibly();
        fail("the browser script did not finish within the hang guard; output:\n" + output.getNow("(none)"));
      }
      String log = output.get(HANG_GUARD_S, TimeUnit.SECONDS);
      assertEquals(0, browser.exitValue(), "live-page.mjs failed:\n" + log);

      assertTrue(Files.isRegularFile(SCREENSHOT), "screenshot at " + SCREENSHOT + "\n" + log);
      byte[] png = Files.readAllBytes(SCREENSHOT);
      assertTrue(png.length > 1000 && Arrays.equals(Arrays.copyOf(png, 8),
          new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}), "a PNG");
      assertEquals(640, ByteBuffer.wrap(png, 16, 4).getInt(), "the canvas's width");

      String id = field(log, "REQUEST_ID");
      assertTrue(Integer.parseInt(field(log, "PREVIEWS_DRAWN")) >= 3, log);
      SampleStatus status = gateway.sampleStatus(id).toCompletableFuture().get(HANG_GUARD_S, TimeUnit.SECONDS)
          .orElseThrow(() -> new AssertionError("the gateway does not know request " + id));
      assertEquals("completed", status.state());
      assertTrue(status.websocketPreviews() >= 3,
          "previews the server handed to the page's WebSocket: " + status.websocketPreviews());
      assertEquals(COUNT, status.samples().length);

      // What the page drew is the node's answer for that seed: bit for bit the in-process result.
      Result expected = api.generate(new GenerateRequest(null, COUNT, SEED, SamplerSpec.pc(STEPS), STEPS / 100,
          null)).toCompletableFuture().get(HANG_GUARD_S, TimeUnit.SECONDS);
      for (int i = 0; i < COUNT; i++) {
        assertTrue(Arrays.equals(expected.sample(i), status.samples()[i]), "sample " + i);
      }
      assertEightClusters(status.samples());
    }
  }

  /** gmm8: eight equal modes at radius 4; every mode holds a fair share of the samples, and few lie between. */
  private static void assertEightClusters(double[][] samples) {
    int[] perMode = new int[8];
    int near = 0;
    for (double[] x : samples) {
      int best = 0;
      double bestD = Double.MAX_VALUE;
      for (int k = 0; k < 8; k++) {
        double a = k * Math.PI / 4;
        double d = Math.hypot(x[0] - 4 * Math.cos(a), x[1] - 4 * Math.sin(a));
        if (d < bestD) {
          bestD = d;
          best = k;
        }
      }
      perMode[best]++;
      if (bestD < 1.5) near++; // three standard deviations of a mode
    }
    for (int k = 0; k < 8; k++) {
      assertTrue(perMode[k] > samples.length / 16, "mode " + k + " holds " + perMode[k] + " of " + samples.length
          + ": " + Arrays.toString(perMode));
    }
    assertTrue(near > samples.length * 0.95, near + " of " + samples.length + " samples lie within 1.5 of a mode");
  }

  private static String field(String log, String name) {
    Matcher m = Pattern.compile("^" + name + "=(.*)$", Pattern.MULTILINE).matcher(log);
    if (!m.find()) throw new AssertionError("no " + name + " in the script's output:\n" + log);
    return m.group(1).trim();
  }

  private static Optional<String> executableOnPath(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) return Optional.of(p.toString());
    }
    return Optional.empty();
  }
}
