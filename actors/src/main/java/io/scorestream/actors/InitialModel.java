package io.scorestream.actors;

import io.scorestream.config.ModelSettings;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.score.MlpConfig;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.Checkpoint;
import java.nio.file.Path;

/**
 * The model a node serves at start-up (registry version 1), resolved from {@code scorestream.model}. Immutable.
 *
 * @param description what it is, for the registry
 * @param trainStep   the optimizer step of trained weights, -1 otherwise
 * @param factory     builds the model on a sampler's thread
 * @param sde         its SDE (every later version must have the same)
 * @param dim         its data dimension
 * @param weights     the MLP weights a trainer starts from, or null for an analytic model
 * @param aldSigmaRange the model's own annealed Langevin ladder {sigma_1, sigma_L} (a mixture's paper ladder), or
 *                    null for its SDE's
 */
public record InitialModel(String description, long trainStep, ModelRegistry.ModelFactory factory, Sde sde, int dim,
                           NetworkWeights weights, double[] aldSigmaRange) {

  /** A model with its SDE's annealed Langevin ladder. */
  public InitialModel(String description, long trainStep, ModelRegistry.ModelFactory factory, Sde sde, int dim,
                      NetworkWeights weights) {
    this(description, trainStep, factory, sde, dim, weights, null);
  }

  /** Resolves {@code analytic:NAME}, {@code init:SEED} or {@code checkpoint:DIR}. */
  public static InitialModel from(ModelSettings m) {
    return switch (m.sourceKind()) {
      case ANALYTIC -> analytic(GaussianMixture.named(m.sourceArgument()), Sde.named(m.sde()));
      case INIT -> {
        Sde sde = Sde.named(m.sde());
        long seed = Long.parseLong(m.sourceArgument());
        NetworkWeights w = NetworkWeights.initialize(MlpConfig.reference(m.dim()), seed);
        yield new InitialModel("fresh reference MLP (seed " + seed + ")", 0, ModelRegistry.network(w, sde), sde, m.dim(),
            w);
      }
      case CHECKPOINT -> {
        Checkpoint c = Checkpoint.read(Path.of(m.sourceArgument()));
        yield new InitialModel("checkpoint " + m.sourceArgument() + " step " + c.step() + " (ema)", c.step(),
            ModelRegistry.network(c.ema(), c.sde()), c.sde(), c.ema().config().dim(), c.ema());
        // (image checkpoints are served like any other: the network comes from the checkpoint's description)
      }
    };
  }

  /** The exact score of a Gaussian mixture under sde. */
  public static InitialModel analytic(GaussianMixture mixture, Sde sde) {
    return new InitialModel("analytic " + mixture.name() + " over " + sde.describe(), -1,
        ModelRegistry.analytic(mixture, sde), sde, mixture.dim(), null, mixture.paperLadder().orElse(null));
  }

  /** Any model factory; sde and dim must be those of the models it builds. */
  public static InitialModel of(String description, ModelRegistry.ModelFactory factory, Sde sde, int dim) {
    return new InitialModel(description, -1, factory, sde, dim, null);
  }

  /** What clients need to know of the model: the shape of a sample and the number of class labels (0: none); the
   * node reads them from its start-up check of the model. */
  public record Facts(long[] shape, int classes) {}


  /** Builds one instance on the calling thread (to check it). */
  ScoreModel build() {
    return factory.create();
  }
}
