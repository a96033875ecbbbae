package io.scorestream.model.score;

import io.scorestream.model.sde.Sde;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Cos;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sin;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.api.ops.impl.transforms.strict.SwishDerivative;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The reference score network evaluated with plain INDArray calls on fixed weights: the sampling path (training
 * builds the same function in SameDiff, see {@code io.scorestream.model.train.MlpGraph}).
 *
 * <p>h_0 = [x, sin(2 pi c W), cos(2 pi c W)] with c = log sigma(t) for VE and c = t for VP and sub-VP;
 * h_{l+1} = SiLU(h_l W_l + b_l); out = h_L W_out + b_out. The score is out / sigma(t) for VE (Song and Ermon 2020,
 * technique 3) and -out / std(t) for VP and sub-VP (the network predicts the noise, Ho et al. 2020).
 *
 * <p>Thread-safe for calls on distinct threads (its buffers are per thread); the weights are never written.
 * {@link #close()} frees the buffers of every thread and the arrays derived from the weights, and the weights too
 * when the model {@link #owning owns} them (a sampler's copy of a published version). The buffers are held in a map
 * of this model, not in ThreadLocals: a ThreadLocal value that refers back to its model keeps the model and its
 * native buffers alive for as long as the thread lives, one set per replaced version (the leak this replaced).
 */
public final class MlpScoreModel implements ScoreModel {
  private static final double TWO_PI = 2 * Math.PI;

  private final NetworkWeights weights;
  private final MlpConfig config;
  private final Sde sde;
  private final INDArray fourier2Pi;
  private final INDArray[] w;
  private final INDArray[] b;
  private final INDArray wOut;
  private final INDArray bOut;
  private final INDArray wIn;
  private final boolean ownsWeights;
  private final Map<Thread, PerThread> perThread = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /** A model over weights the caller keeps owning (they must outlive it and not change). */
  public MlpScoreModel(NetworkWeights weights, Sde sde) {
    this(weights, sde, false);
  }

  /** A model that owns its weights: {@link #close()} frees them too. */
  public static MlpScoreModel owning(NetworkWeights weights, Sde sde) {
    return new MlpScoreModel(weights, sde, true);
  }

  private MlpScoreModel(NetworkWeights weights, Sde sde, boolean ownsWeights) {
    this.ownsWeights = ownsWeights;
    this.weights = weights;
    if (!(weights.config() instanceof MlpConfig c)) {
      throw new IllegalArgumentException("an MLP score model needs MLP weights, got " + weights.config().describe());
    }
    this.config = c;
    this.sde = sde;
    this.fourier2Pi = weights.get(MlpConfig.FOURIER).mul(TWO_PI);
    this.w = new INDArray[config.depth()];
    this.b = new INDArray[config.depth()];
    for (int l = 0; l < config.depth(); l++) {
      w[l] = weights.get(config.weightName(l));
      b[l] = weights.get(config.biasName(l));
    }
    this.wOut = weights.get(MlpConfig.OUT_W);
    this.bOut = weights.get(MlpConfig.OUT_B);
    // The rows of the first layer that multiply x: the tangent of the Fourier features with respect to x is zero.
    this.wIn = w[0].get(NDArrayIndex.interval(0, config.dim()), NDArrayIndex.all()).dup();
  }

  public NetworkWeights weights() { return weights; }

  public MlpConfig config() { return config; }

  @Override public Sde sde() { return sde; }

  @Override public int dim() { return config.dim(); }

  @Override public DataType dataType() { return DataType.FLOAT; }

  /** The per-row output scale: 1 / sigma(t) for VE, -1 / std(t) otherwise. */
  public static double outputScale(Sde sde, double t) {
    return NetworkConfig.outputScale(sde, t);
  }

  private INDArray input(INDArray x, double[] t) {
    INDArray cond = Sde.column(t, DataType.FLOAT, sde::networkCondition);
    INDArray proj = Nd4j.createUninitialized(DataType.FLOAT, t.length, fourier2Pi.size(1));
    Nd4j.gemm(cond, fourier2Pi, proj, false, false, 1.0, 0.0);
    return Nd4j.hstack(x.castTo(DataType.FLOAT), Transforms.sin(proj, true), Transforms.cos(proj, false));
  }

  /**
   * The forward pass into buffers kept per thread for the last batch size: every layer is a bias copy and one GEMM
   * accumulating into it (beta = 1), then an in-place SiLU. Measured on 2 cores: a GEMM into freshly allocated native
   * memory costs 2-4x one into reused memory (page faults); and every array ND4J 1.0.0-M2.1 creates, a broadcast
   * included, registers buffers with its deallocator service, whose backlog G1 copies at every young collection
   * (pauses of 100-250 ms at 130 registrations per tick). Reusing the arrays and the op contexts took the forward
   * pass from 58 registrations to 2 (the result). The result is a fresh [B, D] array in the caller's workspace, if
   * any.
   */
  @Override
  public INDArray score(INDArray x, double[] t) {
    checkInput(x, t);
    Buffers buf = buffersFor(t.length);
    int d = config.dim();
    for (int i = 0; i < t.length; i++) {
      buf.condValues[i] = (float) sde.networkCondition(t[i]);
      float scale = (float) outputScale(sde, t[i]);
      for (int j = 0; j < d; j++) buf.scaleValues[i * d + j] = scale;
    }
    buf.cond.data().setData(buf.condValues);
    buf.scale.data().setData(buf.scaleValues);
    Nd4j.exec(buf.matmul, buf.projection);
    buf.inX.assign(x);
    Nd4j.exec(new Sin(buf.proj, buf.inSin));
    Nd4j.exec(new Cos(buf.proj, buf.inCos));
    for (int l = 0; l < config.depth(); l++) {
      buf.z[l].assign(buf.bias[l]);
      Nd4j.exec(buf.matmul, buf.layers[l]);
      Nd4j.exec(new Swish(buf.z[l], buf.z[l]));
    }
    buf.out.assign(buf.biasOut);
    Nd4j.exec(buf.matmul, buf.output);
    Nd4j.exec(buf.multiply, buf.scaling);
    return buf.scaled.dup().castTo(x.dataType());
  }

  /**
   * The forward pass's arrays for one batch size, and an op context per matrix product and for the output scaling,
   * built once: an op context made per call, as {@code Nd4j.gemm} does, is a registration, and a column broadcast
   * ten (counted). The arrays are views of the first rows of a {@link Slab}, so a new batch size allocates nothing
   * (fresh native memory for every size cost 4-6 ms a change, measured).
   */
  private final class Buffers {
    final int rows;
    final float[] condValues;
    final float[] scaleValues;
    final INDArray cond;
    final INDArray scale;
    final INDArray proj;
    final INDArray inX;
    final INDArray inSin;
    final INDArray inCos;
    final INDArray[] z;
    final INDArray[] bias;
    final INDArray out;
    final INDArray biasOut;
    final INDArray scaled;
    final Mmul matmul = new Mmul();
    final MulOp multiply = new MulOp();
    final OpContext projection;
    final OpContext[] layers;
    final OpContext output;
    final OpContext scaling;

    Buffers(Slab slab, int rows) {
      this.rows = rows;
      try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
        int d = config.dim();
        long f = fourier2Pi.size(1);
        condValues = new float[rows];
        scaleValues = new float[rows * d];
        cond = Slab.rows(slab.cond, rows, 1);
        scale = Slab.rows(slab.scale, rows, d);
        proj = Slab.rows(slab.proj, rows, f);
        INDArray h0 = Slab.rows(slab.h0, rows, d + 2 * f);
        inX = h0.get(NDArrayIndex.all(), NDArrayIndex.interval(0, d));
        inSin = h0.get(NDArrayIndex.all(), NDArrayIndex.interval(d, d + f));
        inCos = h0.get(NDArrayIndex.all(), NDArrayIndex.interval(d + f, d + 2 * f));
        z = new INDArray[config.depth()];
        bias = new INDArray[config.depth()];
        layers = new OpContext[config.depth()];
        projection = product(cond, fourier2Pi, proj, 0.0);
        INDArray h = h0;
        for (int l = 0; l < config.depth(); l++) {
          z[l] = Slab.rows(slab.z[l], rows, w[l].size(1));
          bias[l] = Slab.rows(slab.bias[l], rows, w[l].size(1));
          layers[l] = product(h, w[l], z[l], 1.0);
          h = z[l];
        }
        out = Slab.rows(slab.out, rows, wOut.size(1));
        biasOut = Slab.rows(slab.biasOut, rows, wOut.size(1));
        output = product(h, wOut, out, 1.0);
        scaled = Slab.rows(slab.scaled, rows, d);
        scaling = Nd4j.getExecutioner().buildContext();
        scaling.allowHelpers(false);
        scaling.setInputArrays(out, scale);
        scaling.setOutputArrays(scaled);
      }
    }

    void close() {
      closeContext(projection);
      for (OpContext c : layers) closeContext(c);
      closeContext(output);
      closeContext(scaling);
    }

    /**
     * A context for c = a b + beta c (libnd4j's matmul: t-args alpha, beta; i-args: no transposes), without platform
     * helpers: oneDNN's matmul (the default CPU build's) cost 4x libnd4j's own at batch 1 (453 vs 115 us a step,
     * measured), while the U-Net's convolutions gain 3x from it.
     */
    private OpContext product(INDArray a, INDArray b, INDArray c, double beta) {
      OpContext ctx = Nd4j.getExecutioner().buildContext();
      ctx.allowHelpers(false);
      ctx.setInputArrays(a, b);
      ctx.setOutputArrays(c);
      ctx.setTArguments(1.0, beta);
      ctx.setIArguments(0, 0, 0);
      return ctx;
    }
  }

  /**
   * Flat native arrays for up to capacity rows of every activation, outside any workspace, with the biases repeated
   * over all rows once; {@link Buffers} view their first rows. Grows (doubling) when a batch exceeds it.
   */
  private final class Slab {
    final int capacity;
    final INDArray cond;
    final INDArray scale;
    final INDArray proj;
    final INDArray h0;
    final INDArray[] z;
    final INDArray[] bias;
    final INDArray out;
    final INDArray biasOut;
    final INDArray scaled;

    Slab(int capacity) {
      this.capacity = capacity;
      try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
        int d = config.dim();
        long f = fourier2Pi.size(1);
        cond = Nd4j.create(DataType.FLOAT, capacity);
        scale = Nd4j.create(DataType.FLOAT, (long) capacity * d);
        proj = Nd4j.create(DataType.FLOAT, capacity * f);
        h0 = Nd4j.create(DataType.FLOAT, capacity * (d + 2 * f));
        z = new INDArray[config.depth()];
        bias = new INDArray[config.depth()];
        for (int l = 0; l < config.depth(); l++) {
          z[l] = Nd4j.create(DataType.FLOAT, capacity * w[l].size(1));
          bias[l] = repeated(b[l], capacity);
        }
        out = Nd4j.create(DataType.FLOAT, capacity * wOut.size(1));
        biasOut = repeated(bOut, capacity);
        scaled = Nd4j.create(DataType.FLOAT, (long) capacity * d);
      }
    }

    private java.util.List<INDArray> arrays() {
      java.util.List<INDArray> all = new java.util.ArrayList<>(java.util.List.of(cond, scale, proj, h0, out, biasOut,
          scaled));
      all.addAll(java.util.Arrays.asList(z));
      all.addAll(java.util.Arrays.asList(bias));
      return all;
    }

    long bytes() {
      long n = 0;
      for (INDArray a : arrays()) n += a.length() * a.dataType().width();
      return n;
    }

    void close() {
      for (INDArray a : arrays()) a.close();
    }

    /** The row vector v repeated over rows rows, flat. */
    private INDArray repeated(INDArray v, int rows) {
      INDArray flat = Nd4j.create(DataType.FLOAT, (long) rows * v.length());
      flat.reshape(rows, v.length()).addiRowVector(v);
      return flat;
    }

    /** The first rows x cols values of a flat slab array as a [rows, cols] 'c' view. */
    static INDArray rows(INDArray flat, long rows, long cols) {
      return flat.get(NDArrayIndex.interval(0, rows * cols)).reshape('c', rows, cols);
    }
  }

  /** A thread's slab and its views (with their op contexts) for recent batch sizes, least recently used first. */
  private static final class PerThread {
    Slab slab;
    Buffers last;
    final LinkedHashMap<Integer, Buffers> bySize = new LinkedHashMap<>(16, 0.75f, true);

    void clearViews() {
      for (Buffers b : bySize.values()) b.close();
      bySize.clear();
      last = null;
    }
  }

  private static void closeContext(OpContext ctx) {
    try {
      ctx.close();
    } catch (Exception e) {
      throw new IllegalStateException("closing an op context failed", e);
    }
  }

  /** Op-context sets kept per thread, one per recent batch size (a continuous batch changes size often). */
  private static final int MAX_SIZES = 64;

  /** This thread's buffers for a batch of rows, built (and the slab grown) when the size is new. */
  private Buffers buffersFor(int rows) {
    PerThread pt = perThread.computeIfAbsent(Thread.currentThread(), t -> new PerThread());
    if (pt.last != null && pt.last.rows == rows) return pt.last;
    Buffers buf = pt.bySize.get(rows);
    if (buf == null) {
      if (pt.slab == null || pt.slab.capacity < rows) {
        int capacity = Math.max(rows, pt.slab == null ? 0 : 2 * pt.slab.capacity);
        pt.clearViews();
        if (pt.slab != null) pt.slab.close();
        pt.slab = new Slab(capacity);
      }
      buf = new Buffers(pt.slab, rows);
      pt.bySize.put(rows, buf);
      if (pt.bySize.size() > MAX_SIZES) {
        Iterator<Map.Entry<Integer, Buffers>> eldest = pt.bySize.entrySet().iterator();
        eldest.next().getValue().close();
        eldest.remove();
      }
    }
    pt.last = buf;
    return buf;
  }

  /** Native bytes of this model's buffers on all threads (the weights not counted). */
  public long bufferBytes() {
    long n = 0;
    for (PerThread pt : perThread.values()) if (pt.slab != null) n += pt.slab.bytes();
    return n;
  }

  /**
   * Frees every thread's buffers and op contexts, the derived arrays, and the weights when owned. Call when no
   * thread is inside {@link #score} and none will call again (the sampler that owns the model does, on a swap).
   */
  @Override
  public void close() {
    if (closed) return;
    closed = true;
    for (PerThread pt : perThread.values()) {
      pt.clearViews();
      if (pt.slab != null) pt.slab.close();
    }
    perThread.clear();
    fourier2Pi.close();
    wIn.close();
    if (ownsWeights) weights.close();
  }

  @Override
  public ScoreJvp scoreJvp(INDArray x, double[] t, INDArray v) {
    checkInput(x, t);
    INDArray h = input(x, t);
    INDArray dz = v.castTo(DataType.FLOAT).mmul(wIn);
    INDArray dh = null;
    for (int l = 0; l < config.depth(); l++) {
      INDArray z = h.mmul(w[l]).addiRowVector(b[l]);
      if (l > 0) dz = dh.mmul(w[l]);
      INDArray slope = Nd4j.exec(new SwishDerivative(z.dup()));
      dh = dz.muli(slope);
      h = Nd4j.exec(new Swish(z, z));
    }
    INDArray scale = Sde.column(t, DataType.FLOAT, tt -> outputScale(sde, tt));
    INDArray out = h.mmul(wOut).addiRowVector(bOut).muliColumnVector(scale);
    INDArray jvp = dh.mmul(wOut).muliColumnVector(scale);
    return new ScoreJvp(out.castTo(x.dataType()), jvp.castTo(x.dataType()));
  }

  private void checkInput(INDArray x, double[] t) {
    if (closed) throw new IllegalStateException("model closed: " + describe());
    if (x.rank() != 2 || x.size(1) != config.dim()) {
      throw new IllegalArgumentException("expected x of shape [B, " + config.dim() + "], got "
          + java.util.Arrays.toString(x.shape()));
    }
    if (t.length != x.size(0)) throw new IllegalArgumentException("expected " + x.size(0) + " time values");
  }

  @Override
  public String describe() {
    return "mlp(width=" + config.width() + ", depth=" + config.depth() + ") over " + sde.describe();
  }
}
