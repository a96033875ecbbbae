package io.scorestream.model.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scorestream.model.data.ImageData;
import io.scorestream.model.noise.CounterNoise;
import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.score.HostArrays;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.sde.SdeJson;
import io.scorestream.model.train.Adam;
import io.scorestream.model.train.CheckpointException;
import io.scorestream.model.train.TensorFile;
import io.scorestream.model.train.TrainingGraph;
import io.scorestream.model.nn.UNetBlocks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A small LeNet-sized image classifier p_t(y | x_t) conditioned on the noise level, trained on perturbed digits:
 * three 3 x 3 convolutions (the last two with stride 2) with SiLU, the noise condition's Gaussian Fourier features
 * added as a per-channel bias after the first, a 64-wide dense layer (the features) and a linear layer to the
 * logits. Two uses:
 * <ul>
 *   <li>evaluation at t = eps: accuracy, the classifier Inception Score, and the features behind the Frechet
 *       distance and KID ({@link ImageMetrics});</li>
 *   <li>classifier guidance: grad_x log p_t(y | x) added to the score (Song et al. 2021, section 5 and appendix I;
 *       Dhariwal and Nichol 2021).</li>
 * </ul>
 * Half of every training batch is at t = eps (clean digits), half at t ~ U(eps, 1). Owned by one thread.
 */
public final class NoisyClassifier implements AutoCloseable, io.scorestream.model.score.ClassifierGuidedModel.Classifier {
  public static final int FEATURES = 64;
  private static final String LOGITS = "logits";
  private static final String FEATS = "features";
  private static final String LOGP = "logp";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final int channels;
  private final int height;
  private final int width;
  private final int classes;
  private final Sde sde;
  private final SameDiff sd;
  private boolean gradients;
  /** The same network with x a variable, for d log p / dx (M2.1 differentiates variables, not placeholders). */
  private SameDiff guidance;

  private NoisyClassifier(int channels, int height, int width, int classes, Sde sde, long seed) {
    if (height % 4 != 0 || width % 4 != 0) {
      throw new IllegalArgumentException("the classifier halves H and W twice; got " + height + " x " + width);
    }
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.classes = classes;
    this.sde = sde;
    this.sd = build(seed, false);
  }

  /** A fresh classifier for images of shape [C, H, W] with the given classes, under sde's noise. */
  public static NoisyClassifier create(long[] shape, int classes, Sde sde, long seed) {
    if (classes < 2) throw new IllegalArgumentException("a classifier needs >= 2 classes, got " + classes);
    return new NoisyClassifier((int) shape[0], (int) shape[1], (int) shape[2], classes, sde, seed);
  }

  @Override public int classes() { return classes; }

  public Sde sde() { return sde; }

  public int dim() { return channels * height * width; }

  private SameDiff build(long seed, boolean xVariable) {
    DataType t = DataType.FLOAT;
    SameDiff g = SameDiff.create();
    SDVariable xFlat = xVariable ? g.var("x", Nd4j.zeros(t, 1, dim())) : g.placeHolder("x", t, -1, dim());
    SDVariable cond = g.placeHolder("cond", t, -1, 1);
    SDVariable onehot = g.placeHolder("onehot", t, -1, classes);
    SDVariable x = xFlat.reshape(-1, channels, height, width);
    SDVariable f = UNetBlocks.fourierEmbedding(g, "temb/fourier", cond, 8, 16.0, seed);
    SDVariable e = dense(g, "temb/d", f, 16, 16, seed + 1);
    SDVariable h = UNetBlocks.conv(g, "c1", x, channels, 16, 3, 1.0, seed + 2, t);
    h = UNetBlocks.silu(g, h.add(e.reshape(-1, 16, 1, 1)));
    h = UNetBlocks.silu(g, UNetBlocks.conv(g, "c2", h, 16, 32, 3, 2, 1.0, seed + 3, t));
    h = UNetBlocks.silu(g, UNetBlocks.conv(g, "c3", h, 32, 32, 3, 2, 1.0, seed + 4, t));
    int flat = 32 * (height / 4) * (width / 4);
    SDVariable feats = UNetBlocks.silu(g, dense(g, "d1", h.reshape(-1, flat), flat, FEATURES, seed + 5));
    feats.rename(FEATS);
    SDVariable logits = dense(g, "d2", feats, FEATURES, classes, seed + 6);
    logits.rename(LOGITS);
    // log softmax as z - log sum exp z with z = logits - max (M2.1's LogSoftMax op refuses a dimension argument).
    SDVariable z = logits.sub(logits.max(true, 1));
    SDVariable logSoftmax = z.sub(g.math().log(g.math().exp(z).sum(true, 1)));
    SDVariable logp = logSoftmax.mul(onehot).sum(true, 1);
    g.identity(TrainingGraph.LOSS, logp.mean().neg());
    g.identity(LOGP, logp.sum());
    g.setLossVariables(TrainingGraph.LOSS);
    return g;
  }

