package io.scorestream.app;

import io.scorestream.model.eval.MixtureStats;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.Sampling;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code scorestream sample}: draws samples from a checkpoint or an analytic score and writes them as CSV (and PNG). */
@Command(name = "sample", mixinStandardHelpOptions = true, description = "Draw samples and write them as CSV (and a PNG scatter for 2-D data).")
final class SampleCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, description = "a training output or checkpoint directory, or analytic:ncsn-gmm|gmm8")
  String model;

  @Option(names = "--sde", description = "ve, vp or subvp (analytic models; default vp; must match a checkpoint)")
  String sde;

  @Option(names = "--n", defaultValue = "2000", description = "number of samples (default: ${DEFAULT-VALUE})")
  int n;

  @Option(names = "--seed", defaultValue = "0", description = "noise seed; the same seed gives the same samples")
  long seed;

  @Option(names = "--out", required = true, description = "output CSV")
  Path out;

  @Option(names = "--plot", description = "a PNG scatter of the samples (2-D data)")
  Path plot;

  @Mixin SamplerOptions options;

  @Override
  public Integer call() {
    if (n <= 0) throw new IllegalArgumentException("--n must be > 0, got " + n);
    ModelLoader.Loaded loaded = ModelLoader.load(model, sde);
    SamplerProgram program = options.program(loaded.model().sde(), loaded.aldSigmaRange());
    System.err.println("sampling " + n + " chains of " + program.describe() + " on " + loaded.model().describe());
    ProgressBar bar = new ProgressBar(program.nominalCalls(), "calls");
    long t0 = System.nanoTime();
    Sampling.Result r = Sampling.run(loaded.model(), program, n, seed, null,
        (tick, step, total, t, x, denoised) -> bar.update(Math.min(tick, program.nominalCalls()),
            String.format(Locale.ROOT, "step %d/%d t=%.4f", step, total, t)));
    if (!r.failures().isEmpty()) {
      System.err.println("warning: " + r.failures().size() + " chains failed; first: " + r.failures().get(0));
    }
    double[][] samples = loaded.normalization().invert(r.samples().toDoubleMatrix());
    Csv.write(out, samples);
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf(Locale.ROOT, "wrote %d samples to %s (%d network calls, %.1f s)%n", n, out, r.networkCalls(), secs);
    if (loaded.mixture().isPresent()) {
      MixtureStats st = MixtureStats.of(loaded.mixture().get(), samples);
      System.out.println("mode weights " + fmt(st.modeWeights()) + "  mode stds " + fmt(st.modeStds()));
    }
    if (plot != null) {
      if (samples[0].length != 2) throw new IllegalArgumentException("--plot draws 2-D data; these samples have D = " + samples[0].length);
      double[][] ref = loaded.mixture().map(m -> m.sample(Math.min(n, 2000), seed + 1)).orElse(null);
      Plots.scatter(plot, program.describe(), samples, ref);
      System.out.println("wrote " + plot);
    }
    return 0;
  }

  static String fmt(double[] v) {
    return Arrays.stream(v).mapToObj(x -> String.format(Locale.ROOT, "%.3f", x))
        .collect(java.util.stream.Collectors.joining(" ", "[", "]"));
  }
}
