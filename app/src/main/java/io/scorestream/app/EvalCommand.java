package io.scorestream.app;

import io.scorestream.model.data.DataSource;
import io.scorestream.model.data.DataSpecs;
import io.scorestream.model.eval.EnergyDistance;
import io.scorestream.model.eval.MixtureStats;
import io.scorestream.model.likelihood.Likelihood;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.Sampling;
import io.scorestream.model.score.GaussianMixture;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code scorestream eval}: the probability-flow NLL of held-out points (nats and bits per dimension, in the data's
 * own units), and for 2-D mixture toys the energy distance of model samples to fresh exact samples and the mode
 * weights.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate a model: NLL (--nll), energy distance and mode weights for 2-D toys.")
final class EvalCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, description = "a training output or checkpoint directory, or analytic:NAME")
  String model;

  @Option(names = "--sde", description = "ve, vp or subvp (analytic models; default vp)")
  String sde;

  @Option(names = "--data", description = "evaluation data (default: what the model was trained on)")
  String data;

  @Option(names = "--n", defaultValue = "1000", description = "held-out points for the NLL (default: ${DEFAULT-VALUE})")
  int n;

  @Option(names = "--samples", defaultValue = "2000", description = "model samples for the energy distance (default: ${DEFAULT-VALUE})")
  int samples;

  @Option(names = "--nll", description = "compute the NLL along the probability-flow ODE")
  boolean nll;

  @Option(names = "--divergence", description = "exact, rademacher or gaussian (default: exact for D <= 16)")
  String divergence;

  @Option(names = "--seed", defaultValue = "1", description = "seed of the held-out points, probes and samples")
  long seed;

  @Mixin SamplerOptions options;

  @Override
  public Integer call() {
    if (n <= 0) throw new IllegalArgumentException("--n must be > 0, got " + n);
    if (samples <= 0) throw new IllegalArgumentException("--samples must be > 0, got " + samples);
    ModelLoader.Loaded loaded = ModelLoader.load(model, sde);
    String spec = data != null ? data : loaded.dataSpec();
    DataSource source = DataSpecs.parse(spec, loaded.normalization().kind());
    if (source.dim() != loaded.model().dim()) {
      throw new IllegalArgumentException("--data has D = " + source.dim() + " but the model has D = " + loaded.model().dim());
    }
    System.out.println("model " + loaded.model().describe());
    if (nll) {
      // Held-out points from the data's own stream, normalised the way the model was trained.
      double[][] raw = loaded.normalization().invert(source.batch(seed + 1_000_003L, 0, n));
      double[][] x = loaded.normalization().apply(raw);
      Likelihood.Divergence div = divergence != null ? Likelihood.Divergence.named(divergence)
          : source.dim() <= Likelihood.EXACT_MAX_DIM ? Likelihood.Divergence.EXACT : Likelihood.Divergence.RADEMACHER;
      long t0 = System.nanoTime();
      Likelihood.Result r = Likelihood.evaluate(loaded.model(), Nd4j.createFromArray(x), div, options.rtol,
          options.atol, seed);
      double natsPerDim = r.natsPerDim() - loaded.normalization().logDetJacobian() / source.dim();
      System.out.printf(Locale.ROOT, "nll %.4f nats/dim  %.4f bits/dim  (%d points of %s, divergence %s, %d calls, %.1f s)%n",
          natsPerDim, natsPerDim / Math.log(2), n, spec, div.name().toLowerCase(Locale.ROOT), r.networkCalls(),
          (System.nanoTime() - t0) / 1e9);
      loaded.mixture().ifPresent(m -> {
        double sum = 0;
        for (double[] row : raw) sum += m.logDensity(row, 1, 0);
        double exact = -sum / raw.length / m.dim();
        System.out.printf(Locale.ROOT, "exact mixture nll %.4f nats/dim on the same points (gap %+.4f)%n", exact, natsPerDim - exact);
      });
    }
    if (loaded.mixture().isPresent() && loaded.model().dim() == 2) {
      GaussianMixture m = loaded.mixture().get();
      SamplerProgram program = options.program(loaded.model().sde(), loaded.aldSigmaRange());
      double[][] xs = loaded.normalization().invert(
          Sampling.run(loaded.model(), program, samples, seed, null, null).samples().toDoubleMatrix());
      double ed = EnergyDistance.of(xs, m.sample(samples, seed + 7));
      System.out.printf(Locale.ROOT, "energy distance %.5f to %d fresh exact samples (%s)%n", ed, samples, program.describe());
      MixtureStats st = MixtureStats.of(m, xs);
      System.out.println("mode weights " + SampleCommand.fmt(st.modeWeights()) + "  mode stds " + SampleCommand.fmt(st.modeStds()));
    }
    return 0;
  }
}
