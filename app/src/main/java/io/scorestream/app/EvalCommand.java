package io.scorestream.app;

import io.scorestream.model.data.DataSource;
import io.scorestream.model.data.DataSpecs;
import io.scorestream.model.data.ImageData;
import io.scorestream.model.eval.EnergyDistance;
import io.scorestream.model.eval.ImageMetrics;
import io.scorestream.model.eval.NoisyClassifier;
import io.scorestream.model.sample.Conditioning;
import io.scorestream.model.eval.MixtureStats;
import io.scorestream.model.likelihood.Likelihood;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.Sampling;
import io.scorestream.model.score.GaussianMixture;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code scorestream eval}: the probability-flow NLL of held-out points (nats and bits per dimension, in the data's
 * own units), and for 2-D mixture toys the energy distance of model samples to fresh exact samples and the mode
 * weights. For image models with {@code --classifier}: the accuracy of class-conditional samples, the classifier
 * Inception Score, and the Frechet distance and KID of the classifier's features against held-out images, each next
 * to its real-vs-real floor (training images against the held-out ones); bits/dim of held-out 8-bit images with
 * uniform dequantisation.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate a model: NLL (--nll), energy distance and mode weights for 2-D toys.")
final class EvalCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, description = "a training output or checkpoint directory, or analytic:NAME")
  String model;

  @Option(names = "--sde", description = "ve, vp or subvp (analytic models; default vp)")
  String sde;

  @Option(names = "--data", description = "evaluation data (default: what the model was trained on)")
  String data;

  @Option(names = "--n", defaultValue = "1000", description = "held-out points for the NLL (default: ${DEFAULT-VALUE})")
  int n;

  @Option(names = "--samples", defaultValue = "2000", description = "model samples for the energy distance (default: ${DEFAULT-VALUE})")
  int samples;

  @Option(names = "--nll", description = "compute the NLL along the probability-flow ODE")
  boolean nll;

  @Option(names = "--eps", description = "time the likelihood ODE starts at, log p_eps(x) (default: the smallest time the network was trained at; the SDE's t_eps, 1e-3 for VP and 1e-5 for VE, unless trained with --min-time)")
  Double eps;

  @Option(names = "--divergence", description = "exact, rademacher or gaussian (default: exact for D <= 16)")
  String divergence;

  @Option(names = "--seed", defaultValue = "1", description = "seed of the held-out points, probes and samples")
  long seed;

  @Option(names = "--classifier", description = "image models: the classifier (scorestream train-classifier) that scores samples")
  java.nio.file.Path classifier;

  @Option(names = "--guidance", defaultValue = "1.0", description = "image models: classifier-free guidance scale of the class-conditional samples (default: ${DEFAULT-VALUE})")
  double guidance;

  @Option(names = "--guide-classifier", description = "image models: sample with classifier guidance by this noise-conditional classifier (not the one given to --classifier, which scores the samples)")
  java.nio.file.Path guideClassifier;

  @Option(names = "--classifier-scale", defaultValue = "1.0", description = "with --guide-classifier: s = s(x) + scale grad log p_t(y|x) (default: ${DEFAULT-VALUE})")
  double classifierScale;

  @Option(names = "--conditional-base", description = "with --guide-classifier: add the gradient to the model's class-conditional score s(x|y), not s(x), so --guidance applies classifier-free guidance on top")
  boolean conditionalBase;

  @Mixin SamplerOptions options;

  @Override
  public Integer call() {
    if (n <= 0) throw new IllegalArgumentException("--n must be > 0, got " + n);
    if (samples <= 0) throw new IllegalArgumentException("--samples must be > 0, got " + samples);
    ModelLoader.Loaded loaded = ModelLoader.load(model, sde);
    String spec = data != null ? data : loaded.dataSpec();
    DataSource source = DataSpecs.parse(spec, loaded.normalization().kind());
    if (source.dim() != loaded.model().dim()) {
      throw new IllegalArgumentException("--data has D = " + source.dim() + " but the model has D = " + loaded.model().dim());
    }
    System.out.println("model " + loaded.model().describe());
    if (loaded.model().shape().length == 3) return evalImages(loaded, source);
    if (nll) {
      // Held-out points from the data's own stream, normalised the way the model was trained.
      double[][] raw = loaded.normalization().invert(source.batch(seed + 1_000_003L, 0, n));
      double[][] x = loaded.normalization().apply(raw);
      Likelihood.Divergence div = divergence != null ? Likelihood.Divergence.named(divergence)
          : source.dim() <= Likelihood.EXACT_MAX_DIM ? Likelihood.Divergence.EXACT : Likelihood.Divergence.RADEMACHER;
      long t0 = System.nanoTime();
      Likelihood.Result r = Likelihood.evaluate(loaded.model(), Nd4j.createFromArray(x), div, rtol(),
          atol(), seed, likelihoodEps(loaded, eps));
      double natsPerDim = r.natsPerDim() - loaded.normalization().logDetJacobian() / source.dim();
      System.out.printf(Locale.ROOT, "nll %.4f nats/dim  %.4f bits/dim  (%d points of %s, divergence %s, %d calls, %.1f s)%n",
          natsPerDim, natsPerDim / Math.log(2), n, spec, div.name().toLowerCase(Locale.ROOT), r.networkCalls(),
          (System.nanoTime() - t0) / 1e9);
      loaded.mixture().ifPresent(m -> {
        double sum = 0;
        for (double[] row : raw) sum += m.logDensity(row, 1, 0);
        double exact = -sum / raw.length / m.dim();
        System.out.printf(Locale.ROOT, "exact mixture nll %.4f nats/dim on the same points (gap %+.4f)%n", exact, natsPerDim - exact);
      });
    }
    if (loaded.mixture().isPresent() && loaded.model().dim() == 2) {
      GaussianMixture m = loaded.mixture().get();
      SamplerProgram program = options.program(loaded.model().sde(), loaded.aldSigmaRange());
      double[][] xs = loaded.normalization().invert(
          Sampling.run(loaded.model(), program, samples, seed, null, null).samples().toDoubleMatrix());
      double ed = EnergyDistance.of(xs, m.sample(samples, seed + 7));
      System.out.printf(Locale.ROOT, "energy distance %.5f to %d fresh exact samples (%s)%n", ed, samples, program.describe());
      MixtureStats st = MixtureStats.of(m, xs);
      System.out.println("mode weights " + SampleCommand.fmt(st.modeWeights()) + "  mode stds " + SampleCommand.fmt(st.modeStds()));
    }
    return 0;
  }

  /** Image metrics (with --classifier) and bits/dim (with --nll) of an image model. */
  private int evalImages(ModelLoader.Loaded loaded, DataSource source) {
    if (classifier == null && !nll) {
      throw new IllegalArgumentException("image models: give --classifier DIR (sample metrics) and/or --nll (bits/dim)");
    }
    if (!(source instanceof ImageData train)) throw new IllegalArgumentException("--data must be images for an image model");
    ImageData held = ImageData.mnist(ImageData.mnistDir(), "heldout");
    if (source.describe().startsWith("mnist:") == false) {
      throw new IllegalArgumentException("image evaluation compares against the MNIST held-out digits; the model was trained on "
          + source.describe());
    }
    if (conditionalBase && guideClassifier == null) {
      throw new IllegalArgumentException("--conditional-base goes with --guide-classifier");
    }
    if (guideClassifier != null && classifier == null) {
      throw new IllegalArgumentException("--guide-classifier samples for the metrics of --classifier; give --classifier too");
    }
    if (guideClassifier != null
        && guideClassifier.toAbsolutePath().normalize().equals(classifier.toAbsolutePath().normalize())) {
      throw new IllegalArgumentException("--guide-classifier must not be the --classifier that scores the samples: "
          + "guiding by the judge inflates its accuracy (train another: scorestream train-classifier --seed 1)");
    }
    if (classifier != null) {
      try (NoisyClassifier c = NoisyClassifier.load(classifier);
           NoisyClassifier guide = guideClassifier == null ? null : NoisyClassifier.load(guideClassifier)) {
        double tEps = c.sde().tEps();
        int classes = c.classes();
        int[] labels = new int[classes];
        for (int k = 0; k < classes; k++) labels[k] = k;
        if (guide != null && guide.dim() != loaded.model().dim()) {
          throw new IllegalArgumentException("the guide classifier reads D = " + guide.dim() + ", the model makes D = "
              + loaded.model().dim());
        }
        boolean conditional = loaded.model().classes() > 0 || guide != null;
        Conditioning cond = conditional ? Conditioning.labels(guidance, labels) : Conditioning.NONE;
        io.scorestream.model.score.ScoreModel sampled = guide == null ? loaded.model()
            : conditionalBase
                ? new io.scorestream.model.score.ClassifierGuidedModel(loaded.model(), guide, classifierScale)
                    .withConditionalBase()
                : new io.scorestream.model.score.ClassifierGuidedModel(loaded.model(), guide, classifierScale);
        SamplerProgram program = options.program(loaded.model().sde(), loaded.aldSigmaRange());
        String how = guide == null ? "guidance " + guidance
            : "classifier guidance " + classifierScale + " by " + guideClassifier
                + (conditionalBase ? " on the class-conditional score, guidance " + guidance
                    : guidance == 1 ? "" : ", times " + guidance + " through the guidance scale");
        System.err.println("sampling " + samples + " images with " + program.describe()
            + (conditional ? " (labels 0.." + (classes - 1) + " cycled, " + how + ")" : ""));
        ProgressBar bar = new ProgressBar(program.nominalCalls(), "calls");
        long t0 = System.nanoTime();
        Sampling.Result r = Sampling.run(sampled, program, samples, seed, null,
            (tick, step, total, t, x, d) -> bar.update(Math.min(tick, program.nominalCalls()), ""), cond);
        double secs = (System.nanoTime() - t0) / 1e9;
        double[] gen = flat(r.samples().toDoubleMatrix());
        int m = Math.min(samples, held.images().size());
        double[] real = flat(java.util.Arrays.copyOf(held.all(), m));
        double[] floorSet = flat(train.batch(seed + 11, 0, m));
        double[] genLogits = c.logits(gen, samples, tEps);
        double[] fGen = c.features(gen, samples, tEps);
        double[] fReal = c.features(real, m, tEps);
        double[] fFloor = c.features(floorSet, m, tEps);
        int f = NoisyClassifier.FEATURES;
        System.out.printf(Locale.ROOT, "%d samples in %.1f s (%d network calls); %d held-out digits%n", samples, secs,
            r.networkCalls(), m);
        if (conditional) {
          System.out.printf(Locale.ROOT, "conditional accuracy %.4f at %s (classifier on held-out digits: %.4f)%n",
              ImageMetrics.accuracy(genLogits, classes, labels), how,
              ImageMetrics.accuracy(c.logits(real, m, tEps), classes, java.util.Arrays.copyOf(held.images().labels(), m)));
        }
        System.out.printf(Locale.ROOT, "inception score %.3f  (real held-out: %.3f; at most %d)%n",
            ImageMetrics.inceptionScore(genLogits, classes), ImageMetrics.inceptionScore(c.logits(real, m, tEps), classes), classes);
        System.out.printf(Locale.ROOT, "frechet distance %.3f  (real-vs-real floor: %.3f)%n",
            ImageMetrics.frechetDistance(fGen, fReal, f), ImageMetrics.frechetDistance(fFloor, fReal, f));
        System.out.printf(Locale.ROOT, "kid %.5f  (real-vs-real floor: %.5f)%n",
            ImageMetrics.kernelInceptionDistance(fGen, fReal, f), ImageMetrics.kernelInceptionDistance(fFloor, fReal, f));
      }
    }
    if (nll) {
      // 8-bit pixels k / 255 dequantised uniformly, (k + u) / 256, then scaled like the training data.
      int count = Math.min(n, held.images().size());
      int d = held.dim();
      double[][] x = new double[count][d];
      java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
      float[] px = held.images().pixels();
      for (int i = 0; i < count; i++) {
        for (int k = 0; k < d; k++) {
          double level = Math.round(px[i * d + k] * 255.0);
          x[i][k] = 2 * ((level + rng.nextDouble()) / 256.0) - 1;
        }
      }
      Likelihood.Divergence div = divergence != null ? Likelihood.Divergence.named(divergence) : Likelihood.Divergence.RADEMACHER;
      long t0 = System.nanoTime();
      Likelihood.Result r = Likelihood.evaluate(loaded.model(), Nd4j.createFromArray(x).castTo(loaded.model().dataType()),
          div, rtol(), atol(), seed, likelihoodEps(loaded, eps));
      // nats/dim in [0, 1] units: the [-1, 1] scaling adds log 2 per dimension; bits/dim of 8-bit data: + 8.
      double natsUnit = r.natsPerDim() - Math.log(2);
      System.out.printf(Locale.ROOT, "bits/dim %.4f on %d held-out digits (dequantised; from eps %.0e; divergence %s, %d calls, %.1f s)%n",
          natsUnit / Math.log(2) + 8, count, likelihoodEps(loaded, eps), div.name().toLowerCase(Locale.ROOT), r.networkCalls(),
          (System.nanoTime() - t0) / 1e9);
    }
    return 0;
  }

  /** Where the likelihood ODE starts: --eps, or the smallest time the network was trained at. */
  private static double likelihoodEps(ModelLoader.Loaded loaded, Double eps) {
    return eps != null ? eps : loaded.minTime();
  }

  /** The likelihood ODE's tolerances: --rtol / --atol, 1e-5 when not given. */
  private double rtol() {
    return options.rtol != null ? options.rtol : 1e-5;
  }

  private double atol() {
    return options.atol != null ? options.atol : 1e-5;
  }

  private static double[] flat(double[][] rows) {
    int d = rows[0].length;
    double[] x = new double[rows.length * d];
    for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, x, i * d, d);
    return x;
  }
}
