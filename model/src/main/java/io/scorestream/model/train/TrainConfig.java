package io.scorestream.model.train;

/**
 * Hyper-parameters of score-network training. Immutable; recorded in every checkpoint.
 *
 * @param objective         the loss
 * @param likelihoodWeight  weight DSM by g(t)^2 instead of std(t)^2
 * @param batchSize         rows per optimizer step
 * @param learningRate      Adam's peak learning rate
 * @param warmupSteps       linear warm-up of the learning rate over this many steps
 * @param gradClip          clip the global gradient norm to this value (0: off)
 * @param emaDecay          EMA decay d; the effective decay at step n is min(d, (1 + n) / (10 + n))
 * @param seed              every random draw of training (data, times, noise, projections) derives from it
 * @param smldLevels        number of sigma levels of the discrete NCSN loss
 * @param rademacher        sliced score matching with Rademacher projections (otherwise Gaussian)
 * @param varianceReduced   sliced score matching in its variance-reduced form
 * @param labelDropout      for class-conditional networks, the probability that a row's label is replaced by the
 *                          null label, so one network learns both scores classifier-free guidance mixes (Ho and
 *                          Salimans 2021 use 0.1-0.2)
 * @param importanceSampling with {@code likelihoodWeight}: draw DSM times with density g^2 / std^2 and weight them
 *                          by std^2 (Song et al. 2021's importance-sampled likelihood weighting; {@link ImportanceTimes})
 * @param minTime           DSM times are drawn from [minTime, 1]; 0 means the SDE's t_eps (checkpoints written
 *                          before this field read as 0)
 */
public record TrainConfig(Objective objective, boolean likelihoodWeight, int batchSize, double learningRate,
                          int warmupSteps, double gradClip, double emaDecay, long seed, int smldLevels,
                          boolean rademacher, boolean varianceReduced, double labelDropout,
                          boolean importanceSampling, double minTime) {

  public TrainConfig {
    if (batchSize < 1) throw new IllegalArgumentException("batch must be > 0, got " + batchSize);
    if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
      throw new IllegalArgumentException("lr must be > 0, got " + learningRate);
    }
    if (warmupSteps < 0) throw new IllegalArgumentException("warm-up must be >= 0, got " + warmupSteps);
    if (!(gradClip >= 0)) throw new IllegalArgumentException("grad-clip must be >= 0, got " + gradClip);
    if (!(emaDecay >= 0 && emaDecay < 1)) throw new IllegalArgumentException("ema decay must be in [0, 1), got " + emaDecay);
    if (smldLevels < 2) throw new IllegalArgumentException("smld levels must be >= 2, got " + smldLevels);
    if (!(labelDropout >= 0 && labelDropout < 1)) {
      throw new IllegalArgumentException("label dropout must be in [0, 1), got " + labelDropout);
    }
    if (importanceSampling && !(likelihoodWeight && objective == Objective.DSM)) {
      throw new IllegalArgumentException("importance sampling of times is for the likelihood-weighted DSM loss");
    }
    if (!(minTime >= 0 && minTime < 1)) throw new IllegalArgumentException("min time must be in [0, 1), got " + minTime);
  }

  /** Times drawn uniformly from the SDE's [t_eps, 1]. */
  public TrainConfig(Objective objective, boolean likelihoodWeight, int batchSize, double learningRate,
                     int warmupSteps, double gradClip, double emaDecay, long seed, int smldLevels,
                     boolean rademacher, boolean varianceReduced, double labelDropout) {
    this(objective, likelihoodWeight, batchSize, learningRate, warmupSteps, gradClip, emaDecay, seed, smldLevels,
        rademacher, varianceReduced, labelDropout, false, 0.0);
  }

  /** Without label dropout (unconditional networks). */
  public TrainConfig(Objective objective, boolean likelihoodWeight, int batchSize, double learningRate,
                     int warmupSteps, double gradClip, double emaDecay, long seed, int smldLevels,
                     boolean rademacher, boolean varianceReduced) {
    this(objective, likelihoodWeight, batchSize, learningRate, warmupSteps, gradClip, emaDecay, seed, smldLevels,
        rademacher, varianceReduced, 0.0);
  }

  /** Defaults for 2-D toys: batch 512, lr 2e-3 with 200 warm-up steps, clip 1, EMA 0.999. */
  public static TrainConfig defaults(Objective objective, long seed) {
    return new TrainConfig(objective, false, 512, 2e-3, 200, 1.0, 0.999, seed, 100, false, true);
  }

  public TrainConfig withBatchSize(int b) {
    return new TrainConfig(objective, likelihoodWeight, b, learningRate, warmupSteps, gradClip, emaDecay, seed,
        smldLevels, rademacher, varianceReduced, labelDropout, importanceSampling, minTime);
  }

  public TrainConfig withLearningRate(double lr) {
    return new TrainConfig(objective, likelihoodWeight, batchSize, lr, warmupSteps, gradClip, emaDecay, seed,
        smldLevels, rademacher, varianceReduced, labelDropout, importanceSampling, minTime);
  }

  public TrainConfig withLabelDropout(double p) {
    return new TrainConfig(objective, likelihoodWeight, batchSize, learningRate, warmupSteps, gradClip, emaDecay, seed,
        smldLevels, rademacher, varianceReduced, p, importanceSampling, minTime);
  }

  /**
   * The same recipe with another DSM weighting and time range (for fine-tuning a trained network towards
   * likelihood, Song et al. 2021).
   */
  public TrainConfig withTimeSampling(boolean likelihood, boolean importance, double tMin) {
    return new TrainConfig(objective, likelihood, batchSize, learningRate, warmupSteps, gradClip, emaDecay, seed,
        smldLevels, rademacher, varianceReduced, labelDropout, importance, tMin);
  }

  /** The smallest training time under the SDE: minTime, or the SDE's t_eps when it is 0. */
  public double minTime(io.scorestream.model.sde.Sde sde) {
    return minTime > 0 ? minTime : sde.tEps();
  }

  /** The learning rate at step n (0-based): linear warm-up, then constant. */
  public double learningRateAt(long n) {
    return warmupSteps == 0 ? learningRate : learningRate * Math.min(1.0, (n + 1.0) / warmupSteps);
  }

  /** The EMA decay at step n: min(d, (1 + n) / (10 + n)). */
  public double emaDecayAt(long n) {
    return Math.min(emaDecay, (1.0 + n) / (10.0 + n));
  }
}
