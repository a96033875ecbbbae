package io.scorestream.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import io.scorestream.actors.ClusterJackson;
import io.scorestream.actors.Sampler;
import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.sample.ChainBatch;
import io.scorestream.model.sample.Conditioning;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.SamplerPrograms;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.score.AnalyticScoreModel;
import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.sde.Sde;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
 * The cost of moving a slice of chains between samplers, without the network: take {@code chains} running chains out
 * of a batch at a step boundary ({@link ChainBatch#export}), write them as a {@link Sampler.SliceProgress} in CBOR
 * with the cluster's Jackson module (what Artery carries), read them back, and resume them in the batch
 * ({@link ChainBatch#resume}). Vectors (D = 2) and MNIST-sized images (D = 784); a predictor-corrector program
 * (no registers move) and DPM-Solver++(2M) (its previous denoiser moves with the chain). The bytes written per move
 * are printed once per trial ({@code # bytes per move}). The score is the exact one of a single Gaussian: ticks are not measured.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ChainMoveBenchmark {
  @Param({"2", "784"})
  int dim;

  @Param({"pc", "dpmpp-2m"})
  String sampler;

  @Param({"64"})
  int chains;

  private ChainBatch batch;
  private SamplerProgram program;
  private RowKeys keys;
  private long[] tags;
  private final ObjectMapper cbor = new ObjectMapper(new CBORFactory()).registerModule(new ClusterJackson());

  @Setup(Level.Trial)
  public void setUp() {
    Sde vp = Sde.named("vp");
    GaussianMixture one = new GaussianMixture("normal-" + dim, new double[] {1}, new double[][] {new double[dim]},
        new double[] {1});
    batch = new ChainBatch(new AnalyticScoreModel(one, vp));
    SamplerSpec spec = sampler.equals("pc") ? SamplerSpec.pc(100) : SamplerSpec.fewStep(sampler, 50);
    program = SamplerPrograms.build(spec, vp, new SamplerPrograms.Limits(100, 1000));
    keys = RowKeys.of(7, 0, chains);
    tags = new long[chains];
    for (int i = 0; i < chains; i++) tags[i] = i;
    batch.addFromPrior(keys, program, 0);
    for (int i = 0; i < 3; i++) batch.tick();
    try {
      System.out.printf("%n# bytes per move: %d (%d chains, dim %d, %s)%n", moveOnce(), chains, dim, sampler);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** One move; the bytes it wrote. */
  private int moveOnce() throws Exception {
    Map<Long, ChainBatch.ChainState> out = batch.export(tag -> true);
    List<ChainBatch.ChainState> states = new ArrayList<>(out.values());
    List<double[]> results = new ArrayList<>(states.size());
    for (int i = 0; i < states.size(); i++) results.add(null);
    byte[] bytes = cbor.writeValueAsBytes(new Sampler.SliceProgress(states, results, List.of(1L), 0, true, 10));
    Sampler.SliceProgress back = cbor.readValue(bytes, Sampler.SliceProgress.class);
    batch.resume(keys, program, tags, Conditioning.NONE, back.states());
    return bytes.length;
  }

  @Benchmark
  public int move() throws Exception {
    return moveOnce();
  }
}
