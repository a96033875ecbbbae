package io.scorestream.model.nn;

import io.scorestream.model.score.NetworkWeights;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The U-Net's forward pass outside SameDiff: the function {@link UNetGraph} builds (the same blocks, the same
 * parameters by name), computed on the host. The 3x3 stride-1 convolutions with at least
 * {@link #WINOGRAD_MIN_CHANNELS} input channels go by Winograd's F(2, 3) along the image's columns (6 cin
 * multiply-adds per output pixel instead of 9 cin); the others (the stem, the strided downsampling, the 1x1 skips)
 * are direct convolutions; both through {@link FloatKernels#conv} (SIMD through the Vector API). Group norm is fused
 * with the embedding addition before it and the SiLU after it; the time and class embedding, the upsampling with the
 * concatenation and the output scale are loops over bulk copies. Each row of a chunk goes through all of these
 * stages on one thread (rows in parallel over the common fork-join pool), so threads meet once per pass, and its
 * activations are that thread's one-row arrays, reused row after row and kept in its core's cache. Only the optional
 * attention block calls libnd4j (its 1x1 convolutions, batched matmul and softmax through op contexts bound once per
 * chunk size), over the whole chunk between two runs of per-row stages; with it, every activation is a view of a
 * per-thread native slab of {@link #MAX_CHUNK} rows. Measured (BENCHMARKS.md, "Image models"): a SameDiff output
 * call took 66 ms at batch 1 (a few hundred graph ops, each an executor call), libnd4j's conv2d through oneDNN with
 * host group norm 7.8 ms on that machine, this about 0.65 ms on an AMD EPYC core.
 *
 * <p>A batch is computed in chunks of at most {@link #MAX_CHUNK} rows (every row is independent: group norm is per
 * sample), so a thread's native buffers are bounded whatever the batch; a new chunk size allocates nothing but, with
 * attention, its op contexts (the last {@link #MAX_SIZES} sizes' are kept). Float32 throughout, as the graph; without
 * attention a row's result does not depend on the JIT's state, the thread it ran on or the rest of its batch (see
 * {@link FloatKernels}); it does depend on the kernels in use (vector or plain) and the vector width, which change
 * the order of group norm's sums. Calls on one thread at a time per thread; {@link #close()} frees every native
 * array.
 */
final class UNetForward implements AutoCloseable {
  /** The most rows one pass computes at once; larger batches are cut into chunks of this size. */
  static final int MAX_CHUNK = 128;
  /** Op-context sets kept per thread, one per recent chunk size. */
  private static final int MAX_SIZES = 16;

  private final UNetConfig c;
  private final int emb;
  private final int freqs;
  /** Host copies of the small dense parameters (embedding MLP, class table, per-block embedding projections). */
  private final Map<String, float[]> host = new LinkedHashMap<>();
  /** The convolution weights by layer as {@link FloatKernels#conv} reads them, [cout, cin, k, k]. */
  private final Map<String, float[]> hostConvWeights = new LinkedHashMap<>();
  /** The 3x3 convolutions' weights transformed for {@link Buffers#winogradConv}, U_i = (G g)_i, by layer. */
  private final Map<String, float[][]> winograd = new ConcurrentHashMap<>();
  /**
   * Each thread's zero-padded Winograd input planes by input shape (cin, hh, ww): a stage writes only their interior,
   * and a thread runs one stage at a time.
   */
  private final Map<List<Integer>, ThreadLocal<float[]>> zeroPadded = new ConcurrentHashMap<>();
  /** Each thread's one-row activations by name and size ({@link Buffers#act}). */
  private final Map<String, ThreadLocal<float[]>> rowLocal = new ConcurrentHashMap<>();
  /** Native copies of the convolution weights and biases. */
  private final Map<String, INDArray> convs = new LinkedHashMap<>();
  private final Map<Thread, PerThread> threads = new ConcurrentHashMap<>();
  private volatile boolean closed;

  UNetForward(NetworkWeights weights) {
    if (!(weights.config() instanceof UNetConfig u)) {
      throw new IllegalArgumentException("U-Net weights expected, got " + weights.config().describe());
    }
    this.c = u;
    this.emb = 4 * u.base();
    this.freqs = u.base() / 2;
    try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      java.util.Set<String> convPrefixes = new java.util.HashSet<>();
      weights.asMap().forEach((name, a) -> {
        if (name.endsWith("/w") && a.rank() == 4) convPrefixes.add(name.substring(0, name.length() - 2));
      });
      for (Map.Entry<String, INDArray> e : weights.asMap().entrySet()) {
        String name = e.getKey();
        int slash = name.lastIndexOf('/');
        if (slash > 0 && convPrefixes.contains(name.substring(0, slash))) {
          convs.put(name, e.getValue().castTo(DataType.FLOAT).dup('c'));
          if (name.endsWith("/w")) hostConvWeights.put(name.substring(0, slash), byOutputChannel(e.getValue()));
          else host.put(name, e.getValue().castTo(DataType.FLOAT).dup('c').data().asFloat());
        } else {
          host.put(name, e.getValue().castTo(DataType.FLOAT).dup('c').data().asFloat());
        }
      }
    }
  }

  /**
   * The score of rows of x.
   *
   * @param x      [rows * D] flat images, row-major
   * @param cond   the network condition of each row (the Fourier features' input)
   * @param scale  the output scale of each row (1 / sigma for VE, -1 / std for VP)
   * @param labels each row's class, K for the null label; null for an unconditional network
   * @return [rows * D] scores
   */
  float[] forward(float[] x, float[] cond, float[] scale, int[] labels, int rows) {
    if (closed) throw new IllegalStateException("model closed");
    PerThread pt = threads.computeIfAbsent(Thread.currentThread(), t -> new PerThread());
    int d = c.dim();
    float[] out = new float[rows * d];
    for (int from = 0; from < rows; from += MAX_CHUNK) {
      int n = Math.min(MAX_CHUNK, rows - from);
      Buffers b = pt.buffers(n);
      b.x.data().asNioFloat().put(x, from * d, n * d);
      float[] e = embedding(cond, labels, from, n);
      b.run(e);
      b.out.data().asNioFloat().get(0, out, from * d, n * d);
      for (int r = 0; r < n; r++) FloatKernels.INSTANCE.affine(out, (from + r) * d, d, scale[from + r], 0f, false);
    }
    return out;
  }

  /**
   * U_i[co][ci * 3 + kx] = sum over ky of G[i][ky] g[co][ci][ky][kx], G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2,
   * 1/2], [0, 0, 1]] (Winograd F(2, 3)'s kernel transform along the kernel's rows), computed in double.
   */
  private float[][] winogradWeights(String name, int cin, int cout) {
    return winograd.computeIfAbsent(name, n -> {
      float[] g = hostConvWeights.get(n);
      double[][] gm = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
      float[][] u = new float[4][cout * cin * 3];
      for (int i = 0; i < 4; i++) {
        for (int co = 0; co < cout; co++) {
          for (int ci = 0; ci < cin; ci++) {
            for (int kx = 0; kx < 3; kx++) {
              double acc = 0;
              for (int ky = 0; ky < 3; ky++) acc += gm[i][ky] * g[((co * cin + ci) * 3 + ky) * 3 + kx];
              u[i][(co * cin + ci) * 3 + kx] = (float) acc;
            }
          }
        }
      }
      return u;
    });
  }

  /** The graph's [k, k, cin, cout] convolution weights as [cout, cin, k, k]. */
  private static float[] byOutputChannel(INDArray w) {
    float[] src = w.castTo(DataType.FLOAT).dup('c').data().asFloat();
    int k = (int) w.size(0);
    int cin = (int) w.size(2);
    int cout = (int) w.size(3);
    float[] out = new float[src.length];
    for (int ky = 0; ky < k; ky++) {
      for (int kx = 0; kx < k; kx++) {
        for (int ci = 0; ci < cin; ci++) {
          for (int co = 0; co < cout; co++) {
            out[((co * cin + ci) * k + ky) * k + kx] = src[((ky * k + kx) * cin + ci) * cout + co];
          }
        }
      }
    }
    return out;
  }

  /** e = Dense(SiLU(Dense([sin 2 pi W c, cos 2 pi W c]))) + table[label], [n, emb] row-major (host). */
  private float[] embedding(float[] cond, int[] labels, int from, int n) {
    float[] w = host.get(UNetConfig.FOURIER);
    float[] f = new float[n * 2 * freqs];
    for (int r = 0; r < n; r++) {
      for (int k = 0; k < freqs; k++) {
        double angle = cond[from + r] * w[k];
        f[r * 2 * freqs + k] = (float) Math.sin(angle);
        f[r * 2 * freqs + freqs + k] = (float) Math.cos(angle);
      }
    }
    float[] e1 = dense(f, n, 2 * freqs, "temb/d1");
    FloatKernels.INSTANCE.silu(e1, 0, e1.length);
    float[] e = dense(e1, n, emb, "temb/d2");
    if (c.classes() > 0) {
      float[] table = host.get("cemb/w");
      for (int r = 0; r < n; r++) {
        int y = labels[from + r];
        for (int k = 0; k < emb; k++) e[r * emb + k] += table[y * emb + k];
      }
    }
    return e;
  }

  /** in [n, inDim] times name/w [inDim, out] plus name/b: [n, out] (host). */
  private float[] dense(float[] in, int n, int inDim, String name) {
    float[] w = host.get(name + "/w");
    float[] bias = host.get(name + "/b");
    int out = bias.length;
    float[] y = new float[n * out];
    for (int r = 0; r < n; r++) {
      for (int o = 0; o < out; o++) y[r * out + o] = bias[o];
      for (int i = 0; i < inDim; i++) {
        float v = in[r * inDim + i];
        if (v == 0) continue;
        int wi = i * out;
        for (int o = 0; o < out; o++) y[r * out + o] += v * w[wi + o];
      }
    }
    return y;
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    for (PerThread pt : threads.values()) pt.close();
    threads.clear();
    convs.values().forEach(INDArray::close);
  }

  // ---- per-thread buffers ----

  /**
   * Flat native arrays for {@link #MAX_CHUNK} rows of every activation, outside any workspace; {@link Buffers} view
   * their first rows.
   */
  private final class Slab {
    final Map<String, INDArray> arrays = new LinkedHashMap<>();

    INDArray get(String name, long perRow) {
      return arrays.computeIfAbsent(name, k -> {
        try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
          return Nd4j.create(DataType.FLOAT, MAX_CHUNK * perRow);
        }
      });
    }

    void close() {
      arrays.values().forEach(INDArray::close);
      arrays.clear();
    }
  }

  private final class PerThread {
    final Slab slab = new Slab();
    final LinkedHashMap<Integer, Buffers> bySize = new LinkedHashMap<>(16, 0.75f, true);

    Buffers buffers(int n) {
      Buffers b = bySize.get(n);
      if (b == null) {
        if (bySize.size() >= MAX_SIZES) {
          Integer eldest = bySize.keySet().iterator().next();
          bySize.remove(eldest).close();
        }
        b = new Buffers(slab, n);
        bySize.put(n, b);
      }
      return b;
    }

    void close() {
      for (Buffers b : bySize.values()) b.close();
      bySize.clear();
      slab.close();
    }
  }

  /** This thread's one-row array of size floats for the activation key. */
  private ThreadLocal<float[]> rowLocal(String key, int size) {
    return rowLocal.computeIfAbsent(key, k -> ThreadLocal.withInitial(() -> new float[size]));
  }

  /**
   * Where a host stage reads and writes one row of an activation: the chunk's native array (rows at r * perRow), or
   * the running thread's one-row array (every row in turn).
   */
  private static final class Act {
    private final INDArray array;
    private final FloatBuffer chunk;
    private final ThreadLocal<float[]> local;
    private final int perRow;

    /** The rows of a [n, ...] native view. */
    Act(INDArray array) {
      this.array = array;
      this.chunk = array.data().asNioFloat();
      this.local = null;
      this.perRow = (int) (array.length() / array.size(0));
    }

    /** A per-thread row. */
    Act(ThreadLocal<float[]> local) {
      this.array = null;
      this.chunk = null;
      this.local = local;
      this.perRow = -1;
    }

    /** The native view (the activations a whole-chunk step reads or writes). */
    INDArray array() {
      if (array == null) throw new IllegalStateException("a per-thread activation has no native view");
      return array;
    }

    /** This thread's row array when the activation is per-thread (read and written in place), else null. */
    float[] local() {
      return local == null ? null : local.get();
    }

    /** Values [off, off + len) of row r into dst at at. */
    void get(int r, int off, float[] dst, int at, int len) {
      if (chunk != null) chunk.get(r * perRow + off, dst, at, len);
      else System.arraycopy(local.get(), off, dst, at, len);
    }

    /** src[at, at + len) into values [off, off + len) of row r. */
    void put(int r, int off, float[] src, int at, int len) {
      if (chunk != null) chunk.put(r * perRow + off, src, at, len);
      else System.arraycopy(src, at, local.get(), off, len);
    }
  }

  /** A conv2d (or matmul, softmax) call with its arrays bound once. */
  private record Bound(CustomOp op, OpContext ctx) {
    void run() {
      Nd4j.exec(op, ctx);
    }
  }

  /**
   * The activations of one chunk size as views of the slab, and every call of the pass bound to them: the order of
   * {@link #run} is the order of {@link UNetGraph#build}.
   */
  private final class Buffers {
    final int n;
    final int h;
    final int w;
    final INDArray x;
    final INDArray out;
    private final List<Segment> segments = new ArrayList<>();
    private final List<String> projectionNames = new ArrayList<>();
    private float[][] projections = new float[0][];
    private final List<OpContext> contexts = new ArrayList<>();
    private final Slab slab;

    Buffers(Slab slab, int n) {
      this.slab = slab;
      this.n = n;
      this.h = c.height();
      this.w = c.width();
      int base = c.base();
      int ch = c.channels();
      try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
        x = view("x", ch, h, w);
        Act h0 = act("h0", base, h, w);
        perRow(hostConv("stem", new Act(x), h0, ch, base, h, w, 1, null));
        Act h1 = act("h1", base, h, w);
        resBlock("down1", h0, h1, base, base, h, w);
        Act dn = act("dn", base, h / 2, w / 2);
        perRow(hostConv("downsample", h1, dn, base, base, h, w, 2, null));
        Act h2 = act("h2", 2 * base, h / 2, w / 2);
        resBlock("down2", dn, h2, base, 2 * base, h / 2, w / 2);
        Act m = act("m", 2 * base, h / 2, w / 2);
        resBlock("mid", h2, m, 2 * base, 2 * base, h / 2, w / 2);
        if (c.attention()) attention("mid/attn", m.array(), 2 * base, h / 2, w / 2);
        Act cat = act("cat", 3 * base, h, w);
        perRow(upsampleConcat(m, h1, cat, 2 * base, base));
        Act h3 = act("h3", base, h, w);
        resBlock("up1", cat, h3, 3 * base, base, h, w);
        Act headIn = shared("a", base, h, w);
        perRow(groupNormSilu(h3, headIn, "head/gn", base, h, w));
        out = view("out", ch, h, w);
        perRow(hostConv("head", headIn, new Act(out), base, ch, h, w, 1, null));
      }
    }

    void run(float[] embedding) {
      float[] siluE = embedding.clone();
      FloatKernels.INSTANCE.silu(siluE, 0, siluE.length);
      for (int i = 0; i < projectionNames.size(); i++) projections[i] = dense(siluE, n, emb, projectionNames.get(i));
      for (Segment s : segments) s.run();
    }

    /** A native call over the whole chunk; it ends the current run of per-row stages. */
    private void whole(Step step) {
      segments.add(new Segment(step, null));
    }

    /** A per-row host stage, joined to the run of per-row stages before it. */
    private void perRow(RowStep step) {
      Segment last = segments.isEmpty() ? null : segments.get(segments.size() - 1);
      if (last == null || last.rows == null) {
        last = new Segment(null, new ArrayList<>());
        segments.add(last);
      }
      last.rows.add(step);
    }

    /** The index of the per-block embedding projection Dense(SiLU(e)) under name, computed once per run. */
    private int projection(String name) {
      projectionNames.add(name);
      projections = new float[projectionNames.size()][];
      return projectionNames.size() - 1;
    }

    /**
     * A native call, or a run of per-row stages that each row goes through from first to last on one thread (rows
     * in parallel), so a row's activations stay in that core's cache between stages and the threads meet once per
     * run, not once per stage.
     */
    private final class Segment {
      final Step whole;
      final List<RowStep> rows;

      Segment(Step whole, List<RowStep> rows) {
        this.whole = whole;
        this.rows = rows;
      }

      void run() {
        if (whole != null) {
          whole.run();
        } else {
          rows(r -> {
            for (RowStep s : rows) s.row(r);
          });
        }
      }
    }

    /** [n, channels, hh, ww] over the first rows of the slab array name. */
    private INDArray view(String name, int channels, int hh, int ww) {
      long per = (long) channels * hh * ww;
      INDArray flat = slab.get(name, per);
      return flat.get(NDArrayIndex.interval(0, n * per)).reshape('c', n, channels, hh, ww);
    }

    /**
     * The activation name, [channels, hh, ww] per row: without attention, a per-thread array of one row (every row
     * goes through all the stages on one thread, so its activations are that thread's, reused row after row and
     * kept in its core's cache); with attention, whose native steps take the whole chunk, a view of the slab.
     */
    private Act act(String name, int channels, int hh, int ww) {
      if (c.attention()) return new Act(view(name, channels, hh, ww));
      return new Act(rowLocal(name + "@" + channels + "x" + hh + "x" + ww, channels * hh * ww));
    }

    /**
     * An activation that stages of the same shape share (each stage's output is read by the next stage only): one
     * per (role, shape), so every row's region is its own whatever the stage, which lets rows run through the stages
     * on different threads at once.
     */
    private Act shared(String role, int channels, int hh, int ww) {
      return act(role + channels + "x" + hh + "x" + ww, channels, hh, ww);
    }

    /** The residual block: out = conv2(SiLU(GN(conv1(SiLU(GN(in))) + Dense(SiLU(e))))) + skip(in). */
    private void resBlock(String name, Act in, Act out, int cin, int cout, int hh, int ww) {
      Act a = shared("a", cin, hh, ww);
      Act t1 = shared("t", cout, hh, ww);
      Act bb = shared("b", cout, hh, ww);
      perRow(groupNormSilu(in, a, name + "/gn1", cin, hh, ww));
      perRow(hostConv(name + "/conv1", a, t1, cin, cout, hh, ww, 1, null));
      perRow(groupNormSilu(t1, bb, name + "/gn2", cout, hh, ww, true, name + "/emb"));
      if (cin == cout) {
        perRow(hostConv(name + "/conv2", bb, out, cout, cout, hh, ww, 1, in));
      } else {
        perRow(hostConv(name + "/conv2", bb, out, cout, cout, hh, ww, 1, null));
        perRow(hostConv(name + "/skip", in, out, cin, cout, hh, ww, 1, out));
      }
    }

    /** DDPM's self-attention over the hh ww positions, m += proj(V softmax_keys(K^T Q / sqrt C)). */
    private void attention(String name, INDArray m, int ch, int hh, int ww) {
      int hw = hh * ww;
      Act ga = shared("a", ch, hh, ww);
      INDArray g = ga.array();
      INDArray q = view("q", ch, hh, ww);
      INDArray k = view("k", ch, hh, ww);
      INDArray v = view("v", ch, hh, ww);
      INDArray logits = view("logits", hw, hw, 1).reshape('c', n, hw, hw);
      INDArray probs = view("probs", hw, hw, 1).reshape('c', n, hw, hw);
      INDArray o = view("o", ch, hh, ww);
      INDArray p = view("p", ch, hh, ww);
      perRow(groupNormSilu(new Act(m), ga, name + "/gn", ch, hh, ww, false, null));
      whole(conv(name + "/q", g, q, 1));
      whole(conv(name + "/k", g, k, 1));
      whole(conv(name + "/v", g, v, 1));
      INDArray k3 = k.reshape('c', n, ch, hw);
      INDArray q3 = q.reshape('c', n, ch, hw);
      INDArray v3 = v.reshape('c', n, ch, hw);
      INDArray o3 = o.reshape('c', n, ch, hw);
      whole(matmul(k3, q3, logits, true, 1.0 / Math.sqrt(ch)));
      Bound softmax = bind(DynamicCustomOp.builder("softmax").build(), List.of(logits), probs, new long[] {1}, null,
          false);
      whole(softmax::run);
      whole(matmul(v3, probs, o3, false, 1.0));
      whole(conv(name + "/proj", o, p, 1));
      whole(() -> addInPlace(m, p));
    }

    private Step conv(String name, INDArray in, INDArray out, int stride) {
      INDArray weights = convs.get(name + "/w");
      INDArray bias = convs.get(name + "/b");
      if (weights == null || bias == null) throw new IllegalStateException("no convolution " + name + " in the weights");
      int k = (int) weights.size(0);
      // libnd4j conv2d: kH, kW, sH, sW, pH, pW, dH, dW, SAME mode, NCHW (0), weights [kH, kW, iC, oC] (0).
      Bound b = bind(DynamicCustomOp.builder("conv2d").build(), List.of(in, weights, bias), out,
          new long[] {k, k, stride, stride, 0, 0, 1, 1, 1, 0, 0}, null, true);
      return b::run;
    }

    /**
     * A "same" convolution on the host with {@link FloatKernels#conv}, out = conv(in) + addend (addend null, out
     * itself for out += conv(in), or the block's input for the residual), stride 1 or 2, padded as libnd4j's SAME mode (TensorFlow's: the odd pixel of
     * padding after). Per row, the input goes zero-padded into this thread's scratch, split by stride into s x s
     * phase planes per channel (for stride 2, even and odd rows and columns), each qw wide; output pixel (y, x) is
     * then p = y qw + x and tap (ci, ky, kx) reads phase (ky mod s, kx mod s) of channel ci at p + (ky / s) qw +
     * kx / s, one contiguous run. The columns x >= the output width are computed and dropped. Measured at batch 128
     * (BENCHMARKS.md), libnd4j's conv2d through oneDNN took 8.4 ms for the 0.46 GFLOP of a 16 -> 16 3x3 layer, 4.2
     * ms for the stem's 0.03 and 12.6 for the 0.15 of up1's 1x1 skip; here they take 3.6, 1.0 and 2.5.
     */
    private RowStep hostConv(String name, Act in, Act out, int cin, int cout, int hh, int ww, int stride,
                             Act addend) {
      float[] wt = hostConvWeights.get(name);
      float[] bias = host.get(name + "/b");
      if (wt == null || bias == null) throw new IllegalStateException("no convolution " + name + " in the weights");
      int k = (int) Math.round(Math.sqrt((double) wt.length / ((long) cin * cout)));
      if (k * k * cin * cout != wt.length) {
        throw new IllegalStateException(name + ": a square kernel from " + cin + " to " + cout + " channels expected");
      }
      if (k == 3 && stride == 1 && cin >= WINOGRAD_MIN_CHANNELS) {
        return winogradConv(name, in, out, cin, cout, hh, ww, addend);
      }
      int st = stride;
      int oh = (hh + st - 1) / st;
      int ow = (ww + st - 1) / st;
      int padT = Math.max(0, (oh - 1) * st + k - hh) / 2;
      int padL = Math.max(0, (ow - 1) * st + k - ww) / 2;
      int hp = Math.max(padT + hh, (oh - 1) * st + k);
      int wp = Math.max(padL + ww, (ow - 1) * st + k);
      int qh = (hp + st - 1) / st;
      int qw = (wp + st - 1) / st;
      int qplane = qh * qw;
      int taps = cin * k * k;
      int[] off = new int[taps];
      int maxOff = 0;
      for (int ci = 0, t = 0; ci < cin; ci++) {
        for (int ky = 0; ky < k; ky++) {
          for (int kx = 0; kx < k; kx++, t++) {
            off[t] = (ci * st * st + (ky % st) * st + kx % st) * qplane + (ky / st) * qw + kx / st;
            maxOff = Math.max(maxOff, off[t]);
          }
        }
      }
      // Input column x goes to phase (x + padL) mod s, place (x + padL) / s of its row.
      int[] column = new int[ww];
      for (int x = 0; x < ww; x++) column[x] = ((x + padL) % st) * qplane + (x + padL) / st;
      int len = oh * qw;
      int accStride = (len + FloatKernels.ROUND - 1) / FloatKernels.ROUND * FloatKernels.ROUND;
      int padLen = Math.max(cin * st * st * qplane, maxOff + accStride);
      int inLen = cin * hh * ww;
      int outLen = cout * oh * ow;
      FloatKernels kern = FloatKernels.INSTANCE;
      return r -> {
        float[] sc = scratch(padLen + Math.max(inLen, outLen));
        float[] acc = ACC.get().get(cout * accStride);
        if (k == 1 && st == 1) {
          in.get(r, 0, sc, 0, inLen);
        } else {
          float[] src = in.local();
          int rowAt = 0;
          if (src == null) {
            src = sc;
            rowAt = padLen;
            in.get(r, 0, sc, rowAt, inLen);
          }
          java.util.Arrays.fill(sc, 0, padLen, 0f);
          for (int ci = 0; ci < cin; ci++) {
            for (int y = 0; y < hh; y++) {
              int from = rowAt + (ci * hh + y) * ww;
              int py = y + padT;
              if (st == 1) {
                System.arraycopy(src, from, sc, ci * qplane + py * qw + padL, ww);
              } else {
                int phaseRow = (ci * st * st + (py % st) * st) * qplane + (py / st) * qw;
                for (int x = 0; x < ww; x++) sc[phaseRow + column[x]] = src[from + x];
              }
            }
          }
        }
        kern.conv(sc, off, taps, wt, bias, cout, acc, accStride, len);
        // Straight into a per-thread output row; a native one is staged in the scratch.
        float[] dst = out.local();
        float[] to = dst != null ? dst : sc;
        if (addend != null) {
          if (addend != out || dst == null) addend.get(r, 0, to, 0, outLen);   // out += conv: already there
          for (int co = 0; co < cout; co++) {
            if (qw == ow) {   // a channel's rows are one run (1x1): one call, whole vectors
              kern.axpy(to, co * oh * ow, 1f, acc, co * accStride, oh * ow);
            } else {
              for (int y = 0; y < oh; y++) kern.axpy(to, (co * oh + y) * ow, 1f, acc, co * accStride + y * qw, ow);
            }
          }
        } else {
          for (int co = 0; co < cout; co++) {
            for (int y = 0; y < oh; y++) System.arraycopy(acc, co * accStride + y * qw, to, (co * oh + y) * ow, ow);
          }
        }
        if (dst == null) out.put(r, 0, sc, 0, outLen);
      };
    }

    /**
     * A "same" 3x3 stride-1 convolution by Winograd's minimal filtering F(2, 3) along the image's columns (Lavin and
     * Gray 2016, in one dimension): output rows 2j and 2j + 1 of every channel are Y = A^T [(G g) . (B^T d)] over
     * the four padded input rows 2j .. 2j + 3, with the kernel's three columns kept as taps. Per output pixel that is
     * 6 cin fused multiply-adds instead of 9 cin: four {@link FloatKernels#conv} calls of 3 cin taps, one per row of
     * the transform, each over half the output rows. Per row of the chunk: the padded input split into its even and
     * odd rows (each qw = ww + 2 wide); V_i = (B^T d)_i for i in 0..3 as whole runs of those planes (d_0 - d_2, d_1 +
     * d_2, d_2 - d_1, d_1 - d_3, with d_r the plane of row r's parity one tile row down when r >= 2); M_i = U_i * V_i,
     * U_i = (G g)_i precomputed; then rows 2j = M_0 + M_1 + M_2 and 2j + 1 = M_1 - M_2 - M_3, with the bias in M_1.
     * Every step is an IEEE operation in a fixed order, so the result is as reproducible as the direct one; it
     * differs from it by float32 round-off.
     */
    private RowStep winogradConv(String name, Act in, Act out, int cin, int cout, int hh, int ww, Act addend) {
      float[][] u = winogradWeights(name, cin, cout);
      float[] bias = host.get(name + "/b");
      int tiles = (hh + 1) / 2;
      int qw = ww + 2;
      int len = tiles * qw;
      int round = FloatKernels.ROUND;
      int accStride = (len + round - 1) / round * round;
      int vStride = accStride + round;
      int dStride = (vStride + qw + round - 1) / round * round;
      int taps = 3 * cin;
      int[][] off = new int[4][taps];
      for (int i = 0; i < 4; i++) {
        for (int ci = 0; ci < cin; ci++) {
          for (int kx = 0; kx < 3; kx++) off[i][ci * 3 + kx] = (i * cin + ci) * vStride + kx;
        }
      }
      float[] zero = new float[cout];
      int inLen = cin * hh * ww;
      int outLen = cout * hh * ww;
      int planes = 2 * cin * dStride;
      int mLen = cout * accStride;
      FloatKernels kern = FloatKernels.INSTANCE;
      ThreadLocal<float[]> padded = zeroPadded(cin, hh, ww, planes);
      return r -> {
        float[] sc = scratch(Math.max(inLen, 2 * outLen));
        float[] d = padded.get();
        float[] v = WINOGRAD_V.get().get(4 * cin * vStride);
        float[][] m = WINOGRAD_M.get().get(mLen);
        // The padded input by row parity: padded row py = y + 1 goes to plane py % 2, row py / 2, column 1 on. Only
        // those places are ever written, so the padding stays zero.
        float[] src = in.local();
        if (src == null) {
          src = sc;
          in.get(r, 0, sc, 0, inLen);
        }
        for (int ci = 0; ci < cin; ci++) {
          for (int y = 0; y < hh; y++) {
            int py = y + 1;
            System.arraycopy(src, (ci * hh + y) * ww, d, ((py & 1) * cin + ci) * dStride + (py >> 1) * qw + 1, ww);
          }
        }
        // V_i = (B^T d)_i: d_0 - d_2, d_1 + d_2, d_2 - d_1, d_1 - d_3 (d_2, d_3: the even and odd planes a row down).
        for (int ci = 0; ci < cin; ci++) {
          int e = ci * dStride;
          int o = (cin + ci) * dStride;
          kern.addScaled(v, ci * vStride, d, e, d, e + qw, -1f, vStride);
          kern.addScaled(v, (cin + ci) * vStride, d, o, d, e + qw, 1f, vStride);
          kern.addScaled(v, (2 * cin + ci) * vStride, d, e + qw, d, o, -1f, vStride);
          kern.addScaled(v, (3 * cin + ci) * vStride, d, o, d, o + qw, -1f, vStride);
        }
        for (int i = 0; i < 4; i++) {
          kern.conv(v, off[i], taps, u[i], i == 1 ? bias : zero, cout, m[i], accStride, len);
        }
        // Rows 2j into M_0 and 2j + 1 into M_3, each over the whole of M_i (the columns past ww are dropped below).
        kern.addScaled(m[0], 0, m[0], 0, m[1], 0, 1f, mLen);
        kern.addScaled(m[0], 0, m[0], 0, m[2], 0, 1f, mLen);
        kern.addScaled(m[2], 0, m[1], 0, m[2], 0, -1f, mLen);
        kern.addScaled(m[3], 0, m[2], 0, m[3], 0, -1f, mLen);
        // Straight into a per-thread output row (out is never the addend here); a native one is staged.
        float[] dst = out.local();
        float[] to = dst != null && addend != out ? dst : sc;
        for (int co = 0; co < cout; co++) {
          for (int y = 0; y < hh; y++) {
            System.arraycopy((y & 1) == 0 ? m[0] : m[3], co * accStride + (y >> 1) * qw, to, (co * hh + y) * ww, ww);
          }
        }
        if (addend != null) {
          float[] plus = addend.local();
          int at = 0;
          if (plus == null) {
            plus = sc;
            at = outLen;
            addend.get(r, 0, sc, outLen, outLen);
          }
          kern.axpy(to, 0, 1f, plus, at, outLen);
        }
        if (to == sc) out.put(r, 0, sc, 0, outLen);
      };
    }

    /** This thread's padded input planes of size floats for inputs of shape (cin, hh, ww), zero when new. */
    private ThreadLocal<float[]> zeroPadded(int cin, int hh, int ww, int size) {
      return zeroPadded.computeIfAbsent(List.of(cin, hh, ww), k -> ThreadLocal.withInitial(() -> new float[size]));
    }

    /** c = alpha a^T b (transposeA) or alpha a b, batched over the first dimension. */
    private Step matmul(INDArray a, INDArray b, INDArray out, boolean transposeA, double alpha) {
      Bound bound = bind(DynamicCustomOp.builder("matmul").build(), List.of(a, b), out,
          new long[] {transposeA ? 1 : 0, 0, 0}, new double[] {alpha, 0.0}, false);
      return bound::run;
    }

    private Bound bind(CustomOp op, List<INDArray> inputs, INDArray output, long[] iArgs, double[] tArgs,
                       boolean helpers) {
      OpContext ctx = Nd4j.getExecutioner().buildContext();
      // oneDNN (the default CPU build's helper) for convolutions; libnd4j's own matmul and softmax (oneDNN's
      // matmul cost 4x at small sizes, BENCHMARKS.md).
      ctx.allowHelpers(helpers);
      ctx.setInputArrays(inputs.toArray(new INDArray[0]));
      ctx.setOutputArrays(output);
      ctx.setIArguments(iArgs);
      if (tArgs != null) ctx.setTArguments(tArgs);
      contexts.add(ctx);
      return new Bound(op, ctx);
    }

    private RowStep groupNormSilu(Act in, Act out, String name, int channels, int hh, int ww) {
      return groupNormSilu(in, out, name, channels, hh, ww, true, null);
    }

    /**
     * out = SiLU(GN(in + Dense(SiLU(e)))) (the embedding term when embName is given; GN alone when silu is false),
     * {@link GroupNorm}'s function with name/gamma and name/beta, per row over a bulk copy of each group (rows in
     * parallel) with {@link FloatKernels}: the embedding's per-channel addition, the group's mean and variance, and the
     * affine map fused with SiLU in one pass. Measured at batch 128 (BENCHMARKS.md): scalar statistics with
     * libnd4j's swish over the whole view cost about 63 of the pass's 138 ms; a scalar Math.exp per element 161 of
     * 239.
     */
    private RowStep groupNormSilu(Act in, Act out, String name, int channels, int hh, int ww, boolean silu,
                                  String embName) {
      float[] gamma = host.get(name + "/gamma");
      float[] beta = host.get(name + "/beta");
      int projAt = embName == null ? -1 : projection(embName);
      int groups = c.groups();
      int pixels = hh * ww;
      int perChannel = channels / groups;
      int per = perChannel * pixels;
      FloatKernels k = FloatKernels.INSTANCE;
      return r -> {
        float[] proj = projAt < 0 ? null : projections[projAt];
        // In place in a per-thread output row; a native one is staged in the scratch group by group.
        float[] dst = out.local();
        float[] g = dst != null ? dst : scratch(per);
        for (int gi = 0; gi < groups; gi++) {
          int at = dst != null ? gi * per : 0;
          in.get(r, gi * per, g, at, per);
          if (proj != null) {
            for (int chg = 0; chg < perChannel; chg++) {
              k.add(g, at + chg * pixels, pixels, proj[r * channels + gi * perChannel + chg]);
            }
          }
          float mu = (float) (k.sum(g, at, per) / per);
          float inv = (float) (1 / Math.sqrt(k.sumSquaredDeviations(g, at, per, mu) / per + GroupNorm.EPS));
          for (int chg = 0; chg < perChannel; chg++) {
            int ch = gi * perChannel + chg;
            float a = gamma[ch] * inv;
            k.affine(g, at + chg * pixels, pixels, a, beta[ch] - mu * a, silu);
          }
          if (dst == null) out.put(r, gi * per, g, 0, per);
        }
      };
    }

    /**
     * Runs body for every row of the chunk, over the common fork-join pool and this thread when the chunk has
     * several rows (the host stages are per row; libnd4j's threads are idle between its ops).
     */
    private void rows(java.util.function.IntConsumer body) {
      if (n < 4) {
        for (int r = 0; r < n; r++) body.accept(r);
      } else {
        java.util.stream.IntStream.range(0, n).parallel().forEach(body);
      }
    }

    /** out += in, elementwise over the whole view. */
    private void addInPlace(INDArray out, INDArray in) {
      out.addi(in);
    }

    /** cat = [upsample2(m), skip] along channels (nearest-neighbour upsampling of m). */
    private RowStep upsampleConcat(Act m, Act skip, Act cat, int mc, int sc) {
      int hw = h * w;
      int half = (h / 2) * (w / 2);
      int total = mc + sc;
      int hw2 = w / 2;
      return r -> {
        float[] row = scratch(mc * half + total * hw);
        m.get(r, 0, row, 0, mc * half);
        int o = mc * half;
        for (int ch = 0; ch < mc; ch++) {
          int s0 = ch * half;
          int d0 = o + ch * hw;
          for (int y = 0; y < h; y += 2) {
            int srow = s0 + (y / 2) * hw2;
            int drow = d0 + y * w;
            for (int xx = 0; xx < hw2; xx++) {
              float e = row[srow + xx];
              row[drow + 2 * xx] = e;
              row[drow + 2 * xx + 1] = e;
            }
            System.arraycopy(row, drow, row, drow + w, w);
          }
        }
        skip.get(r, 0, row, o + mc * hw, sc * hw);
        cat.put(r, 0, row, o, total * hw);
      };
    }

    void close() {
      for (OpContext ctx : contexts) {
        try {
          ctx.close();
        } catch (Exception ex) {
          throw new IllegalStateException("closing an op context failed", ex);
        }
      }
      contexts.clear();
    }
  }

  private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);
  /** Each thread's Winograd input transforms. */
  private static final ThreadLocal<Grow> WINOGRAD_V = ThreadLocal.withInitial(Grow::new);
  /** Each thread's Winograd products M_0 .. M_3. */
  private static final ThreadLocal<Grow4> WINOGRAD_M = ThreadLocal.withInitial(Grow4::new);
  /** 3x3 stride-1 convolutions with at least this many input channels go by {@link Buffers#winogradConv}. */
  static final int WINOGRAD_MIN_CHANNELS = 8;
  /** Each thread's convolution accumulators, apart from {@link #scratch}, which holds the padded input. */
  private static final ThreadLocal<Grow> ACC = ThreadLocal.withInitial(Grow::new);

  /** A float array that grows to the largest size asked of it. */
  private static final class Grow {
    private float[] a = new float[0];

    float[] get(int size) {
      if (a.length < size) a = new float[size];
      return a;
    }
  }

  /** Four float arrays that grow to the largest size asked of them. */
  private static final class Grow4 {
    private final float[][] a = new float[4][0];

    float[][] get(int size) {
      for (int i = 0; i < 4; i++) if (a[i].length < size) a[i] = new float[size];
      return a;
    }
  }

  /** A scratch array of at least size floats, this thread's (host stages run on pool threads too). */
  private static float[] scratch(int size) {
    float[] a = SCRATCH.get();
    if (a.length < size) {
      a = new float[size];
      SCRATCH.set(a);
    }
    return a;
  }

  /** A native stage of the pass, over the whole chunk. */
  @FunctionalInterface
  private interface Step {
    void run();
  }

  /** A host stage of the pass, for one row of the chunk. */
  @FunctionalInterface
  private interface RowStep {
    void row(int r);
  }
}
