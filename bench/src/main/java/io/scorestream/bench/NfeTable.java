package io.scorestream.bench;

import io.scorestream.model.data.ToyData;
import io.scorestream.model.eval.EnergyDistance;
import io.scorestream.model.eval.MixtureStats;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.SamplerPrograms;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.sample.Sampling;
import io.scorestream.model.score.AnalyticScoreModel;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.score.MlpConfig;
import io.scorestream.model.score.MlpScoreModel;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.Checkpoint;
import io.scorestream.model.train.Objective;
import io.scorestream.model.train.ScoreTrainer;
import io.scorestream.model.train.TrainConfig;
import java.awt.BasicStroke;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Sample quality against network evaluations (NFE), for every sampler, on gmm8: the exact score and a trained
 * reference MLP, so a user can pick a sampler for a latency budget. For each budget it sets the sampler's steps so
 * that one chain makes at most that many network calls (the adaptive RK45 rows are by tolerance, with the calls it
 * took), runs the chains from the same seed, and reports the largest mode-weight error (against 1/8), the largest
 * mode-std error (against 0.5) and the energy distance to exact samples. A "data" row gives the floor of each
 * measure at this many samples.
 *
 * <pre>
 *   java -cp "$CP" io.scorestream.bench.NfeTable [--sde vp] [--chains 10000] [--nfe 5,10,20,50,100,1000]
 *       [--samplers all] [--train-steps 3000] [--checkpoint DIR] [--out nfe.md] [--plot nfe.png] [--models both]
 * </pre>
 */
public final class NfeTable {
  private NfeTable() {}

  /** One row of the table. */
  record Row(String model, String sampler, int budget, double nfe, double weightError, double stdError,
             double energy, int failed) {}

  /** A sampler of the table: the spec that spends at most a budget of calls per chain, or null if none fits. */
  record Entry(String name, IntFunction<SamplerSpec> forBudget) {}

  private static final SamplerSpec NONE = null;

  static List<Entry> entries() {
    List<Entry> e = new ArrayList<>();
    e.add(new Entry("pc euler-maruyama", n -> n < 2 ? NONE : SamplerSpec.pc(n - 1, "euler-maruyama", "none", 0, 0.16)));
    e.add(new Entry("pc ancestral (DDPM)", n -> n < 2 ? NONE : SamplerSpec.pc(n - 1, "ancestral", "none", 0, 0.16)));
    e.add(new Entry("pc reverse-diffusion + langevin", n -> n < 3 ? NONE
        : SamplerSpec.pc((n - 1) / 2, "reverse-diffusion", "langevin", 1, 0.16)));
    e.add(new Entry("ald (10 levels)", n -> n < 2 ? NONE : n >= 11 ? SamplerSpec.fewStep("ald", (n - 1) / 10)
        .withDenoise(true) : new SamplerSpec("ald", 1, null, null, null, null, true, null, null, null, n - 1, null, null,
        null, null, null, null, null)));
    e.add(new Entry("ode heun", n -> n < 2 ? NONE : SamplerSpec.ode("heun", n / 2)));
    e.add(new Entry("ddim (eta 0)", n -> n < 2 ? NONE : SamplerSpec.fewStep("ddim", n - 1)));
    e.add(new Entry("ddim (eta 1)", n -> n < 2 ? NONE : SamplerSpec.fewStep("ddim", n - 1).withFewStep(1.0, null, null)));
    e.add(new Entry("dpmpp-2m", n -> n < 2 ? NONE : SamplerSpec.fewStep("dpmpp-2m", n - 1)));
    e.add(new Entry("dpmpp-2m-sde", n -> n < 2 ? NONE : SamplerSpec.fewStep("dpmpp-2m-sde", n - 1)));
    e.add(new Entry("edm heun", n -> n < 3 ? NONE : SamplerSpec.fewStep("edm", (n - 1) / 2)));
    return e;
  }

  /** Samples on each side of the energy distance (O(n^2) pairs; its noise at 5,000 is about 0.001). */
  static final int ENERGY_SAMPLES = 5000;

  /** RK45 rows: its calls are set by the tolerance, not a budget. */
  static final double[] RK45_TOLERANCES = {1e-1, 1e-2, 1e-3, 1e-5};

  public static void main(String[] argv) {
    BenchArgs.run(() -> run(argv));
  }

