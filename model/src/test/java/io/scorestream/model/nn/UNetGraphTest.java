package io.scorestream.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.data.LabelledImages;
import io.scorestream.model.sde.Sde;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The toy U-Net on real MNIST digits (model/mnist/setup-mnist.sh) under the VP SDE: its score has the images' shape,
 * and 60 Adam steps of denoising score matching lower the loss on a fixed held-out batch (same digits, times and
 * noise before and after) by more than half (measured: 0.994 -> 0.141).
 */
class UNetGraphTest {
  private static final Sde VP = Sde.named("vp");
  private static final int BATCH = 16;

  private static Map<String, INDArray> batch(LabelledImages digits, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    int per = digits.imageSize();
    float[] x = new float[BATCH * per];
    float[] z = new float[BATCH * per];
    float[] cond = new float[BATCH];
    float[] scale = new float[BATCH];
    float[] std = new float[BATCH];
    for (int b = 0; b < BATCH; b++) {
      float[] x0 = digits.image(rng.nextInt(digits.size()));
      double t = VP.tEps() + (1 - VP.tEps()) * rng.nextDouble();
      double m = VP.meanCoeff(t);
      double s = VP.std(t);
      for (int k = 0; k < per; k++) {
        double noise = rng.nextGaussian();
        z[b * per + k] = (float) noise;
        x[b * per + k] = (float) (m * (2 * x0[k] - 1) + s * noise);   // digits scaled to [-1, 1]
      }
      cond[b] = (float) VP.networkCondition(t);
      scale[b] = (float) (-1 / s);
      std[b] = (float) s;
    }
    Map<String, INDArray> m = new HashMap<>();
    m.put("x", Nd4j.createFromArray(x).reshape(BATCH, 1, 28, 28));
    m.put("z", Nd4j.createFromArray(z).reshape(BATCH, 1, 28, 28));
    m.put("cond", Nd4j.createFromArray(cond).reshape(BATCH, 1));
    m.put("scale", Nd4j.createFromArray(scale).reshape(BATCH, 1));
    m.put("std", Nd4j.createFromArray(std).reshape(BATCH, 1));
    return m;
  }

  @Test
  void aShortTrainingRunLowersTheLossOnDigits() {
    Path dir = MnistPaths.DIR;
    LabelledImages train = LabelledImages.idx(dir.resolve("train-images-idx3-ubyte"), dir.resolve("train-labels-idx1-ubyte"));
    LabelledImages heldout = LabelledImages.idx(dir.resolve("heldout-images-idx3-ubyte"), null);
    UNetGraph net = UNetGraph.create(1, 28, 28, 8, 4, 3);
    Map<String, INDArray> eval = batch(heldout, 99);
    INDArray score = net.sd().outputSingle(eval, UNetGraph.SCORE);
    assertArrayEquals(new long[] {BATCH, 1, 28, 28}, score.shape());
    double before = net.loss(eval);

    // Adam (Kingma and Ba 2015), lr 2e-3, on fresh batches.
    double lr = 2e-3;
    double b1 = 0.9;
    double b2 = 0.999;
    Map<String, INDArray[]> moments = new HashMap<>();
    for (int step = 1; step <= 60; step++) {
      Map<String, INDArray> grads = net.gradients(batch(train, step));
      for (Map.Entry<String, INDArray> g : grads.entrySet()) {
        INDArray p = net.sd().getVariable(g.getKey()).getArr();
        INDArray[] mv = moments.computeIfAbsent(g.getKey(), k -> new INDArray[] {
            Nd4j.zeros(DataType.FLOAT, p.shape()), Nd4j.zeros(DataType.FLOAT, p.shape())});
        mv[0].muli(b1).addi(g.getValue().mul(1 - b1));
        mv[1].muli(b2).addi(g.getValue().mul(g.getValue()).muli(1 - b2));
        double c1 = 1 - Math.pow(b1, step);
        double c2 = 1 - Math.pow(b2, step);
        INDArray update = mv[0].div(c1).divi(org.nd4j.linalg.ops.transforms.Transforms.sqrt(mv[1].div(c2)).addi(1e-8));
        p.subi(update.muli(lr));
      }
    }
    double after = net.loss(eval);
    System.out.printf("toy U-Net (%d weights) on MNIST: held-out DSM loss %.4f -> %.4f after 60 steps%n",
        net.parameterCount(), before, after);
    assertTrue(after < 0.5 * before, "held-out DSM loss " + before + " -> " + after + " after 60 steps ("
        + net.parameterCount() + " weights)");
  }

  @Test
  void withAttentionTheScoreKeepsTheImageShapeAndTheLossItsStartingValue() {
    LabelledImages heldout = LabelledImages.idx(MnistPaths.DIR.resolve("heldout-images-idx3-ubyte"), null);
    UNetGraph plain = UNetGraph.create(1, 28, 28, 8, 4, 3);
    UNetGraph attn = UNetGraph.create(1, 28, 28, 8, 4, true, 3);
    Map<String, INDArray> eval = batch(heldout, 99);
    assertArrayEquals(new long[] {BATCH, 1, 28, 28}, attn.sd().outputSingle(eval, UNetGraph.SCORE).shape());
    // Attention adds 4 (16 x 16 + 16) + 2 x 16 weights, and its 0.1-gain projection starts near the identity, so a
    // fresh network's loss barely moves.
    org.junit.jupiter.api.Assertions.assertEquals(4 * (16 * 16 + 16) + 2 * 16,
        attn.parameterCount() - plain.parameterCount());
    org.junit.jupiter.api.Assertions.assertEquals(plain.loss(eval), attn.loss(eval), 0.05);
  }

  /** Where the MNIST digits are installed (the same as MnistDigitsTest's). */
  static final class MnistPaths {
    static final Path DIR = Path.of(System.getProperty("scorestream.mnist", "mnist/data"));
  }
}
