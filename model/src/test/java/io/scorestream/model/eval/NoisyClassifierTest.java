package io.scorestream.model.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.data.ImageData;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.CheckpointException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The noise-conditional digit classifier on real MNIST (model/mnist/setup-mnist.sh). */
class NoisyClassifierTest {
  private static final Path DIR = Path.of(System.getProperty("scorestream.mnist", "mnist/data"));
  private static final Sde VP = Sde.named("vp");
  private static NoisyClassifier trained;
  private static ImageData heldout;

  @BeforeAll
  static void train() {
    ImageData data = ImageData.mnist(DIR, "train");
    heldout = ImageData.mnist(DIR, "heldout");
    trained = NoisyClassifier.create(data.shape(), 10, VP, 1);
    trained.train(data, 300, 32, 2e-3, 2, null);
  }

  private static double[] flat(double[][] rows) {
    int d = rows[0].length;
    double[] x = new double[rows.length * d];
    for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, x, i * d, d);
    return x;
  }

  @Test
  void threeHundredStepsClassifyHeldOutDigitsAndNoiseMakesItHarder() {
    double[][] rows = heldout.all();
    int[] labels = heldout.images().labels();
    double clean = ImageMetrics.accuracy(trained.logits(flat(rows), rows.length, VP.tEps()), 10, labels);
    double noisy = ImageMetrics.accuracy(trained.logits(noised(rows, 0.6), rows.length, 0.6), 10, labels);
    System.out.printf("classifier (%d weights): held-out accuracy %.3f clean, %.3f at t = 0.6%n",
        trained.parameterCount(), clean, noisy);
    assertTrue(clean > 0.85, "clean accuracy " + clean);
    assertTrue(noisy > 0.2 && noisy < clean, "accuracy at t = 0.6: " + noisy);
  }

  private static double[] noised(double[][] rows, double t) {
    java.util.SplittableRandom rng = new java.util.SplittableRandom(5);
    double m = VP.meanCoeff(t);
    double s = VP.std(t);
    double[] x = flat(rows);
    for (int i = 0; i < x.length; i++) {
      double u = 1 - rng.nextDouble();
      x[i] = m * x[i] + s * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
    }
    return x;
  }

  @Test
  void gradLogProbIsTheDerivativeOfTheLogProbability() {
    double[][] rows = heldout.batch(3, 0, 4);
    INDArray x = Nd4j.create(flat(rows), new long[] {4, 784}, 'c').castTo(DataType.FLOAT);
    double[] t = {0.1, 0.3, 0.5, 0.9};
    int[] y = {1, 2, 7, 9};
    INDArray g = trained.gradLogProb(x, t, y);
    // Directional derivative along g itself: (log p(x + h g) - log p(x - h g)) / 2h = ||g||^2.
    for (int i = 0; i < 4; i++) {
      double[] gi = g.getRow(i).toDoubleVector();
      double norm2 = 0;
      for (double v : gi) norm2 += v * v;
      double h = 1e-2 / Math.sqrt(norm2);
      double[] plus = rows[i].clone();
      double[] minus = rows[i].clone();
      for (int k = 0; k < 784; k++) {
        plus[k] += h * gi[k];
        minus[k] -= h * gi[k];
      }
      double fd = (logp(plus, t[i], y[i]) - logp(minus, t[i], y[i])) / (2 * h);
      assertEquals(norm2, fd, 0.05 * norm2, "row " + i);
    }
  }

  private static double logp(double[] x, double t, int y) {
    double[] p = ImageMetrics.softmax(trained.logits(x, 1, t), 10);
    return Math.log(p[y]);
  }

  @Test
  void aSavedClassifierGivesTheSameLogitsAndACorruptOneIsRefused(@TempDir Path tmp) throws Exception {
    trained.save(tmp.resolve("c"));
    double[] x = flat(heldout.batch(4, 0, 3));
    try (NoisyClassifier back = NoisyClassifier.load(tmp.resolve("c"))) {
      assertArrayEquals(trained.logits(x, 3, 0.2), back.logits(x, 3, 0.2), 0.0);
    }
    Files.writeString(tmp.resolve("c/classifier.json"), "{\"format\": \"scorestream-classifier\", \"version\": 1}");
    assertThrows(CheckpointException.class, () -> NoisyClassifier.load(tmp.resolve("c")));
    assertThrows(CheckpointException.class, () -> NoisyClassifier.load(tmp.resolve("missing")));
  }
}