  static void run(String[] argv) throws IOException {
    BenchArgs args = new BenchArgs("NfeTable", argv);
    Sde sde = Sde.named(args.string("sde", "vp"));
    int chains = args.integer("chains", 10_000);
    List<Integer> budgets = args.numbers("nfe", "5,10,20,50,100,1000").stream().map(Double::intValue).toList();
    String models = args.string("models", "both");
    int trainSteps = args.integer("train-steps", 3000);
    String checkpoint = args.string("checkpoint", null);
    String out = args.string("out", null);
    String plot = args.string("plot", null);
    List<String> only = args.list("samplers", "all");
    long seed = args.longValue("seed", 2024);
    args.done();
    if (chains < 100) throw new IllegalArgumentException("--chains must be >= 100, got " + chains);

    GaussianMixture gmm8 = GaussianMixture.named("gmm8");
    Map<String, ScoreModel> byName = new LinkedHashMap<>();
    if (!models.equals("mlp")) byName.put("analytic", new AnalyticScoreModel(gmm8, sde));
    if (!models.equals("analytic")) byName.put("mlp", trainedMlp(sde, trainSteps, checkpoint));

    double[][] reference = gmm8.sample(ENERGY_SAMPLES, seed + 1);
    List<Row> rows = new ArrayList<>();
    double[][] floorSample = gmm8.sample(chains, seed + 2);
    rows.add(measure("data", "exact samples (floor)", 0, 0, floorSample, gmm8, reference, 0));
    SamplerPrograms.Limits limits = new SamplerPrograms.Limits(500, 100_000);
    for (Map.Entry<String, ScoreModel> m : byName.entrySet()) {
      for (Entry e : entries()) {
        if (!only.contains("all") && !only.contains(e.name().split(" ")[0])) continue;
        for (int budget : budgets) {
          SamplerSpec spec = e.forBudget().apply(budget);
          if (spec == null) continue;
          SamplerProgram p = SamplerPrograms.build(spec, sde, limits);
          rows.add(runOne(m.getKey(), e.name(), budget, p, m.getValue(), chains, seed, gmm8, reference));
          System.err.println(format(rows.get(rows.size() - 1)));
        }
      }
      if (only.contains("all") || only.contains("ode")) {
        for (double tol : RK45_TOLERANCES) {
          SamplerProgram p = SamplerPrograms.build(SamplerSpec.rk45(tol, tol), sde, limits);
          rows.add(runOne(m.getKey(), "ode rk45 (tol " + Report.trim(tol) + ")", 0, p, m.getValue(), chains, seed,
              gmm8, reference));
          System.err.println(format(rows.get(rows.size() - 1)));
        }
      }
    }
    String table = markdown(sde, chains, rows);
    System.out.println(table);
    if (out != null) Files.writeString(Path.of(out), table);
    if (plot != null) plot(Path.of(plot), sde, rows);
  }

  private static Row runOne(String model, String sampler, int budget, SamplerProgram p, ScoreModel m, int chains,
                            long seed, GaussianMixture gmm8, double[][] reference) {
    Sampling.Result r = Sampling.run(m, p, chains, seed, null, null);
    if (r.meanTicksPerChain() > Math.max(budget, 1) && budget > 0) {
      throw new IllegalStateException(p.describe() + " took " + r.meanTicksPerChain() + " calls, budget " + budget);
    }
    return measure(model, sampler, budget, r.meanTicksPerChain(), r.samples().toDoubleMatrix(), gmm8, reference,
        r.failures().size());
  }

  private static Row measure(String model, String sampler, int budget, double nfe, double[][] x, GaussianMixture gmm8,
                             double[][] reference, int failed) {
    double[] eighth = new double[8];
    Arrays.fill(eighth, 1.0 / 8);
    double[] half = new double[8];
    Arrays.fill(half, 0.5);
    MixtureStats stats = MixtureStats.of(gmm8, x);
    double energy = EnergyDistance.of(Arrays.copyOf(x, Math.min(ENERGY_SAMPLES, x.length)), reference);
    return new Row(model, sampler, budget, nfe, stats.maxWeightError(eighth), stats.maxStdError(half), energy, failed);
  }

