package io.scorestream.actors;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.scorestream.model.sample.SamplerProgram;

/**
 * How the values inside {@link ClusterMessage}s are written by Akka's Jackson serializer (registered through
 * {@code akka.serialization.jackson.jackson-modules}): a {@link SamplerProgram} is written with its kind's name (a
 * fixed list, never a class name from the wire), a {@link SampleEvent} likewise with its type's name, and
 * {@link Samples} as its shape, count and row-major values.
 * Records are written by their components. The model module stays free of serialization concerns: these are
 * mix-ins.
 */
public final class ClusterJackson extends SimpleModule {

  public ClusterJackson() {
    super("scorestream-cluster");
    setMixInAnnotation(SamplerProgram.class, ProgramMixin.class);
    setMixInAnnotation(Samples.class, SamplesMixin.class);
    setMixInAnnotation(SampleEvent.class, EventMixin.class);
  }

  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
      @JsonSubTypes.Type(value = SampleEvent.Accepted.class, name = "accepted"),
      @JsonSubTypes.Type(value = SampleEvent.Preview.class, name = "preview"),
      @JsonSubTypes.Type(value = SampleEvent.Completed.class, name = "completed"),
      @JsonSubTypes.Type(value = SampleEvent.Failed.class, name = "failed"),
      @JsonSubTypes.Type(value = SampleEvent.Cancelled.class, name = "cancelled"),
      @JsonSubTypes.Type(value = SampleEvent.Rejected.class, name = "rejected")})
  private interface EventMixin {}

  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
  @JsonSubTypes({
      @JsonSubTypes.Type(value = SamplerProgram.PredictorCorrector.class, name = "pc"),
      @JsonSubTypes.Type(value = SamplerProgram.ProbabilityFlow.class, name = "ode"),
      @JsonSubTypes.Type(value = SamplerProgram.AnnealedLangevin.class, name = "ald"),
      @JsonSubTypes.Type(value = SamplerProgram.Langevin.class, name = "langevin"),
      @JsonSubTypes.Type(value = SamplerProgram.FewStep.class, name = "few-step")})
  private interface ProgramMixin {}

  private abstract static class SamplesMixin {
    @JsonProperty("shape")
    long[] shape;
    @JsonProperty("count")
    int count;
    @JsonProperty("values")
    double[] values;

    @JsonCreator
    SamplesMixin(@JsonProperty("shape") long[] shape, @JsonProperty("count") int count,
                 @JsonProperty("values") double[] values) {}
  }
}
