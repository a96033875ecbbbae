package io.scorestream.model.sample;

import io.scorestream.model.noise.CounterNoise;
import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.score.HostArrays;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.score.Workspaces;
import io.scorestream.model.sde.Sde;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A batch of chains that share one score model: each row is a chain of some request, at its own step of its own
 * {@link SamplerProgram}. {@link #tick()} advances every row with exactly one network call (see
 * {@link ChainCursor} for the per-row update), so chains join and leave at step boundaries and a chain's path does
 * not depend on its batch-mates: every coefficient, norm and noise draw is computed per row.
 *
 * <p>The states and the derivative registers live on the host, row-major, with values of the model's type (each
 * update is computed in double and rounded once to float for a float model). The network call is the only device
 * work of a tick: its input goes over as one array and its output comes back as one. Per-row arithmetic through
 * ND4J cost a JNI call and registered native buffers per operation (about 25 operations and 48 registrations a
 * tick, measured), which at small batches was most of the tick; the noise was already drawn on the host.
 *
 * <p>Confined to one thread (a sampler's). The arrays it holds are its own; {@link Finished} rows are copies.
 */
public final class ChainBatch {

  /** A chain that left the batch: its tag, final state (a copy, [D]) and whether it failed. */
  public record Finished(long tag, double[] x, long ticks, String failure) {
    public boolean failed() { return failure != null; }
  }

  /**
   * A chain taken out of a batch at a step boundary: everything that, with its noise key and program, continues it
   * bit-identically in another batch ({@link #resume}), on this node or another.
   *
   * @param x         its state [D] (values of the model's type)
   * @param registers its derivative registers K_0..K_(k-1), [k x D] row-major, up to the last one it has written
   *                  (the rest are zero); null when it has written none
   * @param cursor    its cursor's {@link ChainCursor#save progress}
   */
  public record ChainState(double[] x, double[] registers, double[] cursor) {
    public ChainState {
      if (x == null || cursor == null) throw new IllegalArgumentException("a chain state needs x and its cursor");
      if (registers != null && (registers.length % x.length != 0
          || registers.length > ChainCursor.REGISTERS * x.length)) {
        throw new IllegalArgumentException("registers of " + registers.length + " values for a chain of " + x.length);
      }
    }
  }

  /** What one tick did, for metrics and previews. */
  public record TickReport(int rows, int distinctLevels) {}

  private static final String TICK_WORKSPACE_ID = "scorestream-chain-batch-tick";

  private final ScoreModel model;
  private final Sde sde;
  private final int dim;
  private final DataType type;
  /** States, [rows x dim] row-major. */
  private double[] x = new double[0];
  /** Registers K_j, each [rows x dim] row-major; null until a program uses them. */
  private double[][] registers;
  private final List<ChainCursor> cursors = new ArrayList<>();
  private long[] tags = new long[0];
  private long[] seeds = new long[0];
  private long[] chains = new long[0];
  private boolean previewWanted;
  private double[] lastDenoised;
  private double[] lastTimes = new double[0];
  private long networkCalls;
  private String[] failures = new String[0];
  /** Per-row conditioning (labels, guidance, inpainting); all NONE for unconditional batches. */
  private Conditioning[] conditioning = new Conditioning[0];
  private int[] labels = new int[0];
  private boolean anyConditioned;

  public ChainBatch(ScoreModel model) {
    this.model = model;
    this.sde = model.sde();
    this.dim = model.dim();
    this.type = model.dataType();
  }

  public ScoreModel model() { return model; }

  public int size() { return cursors.size(); }

  public long networkCalls() { return networkCalls; }

  /** The current states, [B x D] row-major (the batch's own array: read, do not keep). */
  public double[] states() { return x; }

  public ChainCursor cursor(int row) { return cursors.get(row); }

  public long tag(int row) { return tags[row]; }

  /** Asks the next ticks to compute Tweedie estimates of x0 for {@link #denoised()}. */
  public void wantPreviews(boolean want) { previewWanted = want; }

  /**
   * The Tweedie estimates E[x0 | x_t] = (x_t + std^2 s) / m of the last tick's inputs, [B x D] row-major (the batch's
   * own array, valid until the next tick or change of rows), or null.
   */
  public double[] denoised() { return lastDenoised; }

  /** The times at which the last tick evaluated each row. */
  public double[] lastTimes() { return lastTimes.clone(); }

  /**
   * Adds chains at a step boundary.
   *
   * @param initial [n, D] starting states (copied)
   * @param keys    the noise keys of the n chains
   * @param program the program every new chain runs
   * @param tagBase tags tagBase, tagBase + 1, ... identify the rows in {@link Finished}
   */
  public void add(INDArray initial, RowKeys keys, SamplerProgram program, long tagBase) {
    add(initial, keys, program, tagBase, Conditioning.NONE);
  }

  /** {@link #add(INDArray, RowKeys, SamplerProgram, long)} with the chains conditioned (labels, guidance, mask). */
  public void add(INDArray initial, RowKeys keys, SamplerProgram program, long tagBase, Conditioning cond) {
    cond.checkFor(model);
    if (initial.rank() != 2 || initial.size(1) != dim) {
      throw new IllegalArgumentException("expected states of shape [n, " + dim + "], got "
          + Arrays.toString(initial.shape()));
    }
    if (keys.size() != initial.size(0)) {
      throw new IllegalArgumentException("keys for " + keys.size() + " rows, states for " + initial.size(0));
    }
    double[] values = HostArrays.values(initial);
    for (int k = 0; k < values.length; k++) values[k] = round(values[k]);
    append(values, keys, program, tagBase, cond);
  }

  /** Adds the chains of keys at their prior states ({@link #priorValues}), drawn on the host: what a sampler admits. */
  public void addFromPrior(RowKeys keys, SamplerProgram program, long tagBase) {
    addFromPrior(keys, program, tagBase, Conditioning.NONE);
  }

  /** {@link #addFromPrior(RowKeys, SamplerProgram, long)} with the chains conditioned. */
  public void addFromPrior(RowKeys keys, SamplerProgram program, long tagBase, Conditioning cond) {
    cond.checkFor(model);
    append(priorValues(sde, keys, dim, type), keys, program, tagBase, cond);
  }

  private void append(double[] values, RowKeys keys, SamplerProgram program, long tagBase, Conditioning cond) {
    long[] rowTags = new long[keys.size()];
    for (int i = 0; i < rowTags.length; i++) rowTags[i] = tagBase + i;
    append(values, keys, program, rowTags, cond, null);
  }

  /** Appends rows; their cursors are the given ones (resumed chains) or fresh ones of program (null). */
  private void append(double[] values, RowKeys keys, SamplerProgram program, long[] rowTags, Conditioning cond,
                      List<ChainCursor> given) {
    int n = keys.size();
    int old = tags.length;
    x = Arrays.copyOf(x, (old + n) * dim);
    System.arraycopy(values, 0, x, old * dim, n * dim);
    if (registers != null) {
      for (int j = 0; j < registers.length; j++) registers[j] = Arrays.copyOf(registers[j], (old + n) * dim);
    }
    tags = Arrays.copyOf(tags, old + n);
    seeds = Arrays.copyOf(seeds, old + n);
    chains = Arrays.copyOf(chains, old + n);
    failures = Arrays.copyOf(failures, old + n);
    conditioning = Arrays.copyOf(conditioning, old + n);
    labels = Arrays.copyOf(labels, old + n);
    for (int i = 0; i < n; i++) {
      cursors.add(given != null ? given.get(i) : program.start(sde, dim));
      tags[old + i] = rowTags[i];
      seeds[old + i] = keys.seed(i);
      chains[old + i] = keys.chain(i);
      conditioning[old + i] = cond;
      labels[old + i] = cond.label(keys.chain(i));
    }
    anyConditioned |= cond != Conditioning.NONE;
    lastDenoised = null;
  }

  /**
   * Adds chains that left another batch ({@link #export}) at a step boundary: chain i of keys continues from
   * states.get(i) exactly as it would have where it was.
   */
  public void resume(RowKeys keys, SamplerProgram program, long tagBase, Conditioning cond, List<ChainState> states) {
    long[] tagsOf = new long[keys.size()];
    for (int i = 0; i < tagsOf.length; i++) tagsOf[i] = tagBase + i;
    resume(keys, program, tagsOf, cond, states);
  }

  /** {@link #resume(RowKeys, SamplerProgram, long, Conditioning, List)} with the rows' tags given one by one. */
  public void resume(RowKeys keys, SamplerProgram program, long[] rowTags, Conditioning cond,
                     List<ChainState> states) {
    cond.checkFor(model);
    int n = keys.size();
    if (rowTags.length != n) throw new IllegalArgumentException("keys for " + n + " chains, tags for " + rowTags.length);
    if (states.size() != n) throw new IllegalArgumentException("keys for " + n + " chains, states for " + states.size());
    double[] values = new double[n * dim];
    boolean anyRegisters = false;
    for (int i = 0; i < n; i++) {
      ChainState st = states.get(i);
      if (st.x().length != dim) {
        throw new IllegalArgumentException("a chain state of " + st.x().length + " values for a model of " + dim);
      }
      System.arraycopy(st.x(), 0, values, i * dim, dim);
      anyRegisters |= st.registers() != null;
    }
    List<ChainCursor> resumed = new ArrayList<>(n);
    for (ChainState st : states) {
      ChainCursor c = program.start(sde, dim);
      c.restore(st.cursor());
      resumed.add(c);
    }
    int old = tags.length;
    append(values, keys, program, rowTags, cond, resumed);
    if (anyRegisters && registers == null) registers = new double[ChainCursor.REGISTERS][(old + n) * dim];
    for (int i = 0; i < n; i++) {
      ChainState st = states.get(i);
      if (st.registers() == null) continue;
      for (int j = 0; j < st.registers().length / dim; j++) {
        System.arraycopy(st.registers(), j * dim, registers[j], (old + i) * dim, dim);
      }
    }
  }

  /**
   * Takes the rows whose tags satisfy the predicate out of the batch, at a step boundary, and returns their states
   * by tag (failed and finished rows stay, for {@link #retire}).
   */
  public java.util.Map<Long, ChainState> export(java.util.function.LongPredicate tagPredicate) {
    java.util.Map<Long, ChainState> out = save(tagPredicate);
    if (!out.isEmpty()) remove(out::containsKey);
    return out;
  }

  /**
   * The states of the running rows whose tags satisfy the predicate, by tag, left in the batch (a checkpoint: each
   * would continue from its state exactly as the row does). Call it at a step boundary.
   */
  public java.util.Map<Long, ChainState> save(java.util.function.LongPredicate tagPredicate) {
    java.util.Map<Long, ChainState> out = new java.util.LinkedHashMap<>();
    int rows = cursors.size();
    for (int i = 0; i < rows; i++) {
      ChainCursor c = cursors.get(i);
      if (!tagPredicate.test(tags[i]) || failures[i] != null || c.done()) continue;
      double[] k = null;
      if (registers != null) {
        // Up to the last register this chain has written: a chain whose program stores none (its batch-mates' do)
        // moves without them, DPM-Solver++(2M) with two; zeros either way.
        int used = 0;
        for (int j = 0; j < ChainCursor.REGISTERS; j++) {
          for (int e = i * dim; e < (i + 1) * dim; e++) {
            // Raw bits: a register written as -0.0 moves as it is.
            if (Double.doubleToRawLongBits(registers[j][e]) != 0) {
              used = j + 1;
              break;
            }
          }
        }
        if (used > 0) {
          k = new double[used * dim];
          for (int j = 0; j < used; j++) System.arraycopy(registers[j], i * dim, k, j * dim, dim);
        }
      }
      out.put(tags[i], new ChainState(Arrays.copyOfRange(x, i * dim, (i + 1) * dim), k, c.save()));
    }
    return out;
  }

  /**
   * The prior states x_T = priorStd z of the chains of keys, [n x D] row-major with values of the given type; z is
   * keyed by (seed, chain, step 0, PRIOR), and z and priorStd are rounded to the type before their product is.
   */
  public static double[] priorValues(Sde sde, RowKeys keys, int dim, DataType type) {
    double[] v = new double[keys.size() * dim];
    for (int i = 0; i < keys.size(); i++) {
      CounterNoise.normals(keys.seed(i), keys.chain(i), 0, CounterNoise.PRIOR, v, i * dim, dim);
    }
    double std = round(sde.priorStd(), type);
    for (int k = 0; k < v.length; k++) v[k] = round(round(v[k], type) * std, type);
    return v;
  }

  /** {@link #priorValues} as an [n, D] array of the given type. */
  public static INDArray priorStates(Sde sde, RowKeys keys, int dim, DataType type) {
    return HostArrays.matrix(priorValues(sde, keys, dim, type), keys.size(), dim, type);
  }

  /**
   * Advances every row by one tick: one network call for the whole batch. Rows whose state becomes NaN or
   * infinite are marked failed (and leave at the next {@link #retire}); their batch-mates are unaffected.
   */
  public TickReport tick() {
    if (cursors.isEmpty()) return new TickReport(0, 0);
    // The network call's temporaries live in a workspace that is reset each tick.
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(Workspaces.REUSED, TICK_WORKSPACE_ID)) {
      return advance();
    }
  }

  private TickReport advance() {
    int rows = cursors.size();
    double[] t = new double[rows];
    boolean anyMix = false;
    boolean anyStore = false;
    boolean[] live = new boolean[rows];
    for (int i = 0; i < rows; i++) {
      ChainCursor c = cursors.get(i);
      t[i] = c.time;
      if (failures[i] != null || c.done()) continue;   // idle rows ride along at their last time, unchanged
      c.plan();
      t[i] = c.time;
      live[i] = true;
      anyMix |= c.mix != null;
      anyStore |= c.store >= 0;
    }
    if (anyConditioned) inpaint(t, live);
    if ((anyMix || anyStore) && registers == null) {
      registers = new double[ChainCursor.REGISTERS][rows * dim];
    }

    // u = x + sum_j mix_j K_j
    double[] u = x;
    if (anyMix) {
      u = x.clone();
      for (int i = 0; i < rows; i++) {
        double[] mix = live[i] ? cursors.get(i).mix : null;
        if (mix == null) continue;
        for (int j = 0; j < mix.length; j++) {
          if (mix[j] == 0) continue;
          double[] k = registers[j];
          for (int e = i * dim; e < (i + 1) * dim; e++) u[e] += mix[j] * k[e];
        }
        for (int e = i * dim; e < (i + 1) * dim; e++) u[e] = round(u[e]);
      }
    }

    double[] s;
    // The network's input and output are freed here rather than left to the garbage collector (see NativeMemory).
    s = anyConditioned ? guidedScore(u, t) : score(u, t, null);
    networkCalls++;

    double[] z = null;
    boolean[] drew = new boolean[rows];
    for (int i = 0; i < rows; i++) {
      ChainCursor c = cursors.get(i);
      if (!live[i]) {
        c.setUpdate(Affine.IDENTITY);
        continue;
      }
      int o = i * dim;
      double scoreNorm = norm(s, o, dim);
      double noiseNorm = Double.NaN;
      if (c.needsNoise) {
        drew[i] = true;
        if (z == null) z = new double[rows * dim];
        CounterNoise.normals(seeds[i], chains[i], c.ticks + 1, CounterNoise.PREDICTOR, z, o, dim);
        noiseNorm = norm(z, o, dim);
      }
      if (c.store >= 0) {
        double[] k = registers[c.store];
        for (int e = o; e < o + dim; e++) k[e] = round(c.p * u[e] + c.q * s[e]);
      }
      double errorNorm = Double.NaN;
      if (c.errorWeights != null) {
        // The scaled RMS of e = sum_j w_j K_j, with scale atol + rtol max(|x|, |u|) (Hairer et al., II.4).
        double sq = 0;
        for (int e = o; e < o + dim; e++) {
          double err = 0;
          for (int j = 0; j < c.errorWeights.length; j++) err += c.errorWeights[j] * registers[j][e];
          double scale = c.atol + c.rtol * Math.max(Math.abs(x[e]), Math.abs(u[e]));
          sq += (err / scale) * (err / scale);
        }
        errorNorm = Math.sqrt(sq / dim);
      }
      c.update(scoreNorm, noiseNorm, errorNorm);
    }

    if (previewWanted) {
      double[] d = lastDenoised != null && lastDenoised.length == rows * dim ? lastDenoised : new double[rows * dim];
      for (int i = 0; i < rows; i++) {
        double std = sde.std(t[i]);
        double m = sde.meanCoeff(t[i]);
        for (int e = i * dim; e < (i + 1) * dim; e++) d[e] = round((u[e] + std * std * s[e]) / m);
      }
      lastDenoised = d;
    } else {
      lastDenoised = null;
    }
    lastTimes = t;

    // x' = a x + au u + b s + c z + sum_j gamma_j K_j, in place (each element reads only its own inputs);
    // K_0 <- K_6 for first-same-as-last steps.
    for (int i = 0; i < rows; i++) {
      if (!live[i]) continue;
      ChainCursor c = cursors.get(i);
      boolean finite = true;
      for (int e = i * dim; e < (i + 1) * dim; e++) {
        double v = c.a * x[e] + c.b * s[e];
        if (c.au != 0) v += c.au * u[e];
        if (drew[i] && c.c != 0) v += c.c * z[e];
        if (c.gamma != null) {
          for (int j = 0; j < c.gamma.length; j++) if (c.gamma[j] != 0) v += c.gamma[j] * registers[j][e];
        }
        x[e] = round(v);
        finite &= Double.isFinite(x[e]);
      }
      if (c.fsal) System.arraycopy(registers[ChainCursor.REGISTERS - 1], i * dim, registers[0], i * dim, dim);
      if (c.done() && conditioning[i].inpaints()) {
        Conditioning k = conditioning[i];
        for (int e = 0; e < dim; e++) if (k.mask()[e]) x[i * dim + e] = round(k.known()[e]);
      }
      if (!finite) {
        failures[i] = "chain state became " + (hasNaN(x, i * dim, dim) ? "NaN" : "infinite")
            + " at step " + c.step() + " (t=" + t[i] + ")";
      }
    }
    return new TickReport(rows, distinct(t));
  }

  /** One network call on rows of u: the model's scores, [rows x D] row-major. */
  private double[] score(double[] u, double[] t, int[] rowLabels) {
    // The network's input and output are freed here rather than left to the garbage collector (see NativeMemory).
    INDArray in = HostArrays.matrix(u, t.length, dim, type);
    INDArray out = rowLabels == null ? model.score(in, t) : model.score(in, t, rowLabels);
    try {
      return HostArrays.values(out);
    } finally {
      if (out != in) out.close();
      in.close();
    }
  }

  /**
   * The scores of a batch with conditioned rows, in one network call: each row with a label at guidance w is
   * evaluated with its label (w = 0: with the null label), and a row with 0 < w != 1 also without, in extra rows
   * appended to the call; then s = s_null + w (s_y - s_null) (classifier-free guidance).
   */
  private double[] guidedScore(double[] u, double[] t) {
    int rows = t.length;
    int[] rowLabels = new int[rows];
    int extra = 0;
    for (int i = 0; i < rows; i++) {
      double w = conditioning[i].guidance();
      rowLabels[i] = w == 0 ? ScoreModel.NULL_LABEL : labels[i];
      if (rowLabels[i] != ScoreModel.NULL_LABEL && w != 1) extra++;
    }
    if (extra == 0) return score(u, t, rowLabels);
    double[] u2 = Arrays.copyOf(u, (rows + extra) * dim);
    double[] t2 = Arrays.copyOf(t, rows + extra);
    int[] l2 = Arrays.copyOf(rowLabels, rows + extra);
    int[] pair = new int[rows];
    int k = rows;
    for (int i = 0; i < rows; i++) {
      pair[i] = -1;
      if (rowLabels[i] == ScoreModel.NULL_LABEL || conditioning[i].guidance() == 1) continue;
      System.arraycopy(u, i * dim, u2, k * dim, dim);
      t2[k] = t[i];
      l2[k] = ScoreModel.NULL_LABEL;
      pair[i] = k++;
    }
    double[] s2 = score(u2, t2, l2);
    double[] s = Arrays.copyOf(s2, rows * dim);
    for (int i = 0; i < rows; i++) {
      if (pair[i] < 0) continue;
      double w = conditioning[i].guidance();
      int o = pair[i] * dim;
      for (int e = 0; e < dim; e++) s[i * dim + e] = round(s2[o + e] + w * (s2[i * dim + e] - s2[o + e]));
    }
    return s;
  }

  /**
   * Resets the known pixels of inpainting rows to m(t) x0 + std(t) z at the time the coming call evaluates them, z
   * keyed by (seed, chain, tick, INPAINT), so a chain's path stays a function of its own keys.
   */
  private void inpaint(double[] t, boolean[] live) {
    double[] z = null;
    for (int i = 0; i < t.length; i++) {
      Conditioning k = conditioning[i];
      if (!live[i] || !k.inpaints()) continue;
      if (z == null) z = new double[dim];
      CounterNoise.normals(seeds[i], chains[i], cursors.get(i).ticks + 1, CounterNoise.INPAINT, z, 0, dim);
      double m = sde.meanCoeff(t[i]);
      double std = sde.std(t[i]);
      for (int e = 0; e < dim; e++) {
        if (k.mask()[e]) x[i * dim + e] = round(m * k.known()[e] + std * z[e]);
      }
    }
  }

  /**
   * Removes finished and failed rows and returns them (states copied); the others keep their order. Call it at a
   * step boundary, between ticks.
   */
  public List<Finished> retire() {
    List<Finished> out = new ArrayList<>();
    int rows = cursors.size();
    int[] keep = new int[rows];
    int kept = 0;
    for (int i = 0; i < rows; i++) {
      ChainCursor c = cursors.get(i);
      if (failures[i] != null || c.done()) {
        out.add(new Finished(tags[i], Arrays.copyOfRange(x, i * dim, (i + 1) * dim), c.ticks(), failures[i]));
      } else {
        keep[kept++] = i;
      }
    }
    if (!out.isEmpty()) keepRows(Arrays.copyOf(keep, kept));
    return out;
  }

  /** Removes the rows whose tags satisfy the predicate (cancellation), without reporting them. */
  public int remove(java.util.function.LongPredicate tagPredicate) {
    int rows = cursors.size();
    int[] keep = new int[rows];
    int kept = 0;
    for (int i = 0; i < rows; i++) {
      if (!tagPredicate.test(tags[i])) keep[kept++] = i;
    }
    if (kept == rows) return 0;
    keepRows(Arrays.copyOf(keep, kept));
    return rows - kept;
  }

  /** Marks a row failed with the given reason (it leaves at the next {@link #retire}). */
  public void fail(int row, String reason) {
    failures[row] = reason;
  }

  private void keepRows(int[] keep) {
    x = gather(x, keep);
    if (registers != null) {
      for (int j = 0; j < registers.length; j++) registers[j] = gather(registers[j], keep);
    }
    List<ChainCursor> cs = new ArrayList<>(keep.length);
    long[] tg = new long[keep.length];
    long[] sd = new long[keep.length];
    long[] ch = new long[keep.length];
    String[] fl = new String[keep.length];
    Conditioning[] cd = new Conditioning[keep.length];
    int[] lb = new int[keep.length];
    for (int k = 0; k < keep.length; k++) {
      int i = keep[k];
      cs.add(cursors.get(i));
      tg[k] = tags[i];
      sd[k] = seeds[i];
      ch[k] = chains[i];
      fl[k] = failures[i];
      cd[k] = conditioning[i];
      lb[k] = labels[i];
    }
    cursors.clear();
    cursors.addAll(cs);
    tags = tg;
    seeds = sd;
    chains = ch;
    failures = fl;
    conditioning = cd;
    labels = lb;
    anyConditioned = false;
    for (Conditioning c : cd) anyConditioned |= c != Conditioning.NONE;
    lastDenoised = null;
  }

  /** The rows keep of a [rows x dim] row-major array. */
  private double[] gather(double[] v, int[] keep) {
    double[] out = new double[keep.length * dim];
    for (int k = 0; k < keep.length; k++) System.arraycopy(v, keep[k] * dim, out, k * dim, dim);
    return out;
  }

  /** v rounded to the model's type: the state holds values a float model could hold. */
  private double round(double v) {
    return round(v, type);
  }

  private static double round(double v, DataType type) {
    return type == DataType.FLOAT ? (float) v : v;
  }

  private static double norm(double[] v, int offset, int n) {
    double sq = 0;
    for (int e = offset; e < offset + n; e++) sq += v[e] * v[e];
    return Math.sqrt(sq);
  }

  private static boolean hasNaN(double[] v, int offset, int n) {
    for (int e = offset; e < offset + n; e++) if (Double.isNaN(v[e])) return true;
    return false;
  }

  private static int distinct(double[] t) {
    return (int) Arrays.stream(t).distinct().count();
  }
}