  /** The reference MLP trained on gmm8 with denoising score matching (or read from a checkpoint). */
  private static ScoreModel trainedMlp(Sde sde, int steps, String checkpoint) {
    if (checkpoint != null) {
      Checkpoint c = Checkpoint.read(Path.of(checkpoint));
      if (c.sde().kind() != sde.kind()) {
        throw new IllegalArgumentException("the checkpoint was trained with " + c.sde().describe() + ", not "
            + sde.describe());
      }
      return new MlpScoreModel(c.ema(), c.sde());
    }
    long t0 = System.nanoTime();
    ScoreTrainer trainer = new ScoreTrainer(NetworkWeights.initialize(MlpConfig.reference(2), 0), sde,
        TrainConfig.defaults(Objective.DSM, 0), new ToyData("gmm8"));
    try {
      for (int i = 0; i < steps; i++) trainer.trainStep();
      System.err.printf(Locale.ROOT, "trained the reference MLP on gmm8 for %d steps in %.0f s%n", steps,
          (System.nanoTime() - t0) / 1e9);
      return new MlpScoreModel(trainer.emaWeights(), sde);
    } finally {
      trainer.close();
    }
  }

  static String format(Row r) {
    return String.format(Locale.ROOT, "| %s | %s | %s | %s | %.3f | %.3f | %.4f |%s", r.model(), r.sampler(),
        r.budget() == 0 ? "-" : String.valueOf(r.budget()), Report.trim(Math.round(r.nfe() * 10) / 10.0),
        r.weightError(), r.stdError(), r.energy(), r.failed() > 0 ? " " + r.failed() + " failed" : "");
  }

  static String markdown(Sde sde, int chains, List<Row> rows) {
    StringBuilder sb = new StringBuilder();
    sb.append("gmm8 under ").append(sde.describe()).append(", ").append(chains).append(" chains per row; weight and ")
        .append("std errors are the largest over the 8 modes; energy distance between 5,000 of the samples and 5,000 exact ones.\n\n");
    sb.append("| model | sampler | budget | NFE | weight err | std err | energy dist |\n");
    sb.append("|---|---|---:|---:|---:|---:|---:|\n");
    for (Row r : rows) sb.append(format(r)).append('\n');
    return sb.toString();
  }

  private static void plot(Path png, Sde sde, List<Row> rows) throws IOException {
    List<String> models = rows.stream().map(Row::model).filter(m -> !m.equals("data")).distinct().toList();
    List<XYChart> charts = new ArrayList<>();
    for (String model : models) {
      XYChart chart = new XYChartBuilder().width(900).height(560)
          .title("gmm8, " + model + " score under " + sde.describe() + ": energy distance vs network calls")
          .xAxisTitle("network calls per chain (NFE)").yAxisTitle("energy distance to exact samples").build();
      chart.getStyler().setXAxisLogarithmic(true);
      chart.getStyler().setYAxisLogarithmic(true);
      chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
      chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
      Map<String, List<Row>> bySampler = new LinkedHashMap<>();
      for (Row r : rows) if (r.model().equals(model)) bySampler.computeIfAbsent(seriesName(r), k -> new ArrayList<>()).add(r);
      for (Map.Entry<String, List<Row>> s : bySampler.entrySet()) {
        double[] x = s.getValue().stream().mapToDouble(Row::nfe).toArray();
        double[] y = s.getValue().stream().mapToDouble(r -> Math.max(r.energy(), 1e-4)).toArray();
        chart.addSeries(s.getKey(), x, y).setLineStyle(new BasicStroke(1.5f));
      }
      double floor = rows.stream().filter(r -> r.model().equals("data")).mapToDouble(Row::energy).findFirst().orElse(0);
      double[] xs = {3, 2000};
      chart.addSeries("floor (exact samples)", xs, new double[] {Math.max(floor, 1e-4), Math.max(floor, 1e-4)})
          .setLineStyle(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f}, 0f));
      charts.add(chart);
    }
    for (int i = 0; i < charts.size(); i++) {
      String base = png.toString().replaceAll("\\.png$", "") + (charts.size() > 1 ? "-" + models.get(i) : "");
      BitmapEncoder.saveBitmap(charts.get(i), base, BitmapEncoder.BitmapFormat.PNG);
    }
  }

  private static String seriesName(Row r) {
    return r.sampler().startsWith("ode rk45") ? "ode rk45" : r.sampler();
  }
}
