package io.scorestream.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code scorestream serve} and {@code scorestream client} end to end, in one JVM: a served checkpoint answers
 * clients over Aeron IPC and UDP with exactly the samples {@code scorestream sample} draws offline for the same seed,
 * inpainted digits over Aeron equal offline ones, HTTP answers on the port it printed, and a stop closes everything
 * (the media driver's directory goes).
 */
class ServeCommandTest {
  static {
    // The digits model/mnist/setup-mnist.sh installs, seen from this module's directory (--inpaint reads them).
    System.setProperty("scorestream.mnist", System.getProperty("scorestream.mnist", "../model/mnist/data"));
  }

  /** Hang guard only, never a performance bound. */
  private static final Duration GUARD = Duration.ofMinutes(2);

  @Test
  void servedSamplesOverIpcAndUdpEqualOfflineSamplingAndStopClosesEverything(@TempDir Path dir) throws Exception {
    Path run = dir.resolve("run");
    assertEquals(0, ScoreStreamCli.run("train", "--data", "toy:gmm8", "--steps", "20", "--batch", "64", "--width",
        "32", "--out", run.toString()));
    Path offline = dir.resolve("offline.csv");
    String[] sampler = {"--n", "64", "--seed", "3", "--steps", "40"};
    assertEquals(0, ScoreStreamCli.run(concat(new String[] {"sample", "--model", run.toString(), "--out",
        offline.toString()}, sampler)));
    Path offlinePoints = dir.resolve("offline-points.csv");
    assertEquals(0, ScoreStreamCli.run(concat(new String[] {"sample", "--model", "analytic:gmm8", "--out",
        offlinePoints.toString()}, sampler)));
    // The carried U-Net inpainting held-out digit 3 with its top half kept: offline, then over Aeron below.
    String unet = Path.of("..", "model", "mnist", "unet").toString();
    String[] inpaint = {"--n", "2", "--seed", "5", "--sampler", "ddim", "--steps", "8", "--labels", "3",
        "--inpaint", "3", "--mask", "top"};
    Path offlineDigits = dir.resolve("offline-digits.csv");
    assertEquals(0, ScoreStreamCli.run(concat(new String[] {"sample", "--model", unet, "--out",
        offlineDigits.toString()}, inpaint)));

    ServeCommand serve = new ServeCommand();
    ExecutorService thread = Executors.newSingleThreadExecutor();
    Future<Integer> exit = thread.submit(() -> new CommandLine(serve).execute("--model", run.toString(),
        "--extra-model", "points=analytic:gmm8", "--extra-model", "digits=" + unet, "--http-port", "0", "--aeron-udp", "127.0.0.1:0", "--status-every", "0", "--out", dir.resolve("serve")
            .toString()));
    try {
      assertTrue(serve.awaitReady(GUARD), "serve came up");
      String driver = serve.aeron().driverDirectory();
      String udp = serve.aeron().ingressChannels().stream().filter(c -> c.startsWith("aeron:udp")).findFirst()
          .orElseThrow();
      assertFalse(udp.endsWith(":0"), "the UDP port was resolved: " + udp);

      Path ipcCsv = dir.resolve("ipc.csv");
      Path udpCsv = dir.resolve("udp.csv");
      Path png = dir.resolve("ipc.png");
      assertEquals(0, ScoreStreamCli.run(concat(new String[] {"client", "--server", "aeron:ipc", "--aeron-dir", driver,
          "--out", ipcCsv.toString(), "--plot", png.toString()}, sampler)));
      assertEquals(0, ScoreStreamCli.run(concat(new String[] {"client", "--server", udp, "--out", udpCsv.toString()},
          sampler)));
      byte[] expected = Files.readAllBytes(offline);
      assertArrayEquals(expected, Files.readAllBytes(ipcCsv), "IPC samples = offline samples");
      assertArrayEquals(expected, Files.readAllBytes(udpCsv), "UDP samples = offline samples");
      assertTrue(Files.size(png) > 0);
      // The node's second model, named by the client: gmm8's exact score, as `sample --model analytic:gmm8` gives.
      Path pointsCsv = dir.resolve("points.csv");
      assertEquals(0, ScoreStreamCli.run(concat(new String[] {"client", "--server", "aeron:ipc", "--aeron-dir",
          driver, "--served-model", "points", "--out", pointsCsv.toString()}, sampler)));
      assertArrayEquals(Files.readAllBytes(offlinePoints), Files.readAllBytes(pointsCsv),
          "the second model's samples = its offline samples");
      // Inpainting travels over SBE: the served digits equal the offline ones bit for bit.
      Path digitsCsv = dir.resolve("digits.csv");
      assertEquals(0, ScoreStreamCli.run(concat(new String[] {"client", "--server", "aeron:ipc", "--aeron-dir",
          driver, "--served-model", "digits", "--preview-every", "0", "--out", digitsCsv.toString()}, inpaint)));
      // sample writes pixels in [0, 1] (the checkpoint's normalisation undone); the wire carries the model's [-1, 1].
      double[][] offlineRows = csvRows(offlineDigits);
      double[][] servedRows = csvRows(digitsCsv);
      assertEquals(2, servedRows.length);
      for (int i = 0; i < offlineRows.length; i++) {
        assertEquals(784, servedRows[i].length);
        for (int j = 0; j < 784; j++) {
          assertEquals(offlineRows[i][j], servedRows[i][j] * 0.5 + 0.5, 1e-12, "digit " + i + " pixel " + j);
        }
      }
      // The gmm8 model is 2-D: a digit's mask is refused by the node (exit status 2).
      assertEquals(2, ScoreStreamCli.run(concat(new String[] {"client", "--server", "aeron:ipc", "--aeron-dir",
          driver, "--served-model", "points", "--out", dir.resolve("never.csv").toString()}, inpaint)));
      assertEquals(2, ScoreStreamCli.run(concat(new String[] {"client", "--server", "aeron:ipc", "--aeron-dir",
          driver, "--served-model", "nope", "--out", dir.resolve("never.csv").toString()}, sampler)));

      // Bad client input is refused with exit status 2: locally (--n 0) and by the node (steps over its limit).
      assertEquals(2, ScoreStreamCli.run("client", "--server", "aeron:ipc", "--aeron-dir", driver, "--n", "0"));
      assertEquals(2, ScoreStreamCli.run("client", "--server", "aeron:ipc", "--aeron-dir", driver, "--steps",
          "100000000", "--out", dir.resolve("never.csv").toString()));
      assertFalse(Files.exists(dir.resolve("never.csv")));
      assertEquals(2, ScoreStreamCli.run("client", "--server", "aeron:ipc"), "IPC needs --aeron-dir");

      HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create(serve.http().baseUrl() + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, health.statusCode(), health.body());

      serve.stop();
      assertEquals(0, exit.get(GUARD.toSeconds(), TimeUnit.SECONDS));
      assertFalse(Files.exists(Path.of(driver)), "the media driver's directory was removed");
    } finally {
      serve.stop();
      thread.shutdownNow();
    }
  }

  @Test
  void theMemoryBudgetNamesTheHeapAndOffHeapLimitsAndWhatIsInUse() {
    String line = ServeCommand.memoryBudget();
    long heapMaxMib = Runtime.getRuntime().maxMemory() / 1048576;
    assertTrue(line.contains("heap max " + heapMaxMib + "."), line);
    assertTrue(line.contains("JavaCPP max ") && line.contains("libnd4j limit") && line.contains("RSS "), line);
    assertFalse(line.contains("n/a"), "every figure is read on Linux: " + line);
  }

  @Test
  void badServeOptionsAreRefusedBeforeAnythingStarts(@TempDir Path dir) {
    assertEquals(2, ScoreStreamCli.run("serve", "--model", dir.resolve("missing").toString()));
    assertEquals(2, ScoreStreamCli.run("serve", "--aeron-udp", "localhost", "--out", dir.toString()));
    assertEquals(2, ScoreStreamCli.run("serve", "--http-port", "70000", "--out", dir.toString()));
    assertEquals(2, ScoreStreamCli.run("serve", "--data", "toy:nope", "--out", dir.toString()));
    assertEquals(2, ScoreStreamCli.run("serve", "--extra-model", "points", "--out", dir.toString()));
    assertEquals(2, ScoreStreamCli.run("serve", "--extra-model", "p=" + dir.resolve("missing"), "--out",
        dir.toString()));
    assertEquals(2, ScoreStreamCli.run("serve", "--extra-model", "Bad_Name=analytic:gmm8", "--out", dir.toString()));
  }

  /** The rows of a samples CSV (a header line, then one row of values per sample). */
  private static double[][] csvRows(Path csv) throws java.io.IOException {
    return Files.readAllLines(csv).stream().skip(1).filter(l -> !l.isBlank())
        .map(l -> java.util.Arrays.stream(l.split(",")).mapToDouble(Double::parseDouble).toArray())
        .toArray(double[][]::new);
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
