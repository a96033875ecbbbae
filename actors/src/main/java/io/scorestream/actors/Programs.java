package io.scorestream.actors;

import io.scorestream.config.CoordinatorSettings;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.SamplerPrograms;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.sde.Sde;

/**
 * The node's use of {@link SamplerPrograms}: its limits come from the coordinator's settings, and a bad parameter
 * becomes an {@link ErrorCode#INVALID_ARGUMENT} {@link ScoreStreamException}. Pure; any thread.
 */
public final class Programs {
  private Programs() {}

  /** The step limits of the node's coordinator, with the SDE's ALD ladder. */
  public static SamplerPrograms.Limits limits(CoordinatorSettings settings) {
    return limits(settings, null);
  }

  /** The step limits of the node's coordinator and the served model's ALD ladder (null: its SDE's). */
  public static SamplerPrograms.Limits limits(CoordinatorSettings settings, double[] aldSigmaRange) {
    return new SamplerPrograms.Limits(settings.defaultSteps(), settings.maxSteps(), aldSigmaRange);
  }

  /**
   * The program of spec under sde, within the limits of settings.
   *
   * @throws ScoreStreamException INVALID_ARGUMENT naming the bad parameter
   */
  public static SamplerProgram build(SamplerSpec spec, Sde sde, CoordinatorSettings settings) {
    return build(spec, sde, limits(settings));
  }

  /**
   * The program of spec under sde within limits.
   *
   * @throws ScoreStreamException INVALID_ARGUMENT naming the bad parameter
   */
  public static SamplerProgram build(SamplerSpec spec, Sde sde, SamplerPrograms.Limits limits) {
    try {
      return SamplerPrograms.build(spec, sde, limits);
    } catch (IllegalArgumentException e) {
      throw new ScoreStreamException(ErrorCode.INVALID_ARGUMENT, e.getMessage());
    }
  }
}
