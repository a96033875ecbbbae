package io.scorestream.app;

import io.scorestream.model.data.Normalization;
import io.scorestream.model.score.AnalyticScoreModel;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.sde.VeSde;
import io.scorestream.model.train.Checkpoint;
import java.nio.file.Path;
import java.util.Optional;

/** Resolves {@code --model DIR|analytic:NAME} and {@code --sde} into a score model and its data normalisation. */
final class ModelLoader {
  private ModelLoader() {}

  /**
   * A model ready to sample, with the normalisation its outputs live in and, when known, the exact mixture that
   * generated its data (for the analytic oracle, or a checkpoint trained on a mixture toy), and the smallest time the
   * network was trained at (where its likelihoods start by default).
   */
  record Loaded(ScoreModel model, Normalization normalization, Optional<GaussianMixture> mixture, String dataSpec,
                double minTime) {
    /** The model's own ALD ladder: an analytic mixture's paper ladder, as the node's, or null for the SDE's. */
    double[] aldSigmaRange() {
      return model instanceof AnalyticScoreModel a ? a.mixture().paperLadder().orElse(null) : null;
    }
  }

  static Loaded load(String spec, String sdeName) {
    if (spec.startsWith("analytic:")) {
      GaussianMixture mixture = GaussianMixture.named(spec.substring("analytic:".length()));
      Sde sde = sdeFor(sdeName == null ? "vp" : sdeName, mixture);
      return new Loaded(new AnalyticScoreModel(mixture, sde), Normalization.none(mixture.dim()), Optional.of(mixture),
          "toy:" + mixture.name(), sde.tEps());
    }
    Checkpoint c = Checkpoint.read(Path.of(spec));
    if (sdeName != null && Sde.named(sdeName).kind() != c.sde().kind()) {
      throw new IllegalArgumentException("the checkpoint " + spec + " was trained with --sde "
          + c.sde().kind().name().toLowerCase(java.util.Locale.ROOT) + ", not " + sdeName);
    }
    Optional<GaussianMixture> mixture = Optional.empty();
    if (c.dataSpec().startsWith("toy:") && GaussianMixture.NAMES.contains(c.dataSpec().substring(4))) {
      mixture = Optional.of(GaussianMixture.named(c.dataSpec().substring(4)));
    }
    return new Loaded(c.ema().model(c.sde()), c.normalization(), mixture, c.dataSpec(), c.train().minTime(c.sde()));
  }

  /**
   * The SDE for a target: VE's sigma-max is at least the largest distance between data points (Song and Ermon
   * 2020, technique 1), here the largest distance between component means plus six component stds.
   */
  static Sde sdeFor(String name, GaussianMixture mixture) {
    Sde sde = Sde.named(name);
    if (sde instanceof VeSde ve && mixture != null) {
      double diameter = 0;
      double maxStd = 0;
      for (int i = 0; i < mixture.components(); i++) {
        maxStd = Math.max(maxStd, Math.sqrt(mixture.vars()[i]));
        for (int j = 0; j < mixture.components(); j++) {
          double s = 0;
          for (int k = 0; k < mixture.dim(); k++) {
            double e = mixture.means()[i][k] - mixture.means()[j][k];
            s += e * e;
          }
          diameter = Math.max(diameter, Math.sqrt(s));
        }
      }
      return new VeSde(ve.sigmaMin(), Math.max(ve.sigmaMax(), diameter + 6 * maxStd));
    }
    return sde;
  }
}
