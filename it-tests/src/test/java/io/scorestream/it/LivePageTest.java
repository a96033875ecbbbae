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
    String nodeJs = prerequisites();
    Files.deleteIfExists(SCREENSHOT);

    Config config = ConfigFactory.parseString("akka.loglevel = WARNING\nscorestream.compute-threads = 1")
        .withFallback(ConfigFactory.load()).resolve();
    try (ScoreStream api = ScoreStream.start(config);
         HttpGateway gateway = HttpGateway.start(api, HttpSettings.from(config).withPort(0)).toCompletableFuture()
             .get(HANG_GUARD_S, TimeUnit.SECONDS)) {
      String log = runBrowser(nodeJs, gateway.baseUrl() + "/", SCREENSHOT, "--sampler", "pc", "--steps",
          Integer.toString(STEPS), "--count", Integer.toString(COUNT), "--seed", Long.toString(SEED),
          "--page-screenshot", PAGE_SCREENSHOT.toString());
      assertScreenshot(SCREENSHOT, log);

      String id = field(log, "REQUEST_ID");
      assertTrue(Integer.parseInt(field(log, "PREVIEWS_DRAWN")) >= 3, log);
      assertEquals("float", field(log, "PREVIEW_FORM"), "2-D previews travel as doubles:\n" + log);
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

  /** Runs live-page.mjs against url with the given options (3 previews at least); returns its output. */
  private static String runBrowser(String nodeJs, String url, Path screenshot, String... options) throws Exception {
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(nodeJs, SCRIPT.toString(), url,
        screenshot.toString(), "--min-previews", "3", "--timeout-ms", Long.toString(HANG_GUARD_S * 1000 / 2)));
    cmd.addAll(java.util.List.of(options));
    Process browser = new ProcessBuilder(cmd).directory(BROWSER.toFile()).redirectErrorStream(true).start();
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
    return log;
  }

  private static void assertScreenshot(Path screenshot, String log) throws IOException {
    assertTrue(Files.isRegularFile(screenshot), "screenshot at " + screenshot + "\n" + log);
    byte[] png = Files.readAllBytes(screenshot);
    assertTrue(png.length > 1000 && Arrays.equals(Arrays.copyOf(png, 8),
        new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}), "a PNG");
    assertEquals(640, ByteBuffer.wrap(png, 16, 4).getInt(), "the canvas's width");
  }

  /** Checks the browser prerequisites; returns the node executable. */
  private static String prerequisites() {
    if (!Files.isExecutable(CHROMIUM)) fail("no Chromium at " + CHROMIUM + ": " + SETUP);
    if (!Files.isRegularFile(BROWSER.resolve("node_modules/playwright-core/package.json"))) {
      fail("no playwright-core under " + BROWSER.resolve("node_modules") + ": " + SETUP);
    }
    return executableOnPath("node").orElseGet(() -> fail("no node on the PATH (node >= 20): " + SETUP));
  }

  @Test
  void anImageModelsPageDrawsAGridOfDigitsDenoisingLive(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    String nodeJs = prerequisites();
    Path screenshot = MODULE.resolve("target/screenshots/live-page-digits.png");
    Files.deleteIfExists(screenshot);
    // A small class-conditional U-Net, a few steps into training on the installed digits: served like any checkpoint.
    io.scorestream.model.data.ImageData digits = io.scorestream.model.data.ImageData.mnist(
        Path.of(System.getProperty("scorestream.mnist", "../model/mnist/data")), "train");
    io.scorestream.model.nn.UNetConfig net = new io.scorestream.model.nn.UNetConfig(1, 28, 28, 8, 4, false, 10);
    io.scorestream.model.train.ScoreTrainer trainer = new io.scorestream.model.train.ScoreTrainer(net.initialize(1),
        io.scorestream.model.sde.Sde.named("vp"), io.scorestream.model.train.TrainConfig.defaults(
            io.scorestream.model.train.Objective.DSM, 1).withBatchSize(8).withLabelDropout(0.1), digits);
    for (int i = 0; i < 3; i++) trainer.trainStep();
    Path ckpt = io.scorestream.model.train.Checkpoint.of(trainer, "mnist").write(tmp);
    trainer.close();

    // gmm8 served beside it: the page offers both, and draws each its own way.
    Config config = ConfigFactory.parseString("akka.loglevel = WARNING\nscorestream.compute-threads = 1\n"
        + "scorestream.model.source = \"checkpoint:" + ckpt + "\"\n"
        + "scorestream.extra-models.points = \"analytic:gmm8\"").withFallback(ConfigFactory.load()).resolve();
    try (ScoreStream api = ScoreStream.start(config);
         HttpGateway gateway = HttpGateway.start(api, HttpSettings.from(config).withPort(0)).toCompletableFuture()
             .get(HANG_GUARD_S, TimeUnit.SECONDS)) {
      String log = runBrowser(nodeJs, gateway.baseUrl() + "/", screenshot, "--sampler", "ddim", "--steps", "30",
          "--count", "16", "--seed", "7", "--labels", "0 1 2 3 4 5 6 7 8 9", "--guidance", "1.5");
      assertScreenshot(screenshot, log);
      assertEquals("1x28x28", field(log, "SHAPE"), "the page read the node's sample shape");
      assertTrue(Integer.parseInt(field(log, "PREVIEWS_DRAWN")) >= 3, log);
      assertTrue(Integer.parseInt(field(log, "CANVAS_LEVELS")) > 50, "a grid of grey images, not a scatter:\n" + log);
      assertEquals("8bit", field(log, "PREVIEW_FORM"), "image previews travel as one byte a pixel:\n" + log);
      assertEquals("", field(log, "PAGE_ERROR"), "the page decoded every preview:\n" + log);
      SampleStatus status = gateway.sampleStatus(field(log, "REQUEST_ID")).toCompletableFuture()
          .get(HANG_GUARD_S, TimeUnit.SECONDS).orElseThrow();
      assertEquals("completed", status.state());
      assertEquals(16, status.samples().length);
      assertEquals(784, status.samples()[0].length);
      // The page's request (labels cycled, guidance 1.5) gives what the node gives in process for that seed.
      Result expected = api.generate(new GenerateRequest(null, 16, 7, SamplerSpec.fewStep("ddim", 30), 0, null,
          io.scorestream.model.sample.Conditioning.labels(1.5, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)))
          .toCompletableFuture().get(HANG_GUARD_S, TimeUnit.SECONDS);
      for (int i = 0; i < 16; i++) assertTrue(Arrays.equals(expected.sample(i), status.samples()[i]), "sample " + i);

      // Inpainting from the page: a stroke drawn on its pad with the mouse, the top half kept.
      Path inpainted = MODULE.resolve("target/screenshots/live-page-inpainting.png");
      Files.deleteIfExists(inpainted);
      String drawn = runBrowser(nodeJs, gateway.baseUrl() + "/", inpainted, "--sampler", "ddim", "--steps", "30",
          "--count", "9", "--seed", "11", "--inpaint", "top");
      assertScreenshot(inpainted, drawn);
      com.fasterxml.jackson.databind.JsonNode sent = io.scorestream.protocol.json.Json.mapper()
          .readTree(field(drawn, "INPAINT_BODY"));
      double[] known = new double[784];
      boolean[] mask = new boolean[784];
      int kept = 0;
      int stroke = 0;
      for (int p = 0; p < 784; p++) {
        known[p] = sent.get("known").get(p).asDouble();
        mask[p] = sent.get("mask").get(p).asInt() == 1;
        if (mask[p]) kept++;
        if (mask[p] && known[p] > 0) stroke++;
        assertEquals(p < 392, mask[p], "the top half is kept, pixel " + p);
      }
      assertEquals(392, kept);
      assertTrue(stroke >= 10, "the mouse stroke reached the pad's top half: " + stroke + " bright pixels\n" + drawn);
      SampleStatus filled = gateway.sampleStatus(field(drawn, "REQUEST_ID")).toCompletableFuture()
          .get(HANG_GUARD_S, TimeUnit.SECONDS).orElseThrow();
      assertEquals("completed", filled.state(), drawn);
      for (double[] sample : filled.samples()) {
        // Chains are float32: a kept pixel comes back as its value in float32, exactly.
        for (int p = 0; p < 392; p++) assertEquals((float) known[p], sample[p], 0.0, "a kept pixel keeps its value");
      }
      Result same = api.generate(new GenerateRequest(null, 9, 11, SamplerSpec.fewStep("ddim", 30), 0, null,
          io.scorestream.model.sample.Conditioning.NONE.withMask(mask, known)))
          .toCompletableFuture().get(HANG_GUARD_S, TimeUnit.SECONDS);
      for (int i = 0; i < 9; i++) assertTrue(Arrays.equals(same.sample(i), filled.samples()[i]), "inpainted " + i);

      // The same page, the node's other model picked from its menu: a scatter of gmm8's eight clusters.
      Path scatter = MODULE.resolve("target/screenshots/live-page-second-model.png");
      Files.deleteIfExists(scatter);
      String second = runBrowser(nodeJs, gateway.baseUrl() + "/", scatter, "--model", "points", "--sampler", "pc",
          "--steps", Integer.toString(STEPS), "--count", Integer.toString(COUNT), "--seed", Long.toString(SEED));
      assertScreenshot(scatter, second);
      assertEquals("points", field(second, "MODEL"));
      assertEquals("2", field(second, "SHAPE"), "the page took the second model's shape");
      SampleStatus points = gateway.sampleStatus(field(second, "REQUEST_ID")).toCompletableFuture()
          .get(HANG_GUARD_S, TimeUnit.SECONDS).orElseThrow();
      assertEquals("completed", points.state());
      Result expectedPoints = api.generate(new GenerateRequest(null, COUNT, SEED, SamplerSpec.pc(STEPS), 0, null)
          .withModel("points")).toCompletableFuture().get(HANG_GUARD_S, TimeUnit.SECONDS);
      for (int i = 0; i < COUNT; i++) {
        assertTrue(Arrays.equals(expectedPoints.sample(i), points.samples()[i]), "point sample " + i);
      }
      assertEightClusters(points.samples());
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
