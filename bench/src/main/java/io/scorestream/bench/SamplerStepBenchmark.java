package io.scorestream.bench;

import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.sample.ChainBatch;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.score.MlpConfig;
import io.scorestream.model.score.MlpScoreModel;
import io.scorestream.model.score.NetworkWeights;
import io.scorestream.model.sde.Sde;
import io.scorestream.model.train.MlpGraph;
import io.scorestream.model.train.Objective;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The sampler's inner loop on the reference MLP (2-D data): one predictor-corrector tick of a full batch, the bare
 * INDArray forward pass, and SameDiff's forward pass on the same weights (the per-op overhead comparison).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SamplerStepBenchmark {
  @Param({"1", "256", "4096"})
  int batch;

  @Param({"vp", "ve"})
  String sde;

  private ChainBatch chains;
  private MlpScoreModel model;
  private INDArray x;
  private double[] t;
  private MlpGraph graph;
  private Map<String, INDArray> feed;

  @Setup(Level.Trial)
  public void setUp() {
    Sde s = Sde.named(sde);
    NetworkWeights w = NetworkWeights.initialize(MlpConfig.reference(2), 0);
    model = new MlpScoreModel(w, s);
    chains = new ChainBatch(model);
    RowKeys keys = RowKeys.of(1, 0, batch);
    chains.add(ChainBatch.priorStates(s, keys, 2, model.dataType()), keys,
        SamplerProgram.PredictorCorrector.defaults(s, 100_000_000), 0);
    x = Nd4j.rand(DataType.FLOAT, batch, 2);
    t = new double[batch];
    java.util.Arrays.fill(t, 0.5);
    graph = new MlpGraph(w, Objective.DSM, true);
    feed = new HashMap<>();
    feed.put("x", x);
    feed.put("cond", Nd4j.valueArrayOf(new long[] {batch, 1}, 0.5f));
    feed.put("scale", Nd4j.valueArrayOf(new long[] {batch, 1}, 1.0f));
    feed.put("weight", Nd4j.valueArrayOf(new long[] {batch, 1}, 1.0f));
    feed.put("target", Nd4j.zeros(DataType.FLOAT, batch, 2));
  }

  /** One tick: network call, noise, per-row coefficients, update, NaN check. */
  @Benchmark
  public ChainBatch.TickReport tick() {
    return chains.tick();
  }

  /** The bare forward pass on plain INDArrays (the sampling path). */
  @Benchmark
  public INDArray forwardIndArray() {
    return model.score(x, t);
  }

  /** The same function through SameDiff's graph executor. */
  @Benchmark
  public Map<String, INDArray> forwardSameDiff() {
    return graph.sameDiff().output(feed, MlpGraph.SCORE);
  }
}
