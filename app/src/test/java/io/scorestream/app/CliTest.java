package io.scorestream.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
  static {
    // The digits model/mnist/setup-mnist.sh installs, seen from this module's directory.
    System.setProperty("scorestream.mnist", System.getProperty("scorestream.mnist", "../model/mnist/data"));
  }

  /** Runs the CLI and returns (exit status, stderr). */
  private static Object[] run(String... args) {
    PrintStream err = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true));
    try {
      int code = ScoreStreamCli.run(args);
      return new Object[] {code, buf.toString()};
    } finally {
      System.setErr(err);
    }
  }

  private static void assertBadInput(String expectedFragment, String... args) {
    Object[] r = run(args);
    String err = (String) r[1];
    assertEquals(2, r[0], "exit status for " + String.join(" ", args) + "; stderr: " + err);
    String last = err.strip().lines().reduce((a, b) -> b).orElse("");
    assertTrue(last.startsWith("error: ") && last.contains(expectedFragment), "stderr: " + err);
    assertTrue(!err.contains("\tat "), "no stack trace: " + err);
  }

  @Test
  void sameSeedGivesABitIdenticalCsv(@TempDir Path dir) throws IOException {
    Path a = dir.resolve("a.csv");
    Path b = dir.resolve("b.csv");
    Path c = dir.resolve("c.csv");
    String[] common = {"sample", "--model", "analytic:gmm8", "--sde", "vp", "--steps", "50", "--n", "64"};
    assertEquals(0, run(concat(common, "--seed", "7", "--out", a.toString()))[0]);
    assertEquals(0, run(concat(common, "--seed", "7", "--out", b.toString()))[0]);
    assertEquals(0, run(concat(common, "--seed", "8", "--out", c.toString()))[0]);
    assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    assertTrue(!java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)));
    var lines = Files.readAllLines(a);
    assertEquals("x0,x1", lines.get(0));
    assertEquals(65, lines.size());
  }

  /**
   * The NCSN toy experiment from the command line with no sampler flags beyond --sampler ald: 0.8 of the mass in the
   * (5,5) mode (Song and Ermon 2019, figure 3) whatever the SDE, since ALD runs NCSN's ladder on the VE clock.
   */
  @Test
  void annealedLangevinDefaultsReproduceTheNcsnToyWeightForEverySde(@TempDir Path dir) throws IOException {
    for (String sde : new String[] {null, "ve", "subvp"}) {
      Path out = dir.resolve("ald-" + sde + ".csv");
      String[] args = {"sample", "--model", "analytic:ncsn-gmm", "--sampler", "ald", "--n", "10000", "--out",
          out.toString()};
      if (sde != null) args = concat(args, "--sde", sde);
      assertEquals(0, run(args)[0], "exit status with --sde " + sde);
      var lines = Files.readAllLines(out);
      assertEquals(10_001, lines.size());
      long near55 = lines.stream().skip(1).map(l -> l.split(","))
          .filter(v -> Double.parseDouble(v[0]) + Double.parseDouble(v[1]) > 0).count();
      assertEquals(0.8, near55 / 10_000.0, 0.02, "weight of the (5,5) mode with --sde " + sde);
    }
    assertBadInput("outside", "sample", "--model", "analytic:ncsn-gmm", "--sampler", "ald", "--sde", "ve",
        "--sigma-max", "100", "--n", "4", "--out", dir.resolve("x.csv").toString());
  }

  /** The default sampler from the command line (pc, 500 steps, the SDE's own predictor and corrector) on gmm8. */
  @Test
  void predictorCorrectorDefaultsMeetTheGmm8WeightsForEverySde(@TempDir Path dir) throws IOException {
    io.scorestream.model.score.GaussianMixture gmm8 = io.scorestream.model.score.GaussianMixture.named("gmm8");
    double[] eighth = new double[8];
    java.util.Arrays.fill(eighth, 1.0 / 8);
    for (String sde : new String[] {"ve", "vp", "subvp"}) {
      Path out = dir.resolve("pc-" + sde + ".csv");
      assertEquals(0, run("sample", "--model", "analytic:gmm8", "--sde", sde, "--n", "10000", "--out",
          out.toString())[0]);
      double[][] x = Files.readAllLines(out).stream().skip(1)
          .map(l -> java.util.Arrays.stream(l.split(",")).mapToDouble(Double::parseDouble).toArray())
          .toArray(double[][]::new);
      var stats = io.scorestream.model.eval.MixtureStats.of(gmm8, x);
      assertTrue(stats.maxWeightError(eighth) <= 0.02, sde + ": mode weights "
          + java.util.Arrays.toString(stats.modeWeights()));
    }
  }

  @Test
  void writesAScatterPlot(@TempDir Path dir) {
    Path png = dir.resolve("s.png");
    assertEquals(0, run("sample", "--model", "analytic:ncsn-gmm", "--sde", "ve", "--steps", "20", "--n", "50",
        "--out", dir.resolve("s.csv").toString(), "--plot", png.toString())[0]);
    assertTrue(Files.exists(png));
  }

  @Test
  void badInputEndsWithOneLineAndStatusTwo(@TempDir Path dir) throws IOException {
    String out = dir.resolve("x.csv").toString();
    assertBadInput("unknown mixture 'nope'", "sample", "--model", "analytic:nope", "--out", out);
    assertBadInput("unknown sampler 'warp'", "sample", "--model", "analytic:gmm8", "--sampler", "warp", "--out", out);
    assertBadInput("unknown predictor", "sample", "--model", "analytic:gmm8", "--predictor", "euler", "--out", out);
    assertBadInput("unknown SDE 'vv'", "sample", "--model", "analytic:gmm8", "--sde", "vv", "--out", out);
    assertBadInput("--steps must be in [1, ", "sample", "--model", "analytic:gmm8", "--steps", "0", "--out", out);
    assertBadInput("--n must be > 0", "sample", "--model", "analytic:gmm8", "--n", "-3", "--out", out);
    assertBadInput("no such checkpoint", "sample", "--model", dir.resolve("missing").toString(), "--out", out);

    Path corrupt = dir.resolve("corrupt/ckpt-00000001");
    Files.createDirectories(corrupt);
    Files.writeString(corrupt.resolve("checkpoint.json"), "{\"format\":\"scorestream-checkpoint\",\"version\":1}");
    assertBadInput("corrupt", "sample", "--model", dir.resolve("corrupt").toString(), "--out", out);

    Path nan = dir.resolve("nan.csv");
    Files.writeString(nan, "a,b\n1,2\n3,NaN\n");
    assertBadInput("NaN", "train", "--data", "csv:" + nan, "--steps", "1", "--out", dir.resolve("t").toString());
    Path wide = dir.resolve("wide.csv");
    Files.writeString(wide, "1,2\n3,4,5\n");
    assertBadInput("expected 2 columns", "train", "--data", "csv:" + wide, "--steps", "1", "--out", dir.resolve("t").toString());
    assertBadInput("unknown loss", "train", "--loss", "mse", "--steps", "1", "--out", dir.resolve("t").toString());
    assertBadInput("needs --sde ve", "train", "--loss", "smld", "--sde", "vp", "--steps", "1", "--out", dir.resolve("t").toString());

    Path blocker = dir.resolve("file");
    Files.writeString(blocker, "");
    assertBadInput("cannot write", "sample", "--model", "analytic:gmm8", "--steps", "5", "--n", "4",
        "--out", blocker.resolve("x.csv").toString());
    assertBadInput("Unknown option", "sample", "--model", "analytic:gmm8", "--out", out, "--bogus");
  }

  @Test
  void trainCheckpointsAndSamplesTheTrainedModel(@TempDir Path dir) throws IOException {
    Path out = dir.resolve("run");
    assertEquals(0, run("train", "--data", "toy:moons", "--steps", "30", "--batch", "64", "--width", "32",
        "--checkpoint-every", "20", "--out", out.toString())[0]);
    assertTrue(Files.exists(out.resolve("ckpt-00000020/checkpoint.json")));
    assertTrue(Files.exists(out.resolve("ckpt-00000030/weights.bin")));
    assertTrue(Files.exists(out.resolve("loss.png")));
    assertTrue(Files.exists(out.resolve("samples.png")));
    assertEquals(31, Files.readAllLines(out.resolve("loss.csv")).size());
    assertEquals(0, run("train", "--data", "toy:moons", "--steps", "10", "--resume", "--out", out.toString())[0]);
    assertTrue(Files.exists(out.resolve("ckpt-00000040/checkpoint.json")));
    assertEquals(41, Files.readAllLines(out.resolve("loss.csv")).size());
    assertEquals(0, run("sample", "--model", out.toString(), "--steps", "10", "--n", "8",
        "--out", dir.resolve("s.csv").toString())[0]);

    // Fine-tuning towards likelihood: another run starts from that checkpoint's step with the new time sampling,
    // recorded in its checkpoints.
    Path tuned = dir.resolve("tuned");
    assertEquals(0, run("train", "--data", "toy:moons", "--from", out.resolve("ckpt-00000040").toString(),
        "--likelihood-weighting", "--importance-sampling", "--min-time", "1e-5", "--lr", "5e-4", "--steps", "5",
        "--out", tuned.toString())[0]);
    String recipe = Files.readString(tuned.resolve("ckpt-00000045/checkpoint.json"));
    assertTrue(recipe.contains("\"importanceSampling\" : true") && recipe.contains("\"minTime\" : 1.0E-5")
        && recipe.contains("\"learningRate\" : 5.0E-4"), recipe);
    assertBadInput("--importance-sampling needs --likelihood-weighting", "train", "--data", "toy:moons",
        "--importance-sampling", "--steps", "1", "--out", dir.resolve("bad").toString());
    assertBadInput("--from and --resume", "train", "--data", "toy:moons", "--from", out.toString(), "--resume",
        "--steps", "1", "--out", out.toString());
  }

  /** eval --nll with the default tolerances (a null --rtol once threw) matches the exact mixture NLL. */
  @Test
  void evalNllWithDefaultTolerances() {
    PrintStream out = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true));
    try {
      assertEquals(0, run("eval", "--model", "analytic:gmm8", "--nll", "--n", "50", "--samples", "50")[0]);
    } finally {
      System.setOut(out);
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("gap ([+-][0-9.]+)").matcher(buf.toString());
    assertTrue(m.find(), buf.toString());
    assertTrue(Math.abs(Double.parseDouble(m.group(1))) < 0.01, "ODE NLL against the exact one: " + buf);
  }

  /** Labels on the analytic gmm8 (label k: component k) put every sample in its mode. */
  @Test
  void labelsSampleTheirComponent(@TempDir Path dir) throws IOException {
    Path out = dir.resolve("l.csv");
    assertEquals(0, run("sample", "--model", "analytic:gmm8", "--sampler", "ddim", "--n", "400", "--labels", "2,6",
        "--out", out.toString())[0]);
    var lines = Files.readAllLines(out);
    io.scorestream.model.score.GaussianMixture m = io.scorestream.model.score.GaussianMixture.named("gmm8");
    int hits = 0;
    for (int i = 1; i < lines.size(); i++) {
      String[] p = lines.get(i).split(",");
      int mode = m.nearestMode(new double[] {Double.parseDouble(p[0]), Double.parseDouble(p[1])});
      if (mode == ((i - 1) % 2 == 0 ? 2 : 6)) hits++;
    }
    assertTrue(hits >= 396, hits + " of 400 in their label's mode");
    assertBadInput("no classifier", "sample", "--model", "analytic:gmm8", "--labels", "1", "--classifier",
        dir.toString(), "--out", out.toString());
    assertBadInput("outside", "sample", "--model", "analytic:gmm8", "--labels", "8", "--out", out.toString());
  }

  /**
   * The image path of the command line on real digits, at toy size: train a U-Net and a classifier, sample a labelled
   * PNG grid, inpaint a held-out digit (its known half comes back exactly), evaluate with the classifier.
   */
  @Test
  void imageModelsTrainSampleInpaintAndEvaluate(@TempDir Path dir) throws IOException {
    Path run = dir.resolve("unet");
    assertEquals(0, run("train", "--data", "mnist", "--steps", "4", "--batch", "8", "--base", "8",
        "--checkpoint-every", "4", "--out", run.toString())[0]);
    assertTrue(Files.exists(run.resolve("ckpt-00000004/checkpoint.json")));
    assertTrue(Files.readString(run.resolve("ckpt-00000004/checkpoint.json")).contains("\"kind\" : \"unet\""));
    java.awt.image.BufferedImage grid = javax.imageio.ImageIO.read(run.resolve("samples.png").toFile());
    assertEquals(10 * 57 + 1, grid.getWidth(), "ten 28 x 28 digits at zoom 2 with 1-pixel gutters per row");

    Path png = dir.resolve("g.png");
    Path csv = dir.resolve("g.csv");
    assertEquals(0, run("sample", "--model", run.toString(), "--sampler", "ddim", "--steps", "5", "--n", "6",
        "--labels", "0,1,2", "--guidance", "2", "--grid-columns", "3", "--plot", png.toString(), "--out",
        csv.toString())[0]);
    java.awt.image.BufferedImage g = javax.imageio.ImageIO.read(png.toFile());
    assertEquals(3 * 57 + 1, g.getWidth());
    assertEquals(2 * 57 + 1, g.getHeight());
    assertEquals(7, Files.readAllLines(csv).size());

    Path inpainted = dir.resolve("i.csv");
    assertEquals(0, run("sample", "--model", run.toString(), "--sampler", "ddim", "--steps", "5", "--n", "2",
        "--inpaint", "3", "--mask", "top", "--out", inpainted.toString())[0]);
    io.scorestream.model.data.ImageData held = io.scorestream.model.data.ImageData.mnist(
        io.scorestream.model.data.ImageData.mnistDir(), "heldout");
    float[] digit = held.images().image(3);
    for (String line : Files.readAllLines(inpainted).subList(1, 3)) {
      String[] v = line.split(",");
      for (int k = 0; k < 14 * 28; k++) {
        assertEquals(digit[k], Double.parseDouble(v[k]), 1e-6, "known pixel " + k);
      }
    }

    Path clf = dir.resolve("clf");
    Object[] trained = run("train-classifier", "--steps", "20", "--batch", "16", "--out", clf.toString());
    assertEquals(0, trained[0], (String) trained[1]);
    assertTrue(Files.exists(clf.resolve("classifier.json")));
    PrintStream out = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true));
    try {
      assertEquals(0, run("eval", "--model", run.toString(), "--classifier", clf.toString(), "--sampler", "ddim",
          "--steps", "4", "--samples", "20")[0]);
    } finally {
      System.setOut(out);
    }
    String report = buf.toString();
    for (String metric : new String[] {"conditional accuracy", "inception score", "frechet distance", "kid"}) {
      assertTrue(report.contains(metric), metric + " in:\n" + report);
    }
    assertBadInput("image model", "sample", "--model", "analytic:gmm8", "--inpaint", "1", "--out", csv.toString());

    // Classifier guidance by a second classifier, scored by the first.
    Path guide = dir.resolve("guide");
    assertEquals(0, run("train-classifier", "--steps", "10", "--batch", "16", "--seed", "2", "--out",
        guide.toString())[0]);
    buf.reset();
    System.setOut(new PrintStream(buf, true));
    try {
      assertEquals(0, run("eval", "--model", run.toString(), "--classifier", clf.toString(), "--guide-classifier",
          guide.toString(), "--classifier-scale", "2", "--sampler", "ddim", "--steps", "4", "--samples", "20")[0]);
      assertEquals(0, run("eval", "--model", run.toString(), "--classifier", clf.toString(), "--guide-classifier",
          guide.toString(), "--classifier-scale", "2", "--conditional-base", "--guidance", "3", "--sampler", "ddim",
          "--steps", "4", "--samples", "20")[0]);
    } finally {
      System.setOut(out);
    }
    assertTrue(buf.toString().contains("conditional accuracy") && buf.toString().contains("classifier guidance 2.0 by "),
        buf.toString());
    assertTrue(buf.toString().contains("on the class-conditional score, guidance 3.0"), buf.toString());
    assertBadInput("must not be the --classifier", "eval", "--model", run.toString(), "--classifier", clf.toString(),
        "--guide-classifier", clf.toString());
    assertBadInput("--conditional-base goes with --guide-classifier", "eval", "--model", run.toString(),
        "--classifier", clf.toString(), "--conditional-base");
    assertBadInput("give --classifier too", "eval", "--model", run.toString(), "--guide-classifier", guide.toString(),
        "--nll");
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
