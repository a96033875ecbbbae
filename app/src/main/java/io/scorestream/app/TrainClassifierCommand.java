package io.scorestream.app;

import io.scorestream.model.data.DataSource;
import io.scorestream.model.data.DataSpecs;
import io.scorestream.model.data.ImageData;
import io.scorestream.model.eval.ImageMetrics;
import io.scorestream.model.eval.NoisyClassifier;
import io.scorestream.model.sde.Sde;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code scorestream train-classifier}: trains the noise-conditional digit classifier that {@code eval} scores image
 * models with and that {@code sample --classifier} guides with, and reports its held-out accuracy, clean and noised.
 */
@Command(name = "train-classifier", mixinStandardHelpOptions = true,
    description = "Train the noise-conditional image classifier used by eval (accuracy, IS, FD, KID) and by classifier guidance.")
final class TrainClassifierCommand implements Callable<Integer> {
  @Option(names = "--data", defaultValue = "mnist", description = "labelled images (default: ${DEFAULT-VALUE})")
  String data;

  @Option(names = "--heldout", defaultValue = "mnist:heldout", description = "labelled images to report accuracy on (default: ${DEFAULT-VALUE})")
  String heldout;

  @Option(names = "--sde", defaultValue = "vp", description = "the SDE whose noise it is trained on (default: ${DEFAULT-VALUE})")
  String sde;

  @Option(names = "--steps", defaultValue = "1500", description = "Adam steps (default: ${DEFAULT-VALUE})")
  int steps;

  @Option(names = "--batch", defaultValue = "64", description = "batch size (default: ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--lr", defaultValue = "2e-3", description = "learning rate (default: ${DEFAULT-VALUE})")
  double lr;

  @Option(names = "--seed", defaultValue = "0", description = "seed (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--out", defaultValue = "runs/classifier", description = "output directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Override
  public Integer call() {
    if (steps <= 0) throw new IllegalArgumentException("--steps must be > 0, got " + steps);
    ImageData train = images(data, "--data");
    ImageData held = images(heldout, "--heldout");
    if (train.classes() < 2) throw new IllegalArgumentException("--data " + data + " has no labels");
    Sde s = Sde.named(sde);
    try (NoisyClassifier c = NoisyClassifier.create(train.shape(), train.classes(), s, seed)) {
      System.err.printf(Locale.ROOT, "training a %d-weight classifier on %s under %s, %d steps of %d%n",
          c.parameterCount(), train.describe(), s.describe(), steps, batch);
      ProgressBar bar = new ProgressBar(steps, "steps");
      long t0 = System.nanoTime();
      double loss = c.train(train, steps, batch, lr, seed, n -> bar.update(n, ""));
      double secs = (System.nanoTime() - t0) / 1e9;
      c.save(out);
      double[][] rows = held.all();
      double[] x = new double[rows.length * held.dim()];
      for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, x, i * held.dim(), held.dim());
      int[] y = held.images().labels();
      System.out.printf(Locale.ROOT, "trained in %.1f s (final loss %.4f); held-out accuracy", secs, loss);
      for (double t : new double[] {s.tEps(), 0.25, 0.5, 0.75}) {
        System.out.printf(Locale.ROOT, "  t=%.3g: %.4f", t, ImageMetrics.accuracy(c.logits(x, rows.length, t), c.classes(), y));
      }
      System.out.println();
      System.out.println("wrote " + out);
    }
    return 0;
  }

  private static ImageData images(String spec, String option) {
    DataSource d = DataSpecs.parse(spec, null);
    if (!(d instanceof ImageData img)) throw new IllegalArgumentException(option + " " + spec + " is not image data");
    return img;
  }
}
