package io.scorestream.app;

import io.scorestream.model.data.DataSource;
import io.scorestream.model.data.DataSpecs;
import io.scorestream.model.eval.MixtureStats;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.Sampling;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.nn.UNetConfig;
import io.scorestream.model.sample.Conditioning;
import io.scorestream.model.score.MlpConfig;
import io.scorestream.model.score.NetworkConfig;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.sde.VeSde;
import io.scorestream.model.train.Checkpoint;
import io.scorestream.model.train.Objective;
import io.scorestream.model.train.ScoreTrainer;
import io.scorestream.model.train.TrainConfig;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code scorestream train}: trains a score network (the MLP for vectors, the U-Net for images) on a data set, writing
 * checkpoints, the loss (CSV and PNG) and a picture of samples from the trained model into the output directory: a
 * scatter for 2-D data, a grid of digits (one column per class) for images.
 */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Train a score network; writes checkpoints, loss.csv, loss.png and samples.png into --out.")
final class TrainCommand implements Callable<Integer> {
  @Option(names = "--data", defaultValue = "toy:gmm8", description = "toy:NAME, csv:PATH, npy:PATH, mnist, idx:IMAGES[,LABELS], npy-images:IMAGES[,LABELS] or png:DIR (default: ${DEFAULT-VALUE})")
  String data;

  @Option(names = "--normalization", defaultValue = "standard", description = "file data: standard or none (toys: none)")
  String normalization;

  @Option(names = "--sde", defaultValue = "vp", description = "ve, vp or subvp (default: ${DEFAULT-VALUE})")
  String sde;

  @Option(names = "--loss", defaultValue = "dsm", description = "dsm, smld, ddpm, ssm or esm (default: ${DEFAULT-VALUE})")
  String loss;

  @Option(names = "--likelihood-weighting", description = "dsm weighted by g(t)^2 instead of std(t)^2")
  boolean likelihoodWeighting;

  @Option(names = "--importance-sampling", description = "with --likelihood-weighting: draw times with density g^2 / std^2 and weight by std^2 (Song et al. 2021)")
  boolean importanceSampling;

  @Option(names = "--min-time", description = "dsm: draw training times from [T, 1] (default: the SDE's t_eps, 1e-3 for VP)")
  Double minTime;

  @Option(names = "--from", description = "fine-tune: start from this checkpoint's weights, EMA, Adam state and step, with this command's --lr, --likelihood-weighting, --importance-sampling and --min-time; writes to --out")
  Path from;

  @Option(names = "--steps", defaultValue = "3000", description = "optimizer steps (default: ${DEFAULT-VALUE})")
  int steps;

  @Option(names = "--batch", description = "batch size (default: 512 for vectors, 64 for images)")
  Integer batch;

  @Option(names = "--network", description = "mlp or unet (default: unet for images, mlp otherwise)")
  String network;

  @Option(names = "--base", defaultValue = "16", description = "unet: channels at full resolution (default: ${DEFAULT-VALUE})")
  int base;

  @Option(names = "--groups", defaultValue = "4", description = "unet: group-norm groups (default: ${DEFAULT-VALUE})")
  int groups;

  @Option(names = "--attention", description = "unet: self-attention at the lowest resolution")
  boolean attention;

  @Option(names = "--unconditional", description = "unet: ignore the data's labels (default: class-conditional when labelled)")
  boolean unconditional;

  @Option(names = "--label-dropout", defaultValue = "0.1", description = "conditional: probability of the null label, for classifier-free guidance (default: ${DEFAULT-VALUE})")
  double labelDropout;

  @Option(names = "--lr", defaultValue = "2e-3", description = "peak learning rate (default: ${DEFAULT-VALUE})")
  double lr;

  @Option(names = "--warmup", defaultValue = "200", description = "warm-up steps (default: ${DEFAULT-VALUE})")
  int warmup;

  @Option(names = "--grad-clip", defaultValue = "1.0", description = "global gradient-norm clip, 0 = off (default: ${DEFAULT-VALUE})")
  double gradClip;

  @Option(names = "--ema", defaultValue = "0.999", description = "EMA decay (default: ${DEFAULT-VALUE})")
  double ema;

  @Option(names = "--width", defaultValue = "256", description = "hidden width (default: ${DEFAULT-VALUE})")
  int width;

  @Option(names = "--depth", defaultValue = "3", description = "hidden layers (default: ${DEFAULT-VALUE})")
  int depth;

  @Option(names = "--projections", defaultValue = "gaussian", description = "ssm: gaussian or rademacher")
  String projections;

  @Option(names = "--seed", defaultValue = "0", description = "training seed (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--checkpoint-every", defaultValue = "1000", description = "steps between checkpoints (default: ${DEFAULT-VALUE})")
  int checkpointEvery;

  @Option(names = "--resume", description = "continue from the newest checkpoint in --out")
  boolean resume;

