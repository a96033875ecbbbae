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
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The U-Net's forward pass outside SameDiff: the function {@link UNetGraph} builds (the same blocks, the same
 * parameters by name), computed with libnd4j's conv2d and matmul through op contexts built once per batch size, into
 * activation buffers kept per thread; SiLU and the residual additions as single native ops over a whole buffer; and
 * the rest (the time and class embedding, group norm's statistics and affine map, the embedding additions, nearest
 * upsampling with the concatenation, the output scale) as loops over bulk copies of those buffers. A SameDiff output
 * call walks a few hundred graph ops, each an executor call with its own bookkeeping, and at small batches that
 * bookkeeping was the whole forward pass: 66 ms at batch 1 through SameDiff, 7.8 ms here (BENCHMARKS.md).
 *
 * <p>A batch is computed in chunks of at most {@link #MAX_CHUNK} rows (every row is independent: group norm is per
 * sample), so a thread's buffers are bounded whatever the batch (about 0.9 MB per row for the MNIST network, 120 MB
 * at a full chunk). Every buffer is a view of the first rows of a per-thread slab, so a new batch size allocates
 * nothing but its op contexts (the last {@link #MAX_SIZES} sizes' are kept). Float32 throughout, as the graph. Calls on one thread at a time per
 * thread; {@link #close()} frees every native array.
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
      FloatBuffer o = b.out.data().asNioFloat();
      for (int r = 0; r < n; r++) {
        float s = scale[from + r];
        for (int k = 0; k < d; k++) out[(from + r) * d + k] = o.get(r * d + k) * s;
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
    siluInPlace(e1);
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

  private static void siluInPlace(float[] v) {
    for (int i = 0; i < v.length; i++) v[i] = silu(v[i]);
  }

  private static float silu(float v) {
    return (float) (v / (1 + Math.exp(-v)));
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
    private final List<Step> steps = new ArrayList<>();
    private final List<OpContext> contexts = new ArrayList<>();
    private final Slab slab;
    private float[] e;

    Buffers(Slab slab, int n) {
      this.slab = slab;
      this.n = n;
      this.h = c.height();
      this.w = c.width();
      int base = c.base();
      int ch = c.channels();
      try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
        x = view("x", ch, h, w);
        INDArray h0 = view("h0", base, h, w);
        steps.add(conv("stem", x, h0, 1));
        INDArray h1 = view("h1", base, h, w);
        resBlock("down1", h0, h1, base, base, h, w);
        INDArray dn = view("dn", base, h / 2, w / 2);
        steps.add(conv("downsample", h1, dn, 2));
        INDArray h2 = view("h2", 2 * base, h / 2, w / 2);
        resBlock("down2", dn, h2, base, 2 * base, h / 2, w / 2);
        INDArray m = view("m", 2 * base, h / 2, w / 2);
        resBlock("mid", h2, m, 2 * base, 2 * base, h / 2, w / 2);
        if (c.attention()) attention("mid/attn", m, 2 * base, h / 2, w / 2);
        INDArray cat = view("cat", 3 * base, h, w);
        steps.add(() -> upsampleConcat(m, h1, cat, 2 * base, base));
        INDArray h3 = view("h3", base, h, w);
        resBlock("up1", cat, h3, 3 * base, base, h, w);
        INDArray headIn = narrow(view("a" + h, 3 * base, h, w), base, h, w);
        steps.add(() -> groupNormSilu(h3, headIn, "head/gn", base, h, w));
        out = view("out", ch, h, w);
        steps.add(conv("head", headIn, out, 1));
      }
    }

    void run(float[] embedding) {
      this.e = embedding;
      for (Step s : steps) s.run();
    }

    /** [n, channels, hh, ww] over the first rows of the slab array name. */
    private INDArray view(String name, int channels, int hh, int ww) {
      long per = (long) channels * hh * ww;
      INDArray flat = slab.get(name, per);
      return flat.get(NDArrayIndex.interval(0, n * per)).reshape('c', n, channels, hh, ww);
    }

    /** A smaller [n, channels, hh, ww] view at the start of a scratch array. */
    private INDArray narrow(INDArray scratch, int channels, int hh, int ww) {
      long per = (long) channels * hh * ww;
      return scratch.reshape('c', new long[] {scratch.length()}).get(NDArrayIndex.interval(0, n * per))
          .reshape('c', n, channels, hh, ww);
    }

    /** The residual block: out = conv2(SiLU(GN(conv1(SiLU(GN(in))) + Dense(SiLU(e))))) + skip(in). */
    private void resBlock(String name, INDArray in, INDArray out, int cin, int cout, int hh, int ww) {
      INDArray a = narrow(view("a" + hh, 3 * c.base(), hh, ww), cin, hh, ww);
      INDArray t = view("t" + hh, 2 * c.base(), hh, ww);
      INDArray t1 = narrow(t, cout, hh, ww);
      INDArray bb = narrow(view("b" + hh, 2 * c.base(), hh, ww), cout, hh, ww);
      steps.add(() -> groupNormSilu(in, a, name + "/gn1", cin, hh, ww));
      steps.add(conv(name + "/conv1", a, t1, 1));
      steps.add(() -> addEmbedding(t1, name + "/emb", cout, hh * ww));
      steps.add(() -> groupNormSilu(t1, bb, name + "/gn2", cout, hh, ww));
      steps.add(conv(name + "/conv2", bb, out, 1));
      if (cin == cout) {
        steps.add(() -> addInPlace(out, in));
      } else {
        INDArray s = narrow(view("s" + hh, 2 * c.base(), hh, ww), cout, hh, ww);
        steps.add(conv(name + "/skip", in, s, 1));
        steps.add(() -> addInPlace(out, s));
      }
    }

    /** DDPM's self-attention over the hh ww positions, m += proj(V softmax_keys(K^T Q / sqrt C)). */
    private void attention(String name, INDArray m, int ch, int hh, int ww) {
      int hw = hh * ww;
      INDArray g = narrow(view("a" + hh, 3 * c.base(), hh, ww), ch, hh, ww);
      INDArray q = view("q", ch, hh, ww);
      INDArray k = view("k", ch, hh, ww);
      INDArray v = view("v", ch, hh, ww);
      INDArray logits = view("logits", hw, hw, 1).reshape('c', n, hw, hw);
      INDArray probs = view("probs", hw, hw, 1).reshape('c', n, hw, hw);
      INDArray o = view("o", ch, hh, ww);
      INDArray p = view("p", ch, hh, ww);
      steps.add(() -> groupNormSilu(m, g, name + "/gn", ch, hh, ww, false));
      steps.add(conv(name + "/q", g, q, 1));
      steps.add(conv(name + "/k", g, k, 1));
      steps.add(conv(name + "/v", g, v, 1));
      INDArray k3 = k.reshape('c', n, ch, hw);
      INDArray q3 = q.reshape('c', n, ch, hw);
      INDArray v3 = v.reshape('c', n, ch, hw);
      INDArray o3 = o.reshape('c', n, ch, hw);
      steps.add(matmul(k3, q3, logits, true, 1.0 / Math.sqrt(ch)));
      Bound softmax = bind(DynamicCustomOp.builder("softmax").build(), List.of(logits), probs, new long[] {1}, null,
          false);
      steps.add(softmax::run);
      steps.add(matmul(v3, probs, o3, false, 1.0));
      steps.add(conv(name + "/proj", o, p, 1));
      steps.add(() -> addInPlace(m, p));
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

    /** t[r, ch, :] += Dense(SiLU(e))[r, ch]. */
    private void addEmbedding(INDArray t, String name, int channels, int pixels) {
      float[] se = e.clone();
      siluInPlace(se);
      float[] proj = dense(se, n, emb, name);
      FloatBuffer buf = t.data().asNioFloat();
      for (int r = 0; r < n; r++) {
        for (int ch = 0; ch < channels; ch++) {
          float add = proj[r * channels + ch];
          int from = (r * channels + ch) * pixels;
          for (int p = from; p < from + pixels; p++) buf.put(p, buf.get(p) + add);
        }
      }
    }

    private void groupNormSilu(INDArray in, INDArray out, String name, int channels, int hh, int ww) {
      groupNormSilu(in, out, name, channels, hh, ww, true);
    }

    /**
     * out = SiLU(GN(in)) (or GN(in) alone), {@link GroupNorm}'s function with name/gamma and name/beta: the group
     * statistics and the affine map on the host over bulk copies of each group (rows in parallel), then SiLU as one
     * native op over the whole view. Measured at batch 128: a scalar Math.exp per element made this stage 161 of the
     * pass's 239 ms; with libnd4j's swish the pass takes 134 ms (33 of them the swish), and a polynomial exp fused
     * into the host loop (which the JIT did not vectorise) 178 ms.
     */
    private void groupNormSilu(INDArray in, INDArray out, String name, int channels, int hh, int ww,
                               boolean silu) {
      float[] gamma = host.get(name + "/gamma");
      float[] beta = host.get(name + "/beta");
      int groups = c.groups();
      int pixels = hh * ww;
      int perChannel = channels / groups;
      int per = perChannel * pixels;
      FloatBuffer src = in.data().asNioFloat();
      FloatBuffer dst = out.data().asNioFloat();
      rows(r -> {
        float[] g = scratch(per);
        for (int gi = 0; gi < groups; gi++) {
          int from = (r * groups + gi) * per;
          src.get(from, g, 0, per);
          double sum = 0;
          for (int p = 0; p < per; p++) sum += g[p];
          float mu = (float) (sum / per);
          double sq = 0;
          for (int p = 0; p < per; p++) {
            float dv = g[p] - mu;
            sq += dv * dv;
          }
          float inv = (float) (1 / Math.sqrt(sq / per + GroupNorm.EPS));
          for (int chg = 0; chg < perChannel; chg++) {
            int ch = gi * perChannel + chg;
            float a = gamma[ch] * inv;
            float b = beta[ch] - mu * a;
            int start = chg * pixels;
            for (int p = start; p < start + pixels; p++) g[p] = g[p] * a + b;
          }
          dst.put(from, g, 0, per);
        }
      });
      if (silu) Nd4j.exec(new Swish(out, out));
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
    private void upsampleConcat(INDArray m, INDArray skip, INDArray cat, int mc, int sc) {
      FloatBuffer src = m.data().asNioFloat();
      FloatBuffer sk = skip.data().asNioFloat();
      FloatBuffer dst = cat.data().asNioFloat();
      int hw = h * w;
      int half = (h / 2) * (w / 2);
      int total = mc + sc;
      int hw2 = w / 2;
      rows(r -> {
        float[] row = scratch(mc * half + total * hw);
        src.get(r * mc * half, row, 0, mc * half);
        int o = mc * half;
        for (int ch = 0; ch < mc; ch++) {
          int s0 = ch * half;
          int d0 = o + ch * hw;
          for (int y = 0; y < h; y++) {
            int srow = s0 + (y / 2) * hw2;
            int drow = d0 + y * w;
            for (int xx = 0; xx < w; xx++) row[drow + xx] = row[srow + xx / 2];
          }
        }
        sk.get(r * sc * hw, row, o + mc * hw, sc * hw);
        dst.put(r * total * hw, row, o, total * hw);
      });
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

  /** A scratch array of at least size floats, this thread's (host stages run on pool threads too). */
  private static float[] scratch(int size) {
    float[] a = SCRATCH.get();
    if (a.length < size) {
      a = new float[size];
      SCRATCH.set(a);
    }
    return a;
  }

  /** One stage of the pass. */
  @FunctionalInterface
  private interface Step {
    void run();
  }
}