  private static SDVariable dense(SameDiff g, String name, SDVariable x, int in, int out, long seed) {
    java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
    float[] w = new float[in * out];
    double bound = Math.sqrt(6.0 / in);
    for (int i = 0; i < w.length; i++) w[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
    SDVariable wv = g.var(name + "/w", Nd4j.create(w, new long[] {in, out}, DataType.FLOAT));
    SDVariable b = g.var(name + "/b", Nd4j.zeros(DataType.FLOAT, 1, out));
    return x.mmul(wv).add(b);
  }

  private Map<String, INDArray> params() {
    return params(sd);
  }

  private static Map<String, INDArray> params(SameDiff graph) {
    Map<String, INDArray> p = new LinkedHashMap<>();
    for (SDVariable v : graph.variables()) {
      if (v.getVariableType() == VariableType.VARIABLE && !v.name().equals("x")) p.put(v.name(), v.getArr());
    }
    return p;
  }

  /** The number of trained weights. */
  public long parameterCount() {
    return params().values().stream().mapToLong(INDArray::length).sum();
  }

  /**
   * Trains with Adam (lr, batch) for the given steps on data (images scaled to [-1, 1], labelled); every draw is a
   * pure function of (seed, step). progress receives each finished step.
   *
   * @return the mean loss of the last 50 steps
   */
  public double train(ImageData data, int steps, int batch, double lr, long seed, LongConsumer progress) {
    if (data.classes() != classes) {
      throw new IllegalArgumentException("the data has " + data.classes() + " classes, the classifier " + classes);
    }
    ensureGradients();
    closeGuidance();
    List<String> names = List.copyOf(params().keySet());
    double tail = 0;
    int tailCount = 0;
    try (Adam adam = new Adam(params(), null, null)) {
      for (int n = 0; n < steps; n++) {
        Map<String, INDArray> feed = trainingBatch(data, seed, n, batch);
        Map<String, INDArray> grads = sd.calculateGradients(feed, names);
        double loss = sd.outputSingle(feed, TrainingGraph.LOSS).getDouble(0);
        if (!Double.isFinite(loss)) throw new IllegalStateException("classifier loss became " + loss + " at step " + n);
        double clip = adam.clipScale(grads, 1.0);
        for (String name : names) adam.update(name, sd.getVariable(name).getArr(), grads.get(name), clip, lr, n + 1);
        feed.values().forEach(INDArray::close);
        if (n >= steps - 50) {
          tail += loss;
          tailCount++;
        }
        if (progress != null) progress.accept(n + 1);
      }
    }
    return tail / Math.max(1, tailCount);
  }

  private Map<String, INDArray> trainingBatch(ImageData data, long seed, long n, int batch) {
    double[][] rows = data.batch(seed, n, batch);
    int[] y = data.batchLabels(seed, n, batch);
    RowKeys keys = RowKeys.of(seed, 0, batch);
    double[] u = CounterNoise.uniformPerRow(keys, n, CounterNoise.TRAIN + 8);
    double[] z = new double[batch * dim()];
    double[] x = new double[batch * dim()];
    double[] t = new double[batch];
    for (int i = 0; i < batch; i++) {
      t[i] = i % 2 == 0 ? sde.tEps() : sde.tEps() + (1 - sde.tEps()) * u[i];
      CounterNoise.normals(seed, i, n, CounterNoise.TRAIN + 9, z, i * dim(), dim());
      double m = sde.meanCoeff(t[i]);
      double s = sde.std(t[i]);
      for (int k = 0; k < dim(); k++) x[i * dim() + k] = m * rows[i][k] + s * z[i * dim() + k];
    }
    return feed(x, t, y, batch);
  }

  private Map<String, INDArray> feed(double[] x, double[] t, int[] labels, int rows) {
    Map<String, INDArray> f = new HashMap<>();
    f.put("x", HostArrays.matrix(x, rows, dim(), DataType.FLOAT));
    f.put("cond", Sde.column(t, DataType.FLOAT, sde::networkCondition));
    float[] oh = new float[rows * classes];
    if (labels != null) for (int i = 0; i < rows; i++) oh[i * classes + labels[i]] = 1f;
    f.put("onehot", Nd4j.create(oh, new long[] {rows, classes}, DataType.FLOAT));
    return f;
  }

  /** Logits [n x K] of images x ([n x D] row-major, in [-1, 1]) at time t (t = sde.tEps() for clean images). */
  public double[] logits(double[] x, int rows, double t) {
    return output(x, rows, t, LOGITS);
  }

  /** The 64 features before the last layer, [n x 64], at time t. */
  public double[] features(double[] x, int rows, double t) {
    return output(x, rows, t, FEATS);
  }

  private double[] output(double[] x, int rows, double t, String name) {
    double[] ts = new double[rows];
    java.util.Arrays.fill(ts, t);
    Map<String, INDArray> f = feed(x, ts, null, rows);
    INDArray out = sd.outputSingle(f, name);
    double[] v = HostArrays.values(out);
    f.values().forEach(INDArray::close);
    return v;
  }

  /** grad_x log p_t(y_i | x_i) per row, [B, D] (x [B, D]); the classifier-guidance term of the score. */
  @Override
  public INDArray gradLogProb(INDArray x, double[] t, int[] labels) {
    // Outside any workspace: a sampler's tick runs in one that is reset every tick, and the guidance graph keeps
    // its x and its session's arrays from call to call (inside the tick's workspace this crashed the JVM).
    try (org.nd4j.linalg.api.memory.MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      return gradLogProbDetached(x, t, labels);
    }
  }

  private INDArray gradLogProbDetached(INDArray x, double[] t, int[] labels) {
    if (guidance == null) {
      guidance = build(0, true);
      params(guidance).forEach((name, a) -> a.assign(sd.getVariable(name).getArr()));
      guidance.getVariable("temb/fourier/w").getArr().assign(sd.getVariable("temb/fourier/w").getArr());
      TrainingGraph.createGradientsQuietly(guidance);
    }
    Map<String, INDArray> f = feed(HostArrays.values(x), t, labels, t.length);
    INDArray xs = f.remove("x");
    // The previous x is left to the garbage collector: SameDiff's session may still refer to it (closing it here
    // crashed the JVM in a native op).
    guidance.getVariable("x").setArray(xs);
    // d logp / dx through the graph whose loss is -mean logp: the gradient of the sum is -B times it.
    INDArray g = guidance.calculateGradients(f, "x").get("x");
    INDArray out = g.mul(-t.length).castTo(x.dataType());
    f.values().forEach(INDArray::close);
    return out;
  }

  private void closeGuidance() {
    if (guidance != null) {
      TrainingGraph.closeArrays(guidance);
      guidance = null;
    }
  }

  private void ensureGradients() {
    if (!gradients) {
      TrainingGraph.createGradientsQuietly(sd);
      gradients = true;
    }
  }

  /** Writes classifier.json and weights.bin under dir. */
  public void save(Path dir) {
    try {
      Files.createDirectories(dir);
      ObjectNode root = JSON.createObjectNode();
      root.put("format", "scorestream-classifier");
      root.put("version", 1);
      root.putArray("shape").add(channels).add(height).add(width);
      root.put("classes", classes);
      SdeJson.write(root.putObject("sde"), sde);
      Files.writeString(dir.resolve("classifier.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
      Map<String, INDArray> p = new LinkedHashMap<>(params());
      p.put("temb/fourier/w", sd.getVariable("temb/fourier/w").getArr());
      TensorFile.write(dir.resolve("weights.bin"), p);
    } catch (IOException e) {
      throw new CheckpointException("cannot write classifier to " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Reads a classifier {@link #save}d under dir. */
  public static NoisyClassifier load(Path dir) {
    Path desc = dir.resolve("classifier.json");
    if (!Files.isRegularFile(desc)) throw new CheckpointException("no classifier at " + dir + " (no classifier.json)");
    try {
      JsonNode root = JSON.readTree(Files.readString(desc));
      if (!"scorestream-classifier".equals(root.path("format").asText()) || root.path("version").asInt() != 1) {
        throw new CheckpointException(desc + ": not a version-1 scorestream classifier");
      }
      Sde sde = SdeJson.read(root.get("sde"));
      JsonNode shape = root.get("shape");
      NoisyClassifier c = create(new long[] {shape.get(0).asLong(), shape.get(1).asLong(), shape.get(2).asLong()},
          root.get("classes").asInt(), sde, 0);
      Map<String, INDArray> w = TensorFile.read(dir.resolve("weights.bin"));
      Map<String, INDArray> p = new LinkedHashMap<>(c.params());
      p.put("temb/fourier/w", c.sd.getVariable("temb/fourier/w").getArr());
      for (Map.Entry<String, INDArray> e : p.entrySet()) {
        INDArray a = w.get(e.getKey());
        if (a == null || !java.util.Arrays.equals(a.shape(), e.getValue().shape())) {
          throw new CheckpointException(dir.resolve("weights.bin") + ": missing or misshapen " + e.getKey());
        }
        e.getValue().assign(a);
      }
      return c;
    } catch (IOException | RuntimeException e) {
      if (e instanceof CheckpointException ce) throw ce;
      throw new CheckpointException(dir + ": corrupt classifier: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    closeGuidance();
    TrainingGraph.closeArrays(sd);
  }
}