  @Option(names = "--out", defaultValue = "runs/train", description = "output directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Override
  public Integer call() throws IOException {
    if (steps <= 0) throw new IllegalArgumentException("--steps must be > 0, got " + steps);
    if (checkpointEvery <= 0) throw new IllegalArgumentException("--checkpoint-every must be > 0, got " + checkpointEvery);
    DataSource source = DataSpecs.parse(data, normalization);
    ScoreTrainer trainer;
    Optional<Path> latest = resume ? Checkpoint.latest(out) : Optional.empty();
    if (resume && latest.isEmpty()) throw new IllegalArgumentException("--resume: no checkpoint in " + out);
    if (from != null && resume) throw new IllegalArgumentException("--from and --resume: give one");
    if (importanceSampling && !likelihoodWeighting) {
      throw new IllegalArgumentException("--importance-sampling needs --likelihood-weighting");
    }
    if (minTime != null && !(minTime > 0 && minTime < 1)) {
      throw new IllegalArgumentException("--min-time must be in (0, 1), got " + minTime);
    }
    if (from != null) {
      Checkpoint c = Checkpoint.read(from);
      if (!c.dataSpec().equals(data)) {
        throw new IllegalArgumentException("--from: the checkpoint was trained on " + c.dataSpec() + ", not " + data);
      }
      TrainConfig tc = c.train().withLearningRate(lr)
          .withTimeSampling(likelihoodWeighting, importanceSampling, minTime != null ? minTime : c.train().minTime());
      trainer = new ScoreTrainer(c.weights(), c.sde(), tc, source, c.state(), c.step());
      System.err.println("fine-tuning " + from + " from step " + c.step());
    } else if (latest.isPresent()) {
      Checkpoint c = Checkpoint.read(latest.get());
      if (!c.dataSpec().equals(data)) {
        throw new IllegalArgumentException("--resume: the checkpoint was trained on " + c.dataSpec() + ", not " + data);
      }
      trainer = new ScoreTrainer(c.weights(), c.sde(), c.train(), source, c.state(), c.step());
      System.err.println("resuming from " + latest.get() + " at step " + c.step());
    } else {
      Objective objective = Objective.named(loss);
      Sde s = sdeFor(sde, source);
      NetworkConfig nc = networkFor(source);
      int b = batch != null ? batch : nc instanceof UNetConfig ? 64 : 512;
      TrainConfig tc = new TrainConfig(objective, likelihoodWeighting, b, lr, warmup, gradClip, ema, seed, 100,
          rademacher(), true, nc.classes() > 0 ? labelDropout : 0.0, importanceSampling, minTime != null ? minTime : 0.0);
      trainer = new ScoreTrainer(NetworkWeights.initialize(nc, seed), s, tc, source);
    }
    Files.createDirectories(out);
    TrainConfig recipe = trainer.trainConfig();
    String weighting = !recipe.likelihoodWeight() ? "" : recipe.importanceSampling()
        ? " (likelihood-weighted, importance-sampled times)" : " (likelihood-weighted)";
    System.err.printf(Locale.ROOT, "training %s on %s with %s, %s loss%s, t in [%.0e, 1], batch %d, %d steps -> %s%n",
        trainer.config().describe(), source.describe(), trainer.sde().describe(), recipe.objective().label(),
        weighting, recipe.minTime(trainer.sde()), recipe.batchSize(), steps, out);
    Path lossCsv = out.resolve("loss.csv");
    List<double[]> history = readLoss(lossCsv, trainer.step());
    long start = trainer.step();
    long end = start + steps;
    ProgressBar bar = new ProgressBar(steps, "steps");
    long t0 = System.nanoTime();
    try (BufferedWriter w = Files.newBufferedWriter(lossCsv, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      w.write("step,loss\n");
      for (double[] h : history) w.write((long) h[0] + "," + h[1] + "\n");
      double avg = Double.NaN;
      while (trainer.step() < end) {
        long n = trainer.step();
        double l = trainer.trainStep();
        history.add(new double[] {n, l});
        w.write(n + "," + l + "\n");
        avg = Double.isNaN(avg) ? l : 0.98 * avg + 0.02 * l;
        bar.update(trainer.step() - start, String.format(Locale.ROOT, "loss %.4f", avg));
        if (trainer.step() % checkpointEvery == 0 || trainer.step() == end) {
          Checkpoint.of(trainer, data).write(out);
        }
      }
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    double[] xs = history.stream().mapToDouble(h -> h[0]).toArray();
    double[] ls = history.stream().mapToDouble(h -> h[1]).toArray();
    Plots.lossCurve(out.resolve("loss.png"), xs, ls);
    System.out.printf(Locale.ROOT, "trained %d steps in %.1f s (%.1f steps/s); checkpoint %s%n", steps, secs,
        steps / secs, Checkpoint.latest(out).orElseThrow());
    if (source.dim() == 2) previewSamples(trainer);
    if (trainer.config().shape().length == 3) previewImages(trainer);
    return 0;
  }

  /** The network for the data: --network, or the U-Net for images and the MLP for vectors. */
  private NetworkConfig networkFor(DataSource source) {
    long[] shape = source.shape();
    String kind = network != null ? network.toLowerCase(Locale.ROOT) : shape.length == 3 ? "unet" : "mlp";
    return switch (kind) {
      case "mlp" -> new MlpConfig(source.dim(), width, depth, 32, 16.0);
      case "unet" -> {
        if (shape.length != 3) {
          throw new IllegalArgumentException("--network unet needs image data (C x H x W); " + source.describe()
              + " has rows of " + source.dim());
        }
        yield new UNetConfig((int) shape[0], (int) shape[1], (int) shape[2], base, groups, attention,
            unconditional ? 0 : source.classes());
      }
      default -> throw new IllegalArgumentException("unknown --network '" + network + "' (expected mlp or unet)");
    };
  }

  /** Samples a grid of images from the EMA model (for a conditional one, column k is class k) into samples.png. */
  private void previewImages(ScoreTrainer trainer) {
    NetworkConfig c = trainer.config();
    int classes = c.classes();
    int cols = classes > 0 ? classes : 8;
    int n = cols * 4;
    SamplerProgram program = SamplerProgram.FewStep.of(SamplerProgram.Solver.DDIM, 50);
    Conditioning cond = Conditioning.NONE;
    if (classes > 0) {
      int[] labels = new int[classes];
      for (int k = 0; k < classes; k++) labels[k] = k;
      cond = Conditioning.labels(1.0, labels);
    }
    try (ScoreModel model = trainer.emaWeights().model(trainer.sde())) {
      Sampling.Result r = Sampling.run(model, program, n, seed, null, null, cond);
      double[][] images = trainer.data().normalization().invert(r.samples().toDoubleMatrix());
      ImageGrid.write(out.resolve("samples.png"), images, c.shape(), cols, 2);
    }
    System.out.println("wrote " + out.resolve("samples.png") + " (" + n + " samples, " + program.describe()
        + (classes > 0 ? ", column k is class k" : "") + ")");
  }

  private boolean rademacher() {
    return switch (projections.toLowerCase(Locale.ROOT)) {
      case "rademacher" -> true;
      case "gaussian" -> false;
      default -> throw new IllegalArgumentException("unknown projections '" + projections + "' (expected gaussian or rademacher)");
    };
  }

  /** Samples the EMA model and draws the scatter that tells at a glance whether training worked. */
  private void previewSamples(ScoreTrainer trainer) {
    ScoreModel model = trainer.emaWeights().model(trainer.sde());
    SamplerProgram program = SamplerProgram.PredictorCorrector.defaults(trainer.sde(), 500);
    Sampling.Result r = Sampling.run(model, program, 2000, seed, null, null);
    double[][] samples = trainer.data().normalization().invert(r.samples().toDoubleMatrix());
    Csv.write(out.resolve("samples.csv"), samples);
    Optional<GaussianMixture> mixture = data.startsWith("toy:") && GaussianMixture.NAMES.contains(data.substring(4))
        ? Optional.of(GaussianMixture.named(data.substring(4))) : Optional.empty();
    double[][] reference = trainer.data().normalization().invert(trainer.data().batch(seed + 1, 0, 2000));
    Plots.scatter(out.resolve("samples.png"), "samples after " + trainer.step() + " steps (" + program.describe() + ")",
        samples, reference);
    System.out.println("wrote " + out.resolve("samples.png") + " and samples.csv (2000 samples, " + program.describe() + ")");
    mixture.ifPresent(m -> System.out.println("mode weights " + SampleCommand.fmt(MixtureStats.of(m, samples).modeWeights())));
  }

  /** The VE SDE's sigma-max is raised to the largest distance between data points when that is larger. */
  static Sde sdeFor(String name, DataSource source) {
    Sde s = Sde.named(name);
    if (!(s instanceof VeSde ve)) return s;
    double[][] rows = source.batch(1, 0, 1000);
    double diameter = 0;
    for (int i = 0; i < rows.length; i++) {
      for (int j = i + 1; j < rows.length; j++) {
        double sq = 0;
        for (int k = 0; k < rows[i].length; k++) sq += (rows[i][k] - rows[j][k]) * (rows[i][k] - rows[j][k]);
        diameter = Math.max(diameter, Math.sqrt(sq));
      }
    }
    return diameter > ve.sigmaMax() ? new VeSde(ve.sigmaMin(), Math.ceil(diameter)) : ve;
  }

  private static List<double[]> readLoss(Path csv, long upTo) {
    List<double[]> h = new ArrayList<>();
    if (upTo == 0 || !Files.exists(csv)) return h;
    try {
      for (String line : Files.readAllLines(csv)) {
        if (line.startsWith("step")) continue;
        String[] p = line.split(",");
        if (Long.parseLong(p[0]) < upTo) h.add(new double[] {Double.parseDouble(p[0]), Double.parseDouble(p[1])});
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + csv + ": " + e.getMessage(), e);
    }
    return h;
  }
}
