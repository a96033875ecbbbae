package io.scorestream.model.train;

import io.scorestream.model.data.DataSource;
import io.scorestream.model.noise.CounterNoise;
import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.score.HostArrays;
import io.scorestream.model.score.NetworkConfig;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.score.WeightsSnapshot;
import io.scorestream.model.sde.NoiseLadders;
import io.scorestream.model.sde.Sde;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Trains a score network (any {@link NetworkConfig}): one Adam step (Kingma and Ba 2015) per batch with linear learning-rate warm-up and
 * global gradient-norm clipping, and an exponential moving average of the weights (decay min(d, (1+n)/(10+n)))
 * that sampling and evaluation use. Every draw of step n is a pure function of (seed, n), so resuming from a
 * checkpoint of step n continues exactly where training stopped. A class-conditional network is fed each row's label,
 * replaced by the null label with probability {@link TrainConfig#labelDropout()}. Confined to one thread.
 */
public final class ScoreTrainer {
  private final NetworkConfig config;
  private final Sde sde;
  private final TrainConfig train;
  private final DataSource data;
  private final TrainingGraph graph;
  private final List<String> trainable;
  private final Adam adam;
  private final Map<String, INDArray> ema = new LinkedHashMap<>();
  /** The frozen parameters (Fourier frequencies), copied once. */
  private final Map<String, INDArray> frozen = new LinkedHashMap<>();
  private final Map<Thread, StepArena> arenas = new HashMap<>();
  private final double[] smldSigmas;
  /** Times for the importance-sampled likelihood weighting, or null. */
  private final ImportanceTimes importanceTimes;
  private long step;
  private boolean closed;

  /** A fresh trainer from initial weights. */
  public ScoreTrainer(NetworkWeights init, Sde sde, TrainConfig train, DataSource data) {
    this(init, sde, train, data, null, 0);
  }

  /** Resumes from a saved state (a checkpoint). */
  public ScoreTrainer(NetworkWeights weights, Sde sde, TrainConfig train, DataSource data, TrainerState state, long step) {
    this.config = weights.config();
    if (data.dim() != config.dim()) {
      throw new IllegalArgumentException("data has D = " + data.dim() + " but the network expects D = " + config.dim());
    }
    if (config.classes() > 0 && data.classes() != config.classes()) {
      throw new IllegalArgumentException("the network is conditioned on " + config.classes() + " classes but the data "
          + (data.classes() == 0 ? "has no labels" : "has " + data.classes()));
    }
    checkObjective(train.objective(), sde);
    this.sde = sde;
    this.train = train;
    this.data = data;
    this.graph = config.trainingGraph(weights, train.objective(), train.varianceReduced());
    this.trainable = NetworkWeights.trainableNames(config);
    for (String name : config.frozen()) frozen.put(name, weights.get(name).dup());
    Map<String, INDArray> params = new LinkedHashMap<>();
    for (String name : trainable) {
      INDArray p = graph.param(name);
      params.put(name, p);
      ema.put(name, state == null ? p.dup() : state.ema().get(name).dup());
    }
    this.adam = new Adam(params, state == null ? null : state.adamM(), state == null ? null : state.adamV());
    this.step = step;
    double sigMin = sde.kind() == Sde.Kind.VE ? sde.std(0) : 0.01;
    this.smldSigmas = NoiseLadders.geometricSigmas(sde.priorStd(), sigMin, train.smldLevels());
    this.importanceTimes = train.importanceSampling() ? new ImportanceTimes(sde, train.minTime(sde)) : null;
  }

  /** Refuses objective and SDE pairs that do not make sense, with a message saying what would. */
  public static void checkObjective(Objective objective, Sde sde) {
    if (objective == Objective.SMLD && sde.kind() != Sde.Kind.VE) {
      throw new IllegalArgumentException("the smld loss trains over the NCSN sigma ladder and needs --sde ve");
    }
    if (objective == Objective.DDPM && sde.kind() == Sde.Kind.VE) {
      throw new IllegalArgumentException("the ddpm loss predicts the noise of a VP process and needs --sde vp or subvp");
    }
  }

  public long step() { return step; }

  public Sde sde() { return sde; }

  public TrainConfig trainConfig() { return train; }

  public NetworkConfig config() { return config; }

  public DataSource data() { return data; }

  /**
   * One optimizer step on the batch of step n; returns the loss before the update. Allocates no native memory once
   * the first step has seen the shapes: SameDiff's intermediates come from a {@link StepArena}, the batch's arrays
   * are closed at the end, and the Adam and EMA arithmetic runs in place in two scratch arrays per parameter.
   */
  public double trainStep() {
    if (closed) throw new IllegalStateException("trainer closed");
    StepArena arena = arena();
    arena.begin();
    Map<String, INDArray> feed = batch(step);
    try {
      OutAndGrad og = graph.sameDiff().calculateGradientsAndOutputs(feed, List.of(TrainingGraph.LOSS), trainable);
      double loss = og.getOutputs().get(TrainingGraph.LOSS).getDouble(0);
      if (!Double.isFinite(loss)) {
        throw new IllegalStateException("loss became " + loss + " at step " + step + "; lower --lr or check the data");
      }
      update(og.getGradients());
      step++;
      return loss;
    } finally {
      for (INDArray a : feed.values()) a.close();
    }
  }

  /** Adam with bias correction, global-norm clipping and the EMA, in place (the same arithmetic in the same order). */
  private void update(Map<String, INDArray> grads) {
    double clipScale = adam.clipScale(grads, train.gradClip());
    long n = step + 1;
    double lr = train.learningRateAt(step);
    double decay = train.emaDecayAt(step);
    for (String name : trainable) {
      INDArray p = graph.param(name);
      INDArray tmp = adam.update(name, p, grads.get(name), clipScale, lr, n);
      ema.get(name).muli(decay).addi(tmp.assign(p).muli(1 - decay));
    }
  }

  /** The arena of the gradient session on this thread (SameDiff keeps one session per thread). */
  private StepArena arena() {
    Thread current = Thread.currentThread();
    StepArena a = arenas.get(current);
    if (a == null) {
      a = StepArena.install(graph.sameDiff().getFunction("grad"));
      arenas.put(current, a);
    }
    return a;
  }

  /**
   * Frees the native memory this trainer holds (arenas, optimizer state, EMA, scratch, the graph's parameters); it
   * cannot step afterwards. Copies handed out before (weights, snapshots, state) stay valid.
   */
  public void close() {
    if (closed) return;
    closed = true;
    for (StepArena a : arenas.values()) a.close();
    arenas.clear();
    adam.close();
    ema.values().forEach(INDArray::close);
    frozen.values().forEach(INDArray::close);
    graph.close();
  }

  /** The loss of step n's batch at the current weights, without updating (for tests and evaluation). */
  public double lossAt(long n) {
    Map<String, INDArray> feed = batch(n);
    try {
      INDArray loss = graph.sameDiff().output(feed, TrainingGraph.LOSS).get(TrainingGraph.LOSS);
      double value = loss.getDouble(0);
      loss.close();
      return value;
    } finally {
      for (INDArray a : feed.values()) a.close();
    }
  }

  /** The placeholders of step n: data, times and noise all keyed by (seed, n). */
  Map<String, INDArray> batch(long n) {
    int bsz = train.batchSize();
    int d = config.dim();
    double[][] rows = data.batch(train.seed(), n, bsz);
    INDArray x0 = HostArrays.matrix(flatten(rows, d), bsz, d, DataType.FLOAT);
    RowKeys keys = RowKeys.of(train.seed(), 0, bsz);
    double[] u = CounterNoise.uniformPerRow(keys, n, CounterNoise.TRAIN);
    INDArray z = CounterNoise.normal(keys, n, CounterNoise.TRAIN + 1, d, DataType.FLOAT);
    double[] t = new double[bsz];
    double[] weight = new double[bsz];
    double eps = train.minTime(sde);
    for (int i = 0; i < bsz; i++) {
      switch (train.objective()) {
        case SMLD -> t[i] = sde.timeForStd(smldSigmas[Math.min((int) (u[i] * smldSigmas.length), smldSigmas.length - 1)]);
        case DDPM -> t[i] = Math.max(1, Math.ceil(u[i] * 1000)) / 1000.0;
        default -> t[i] = importanceTimes != null ? importanceTimes.time(u[i]) : eps + (1 - eps) * u[i];
      }
      double std = sde.std(t[i]);
      double g = sde.diffusion(t[i]);
      // Importance-sampled likelihood weighting: g^2 / p(t) = Z std^2, the constant Z dropped.
      boolean gSquared = train.objective() == Objective.DSM && train.likelihoodWeight() && importanceTimes == null;
      weight[i] = gSquared ? g * g : std * std;
    }
    INDArray xt = sde.perturb(x0, t, z);
    x0.close();
    Map<String, INDArray> feed = new HashMap<>();
    feed.put("x", xt);
    feed.put("cond", Sde.column(t, DataType.FLOAT, sde::networkCondition));
    feed.put("scale", Sde.column(t, DataType.FLOAT, tt -> NetworkConfig.outputScale(sde, tt)));
    feed.put("weight", HostArrays.column(weight, DataType.FLOAT));
    switch (train.objective()) {
      case DSM, SMLD, DDPM -> {
        INDArray std = sde.std(t, DataType.FLOAT);
        feed.put("target", z.divColumnVector(std).negi());
        std.close();
      }
      case SSM -> feed.put("v", train.rademacher()
          ? CounterNoise.rademacher(keys, n, CounterNoise.TRAIN + 2, d, DataType.FLOAT)
          : CounterNoise.normal(keys, n, CounterNoise.TRAIN + 2, d, DataType.FLOAT));
      case ESM -> { }
      default -> throw new IllegalStateException();
    }
    z.close();
    if (config.classes() > 0) feed.put("label", labels(keys, n, bsz));
    return feed;
  }

  /** One-hot labels [B, K + 1] of step n's rows, each replaced by the null label (column K) with the dropout. */
  private INDArray labels(RowKeys keys, long n, int bsz) {
    int k = config.classes();
    int[] y = data.batchLabels(train.seed(), n, bsz);
    double[] drop = CounterNoise.uniformPerRow(keys, n, CounterNoise.TRAIN + 3);
    float[] oneHot = new float[bsz * (k + 1)];
    for (int i = 0; i < bsz; i++) {
      int label = drop[i] < train.labelDropout() ? k : y[i];
      oneHot[i * (k + 1) + label] = 1f;
    }
    return org.nd4j.linalg.factory.Nd4j.create(oneHot, new long[] {bsz, k + 1}, DataType.FLOAT);
  }

  private static double[] flatten(double[][] rows, int d) {
    double[] v = new double[rows.length * d];
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].length != d) throw new IllegalArgumentException("batch row of width " + rows[i].length + ", expected " + d);
      System.arraycopy(rows[i], 0, v, i * d, d);
    }
    return v;
  }

  /** A copy of the current (raw) weights. */
  public NetworkWeights weights() {
    return snapshot(name -> graph.param(name));
  }

  /** A copy of the EMA weights: what sampling and evaluation use. */
  public NetworkWeights emaWeights() {
    return snapshot(ema::get);
  }

  /** The EMA weights copied to the heap: what a published version carries (no native memory). */
  public WeightsSnapshot emaSnapshot() {
    Map<String, INDArray> p = new LinkedHashMap<>();
    p.putAll(frozen);
    for (String name : trainable) p.put(name, ema.get(name));
    return WeightsSnapshot.of(config, p);
  }

  private NetworkWeights snapshot(java.util.function.Function<String, INDArray> source) {
    Map<String, INDArray> p = new LinkedHashMap<>();
    frozen.forEach((name, a) -> p.put(name, a.dup()));
    for (String name : trainable) p.put(name, source.apply(name).dup());
    return new NetworkWeights(config, p);
  }

  /** Copies of the optimizer state and EMA, for checkpoints. */
  public TrainerState state() {
    Map<String, INDArray> e = new LinkedHashMap<>();
    for (String name : trainable) e.put(name, ema.get(name).dup());
    return new TrainerState(adam.firstMoments(), adam.secondMoments(), e);
  }

  /** Adam's first and second moments and the EMA of the weights, by parameter name. */
  public record TrainerState(Map<String, INDArray> adamM, Map<String, INDArray> adamV, Map<String, INDArray> ema) {}
}
