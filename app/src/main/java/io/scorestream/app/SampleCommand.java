package io.scorestream.app;

import io.scorestream.model.eval.MixtureStats;
import io.scorestream.model.eval.NoisyClassifier;
import io.scorestream.model.sample.Conditioning;
import io.scorestream.model.score.ClassifierGuidedModel;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.Sampling;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code scorestream sample}: draws samples from a checkpoint or an analytic score and writes them as CSV, and as a
 * PNG: a scatter for 2-D data, a grid for images. Class labels with classifier-free guidance, classifier guidance and
 * inpainting condition the chains.
 */
@Command(name = "sample", mixinStandardHelpOptions = true, description = "Draw samples and write them as CSV, and as a PNG (a scatter for 2-D data, a grid for images).")
final class SampleCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, description = "a training output or checkpoint directory, or analytic:ncsn-gmm|gmm8")
  String model;

  @Option(names = "--sde", description = "ve, vp or subvp (analytic models; default vp; must match a checkpoint)")
  String sde;

  @Option(names = "--n", defaultValue = "2000", description = "number of samples (default: ${DEFAULT-VALUE})")
  int n;

  @Option(names = "--seed", defaultValue = "0", description = "noise seed; the same seed gives the same samples")
  long seed;

  @Option(names = "--out", required = true, description = "output CSV")
  Path out;

  @Option(names = "--plot", description = "a PNG of the samples: a scatter for 2-D data, a grid for images")
  Path plot;

  @Option(names = "--labels", split = ",", description = "class labels, cycled over the chains (e.g. 0,1,2 or 7); conditional models and analytic mixtures (label k: component k)")
  int[] labels;

  @Option(names = "--guidance", defaultValue = "1.0", description = "classifier-free guidance scale w: s = s(x) + w (s(x|y) - s(x)); 0 unconditional, 1 conditional (default: ${DEFAULT-VALUE})")
  double guidance;

  @Option(names = "--classifier", description = "a noise-conditional classifier directory (scorestream train-classifier) for classifier guidance")
  Path classifier;

  @Option(names = "--classifier-scale", defaultValue = "1.0", description = "classifier guidance scale: s = s(x) + scale grad log p_t(y|x) (default: ${DEFAULT-VALUE})")
  double classifierScale;

  @Option(names = "--conditional-base", description = "with --classifier: add the gradient to the model's class-conditional score s(x|y), not s(x), so --guidance applies classifier-free guidance on top")
  boolean conditionalBase;

  @Mixin InpaintOptions inpaint = new InpaintOptions();

  @Option(names = "--grid-columns", defaultValue = "10", description = "images per row of the PNG grid (default: ${DEFAULT-VALUE})")
  int gridColumns;

  @Mixin SamplerOptions options;

  @Override
  public Integer call() {
    if (n <= 0) throw new IllegalArgumentException("--n must be > 0, got " + n);
    ModelLoader.Loaded loaded = ModelLoader.load(model, sde);
    ScoreModel scoreModel = loaded.model();
    if (conditionalBase && classifier == null) throw new IllegalArgumentException("--conditional-base goes with --classifier");
    if (classifier != null) {
      if (labels == null) throw new IllegalArgumentException("--classifier guides toward --labels; give some");
      NoisyClassifier c = NoisyClassifier.load(classifier);
      if (c.dim() != scoreModel.dim()) {
        throw new IllegalArgumentException("the classifier reads D = " + c.dim() + ", the model makes D = " + scoreModel.dim());
      }
      ClassifierGuidedModel guided = new ClassifierGuidedModel(scoreModel, c, classifierScale);
      scoreModel = conditionalBase ? guided.withConditionalBase() : guided;
    }
    Conditioning cond = conditioning(loaded, scoreModel);
    SamplerProgram program = options.program(scoreModel.sde(), loaded.aldSigmaRange());
    System.err.println("sampling " + n + " chains of " + program.describe() + " on " + scoreModel.describe()
        + (cond == Conditioning.NONE ? "" : " with " + cond));
    ProgressBar bar = new ProgressBar(program.nominalCalls(), "calls");
    long t0 = System.nanoTime();
    Sampling.Result r = Sampling.run(scoreModel, program, n, seed, null,
        (tick, step, total, t, x, denoised) -> bar.update(Math.min(tick, program.nominalCalls()),
            String.format(Locale.ROOT, "step %d/%d t=%.4f", step, total, t)), cond);
    if (!r.failures().isEmpty()) {
      System.err.println("warning: " + r.failures().size() + " chains failed; first: " + r.failures().get(0));
    }
    double[][] samples = loaded.normalization().invert(r.samples().toDoubleMatrix());
    Csv.write(out, samples);
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf(Locale.ROOT, "wrote %d samples to %s (%d network calls, %.1f s)%n", n, out, r.networkCalls(), secs);
    if (loaded.mixture().isPresent()) {
      MixtureStats st = MixtureStats.of(loaded.mixture().get(), samples);
      System.out.println("mode weights " + fmt(st.modeWeights()) + "  mode stds " + fmt(st.modeStds()));
    }
    if (plot != null && scoreModel.shape().length == 3) {
      ImageGrid.write(plot, samples, scoreModel.shape(), gridColumns, 2);
      System.out.println("wrote " + plot + " (" + n + " images)");
    } else if (plot != null) {
      if (samples[0].length != 2) throw new IllegalArgumentException("--plot draws 2-D data or images; these samples have D = " + samples[0].length);
      double[][] ref = loaded.mixture().map(m -> m.sample(Math.min(n, 2000), seed + 1)).orElse(null);
      Plots.scatter(plot, program.describe(), samples, ref);
      System.out.println("wrote " + plot);
    }
    return 0;
  }

  /** The labels, guidance and inpainting mask of the options, checked against the model. */
  private Conditioning conditioning(ModelLoader.Loaded loaded, ScoreModel scoreModel) {
    Conditioning c = labels == null ? Conditioning.NONE : Conditioning.labels(guidance, labels);
    if (inpaint.requested()) {
      if (scoreModel.shape().length != 3) throw new IllegalArgumentException("--inpaint needs an image model");
      InpaintOptions.Digit digit = inpaint.digit();
      if (!loaded.normalization().equals(digit.digits().normalization())) {
        throw new IllegalArgumentException("--inpaint takes MNIST digits; the model was trained on " + loaded.dataSpec());
      }
      if (!Arrays.equals(digit.digits().shape(), scoreModel.shape())) {
        throw new IllegalArgumentException("--inpaint takes MNIST digits; the model makes " + describeShape(scoreModel.shape()));
      }
      c = c.withMask(digit.mask(), digit.known());
    }
    c.checkFor(scoreModel);
    return c;
  }

  private static String describeShape(long[] shape) {
    return Arrays.stream(shape).mapToObj(Long::toString).collect(java.util.stream.Collectors.joining(" x "));
  }

  static String fmt(double[] v) {
    return Arrays.stream(v).mapToObj(x -> String.format(Locale.ROOT, "%.3f", x))
        .collect(java.util.stream.Collectors.joining(" ", "[", "]"));
  }
}
