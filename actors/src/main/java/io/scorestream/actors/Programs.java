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

  /** The step limits of the node's coordinator. */
  public static SamplerPrograms.Limits limits(CoordinatorSettings settings) {
    return new SamplerPrograms.Limits(settings.defaultSteps(), settings.maxSteps());
  }

  /**
   * The program of spec under sde, within the limits of settings.
   *
   * @throws ScoreStreamException INVALID_ARGUMENT naming the bad parameter
   */
  public static SamplerProgram build(SamplerSpec spec, Sde sde, CoordinatorSettings settings) {
    try {
      return SamplerPrograms.build(spec, sde, limits(settings));
    } catch (IllegalArgumentException e) {
      throw new ScoreStreamException(ErrorCode.INVALID_ARGUMENT, e.getMessage());
    }
  }
}
