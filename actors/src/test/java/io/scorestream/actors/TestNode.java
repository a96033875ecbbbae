package io.scorestream.actors;

import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.FishingOutcomes;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.stream.javadsl.Sink;
import com.typesafe.config.ConfigFactory;
import io.scorestream.config.ScoreStreamSettings;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.sample.Sampling;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** A node spawned in a test kit, its facade, and helpers to drive and inspect it. */
final class TestNode implements AutoCloseable {
  /** Guards against hangs only; never a performance bound. */
  static final long HANG_GUARD_S = 120;

  final ActorTestKit kit;
  final ScoreStreamSettings settings;
  final ActorRef<ScoreStreamNode.Command> node;
  final ScoreStreamNode.Refs refs;
  final ScoreStream api;

  private TestNode(ActorTestKit kit, ScoreStreamSettings settings, ActorRef<ScoreStreamNode.Command> node,
                   ScoreStreamNode.Refs refs, ScoreStream api) {
    this.kit = kit;
    this.settings = settings;
    this.node = node;
    this.refs = refs;
    this.api = api;
  }

  static ScoreStreamSettings settings(String overrides) {
    return ScoreStreamSettings.from(ConfigFactory.parseString(overrides)
        .withFallback(ConfigFactory.parseResources("application-test.conf")).withFallback(ConfigFactory.load())
        .resolve());
  }

  /** A test kit with quiet logging and long default expectations (hang guards, not bounds). */
  static ActorTestKit kit() {
    return ActorTestKit.create(ConfigFactory.parseResources("application-test.conf").withFallback(ConfigFactory.load()));
  }

  static TestNode start(ActorTestKit kit, String overrides, InitialModel model) throws Exception {
    ScoreStreamSettings s = settings(overrides);
    return start(kit, s, kit.spawn(ScoreStreamNode.create(s, model)));
  }

  /** A node serving several models by name, the first one primary. */
  static TestNode start(ActorTestKit kit, String overrides, java.util.Map<String, InitialModel> models)
      throws Exception {
    ScoreStreamSettings s = settings(overrides);
    return start(kit, s, kit.spawn(ScoreStreamNode.create(s, models)));
  }

  private static TestNode start(ActorTestKit kit, ScoreStreamSettings s, ActorRef<ScoreStreamNode.Command> node)
      throws Exception {
    TestProbe<ScoreStreamNode.Refs> probe = kit.createTestProbe();
    node.tell(new ScoreStreamNode.GetRefs(probe.ref()));
    ScoreStreamNode.Refs refs = probe.receiveMessage();
    ScoreStream api = new ScoreStream(kit.system(), refs, s.session(), s.askTimeout());
    TestNode n = new TestNode(kit, s, node, refs, api);
    // Samplers register with the coordinator as they start; tests that count on all of them wait for it.
    for (ScoreStreamNode.ServedModel m : refs.models()) {
      for (int i = 0; await(api.status(m.name())).samplers().size() < s.samplers().size(); i++) {
        if (i > 10_000) throw new AssertionError("samplers of " + m.name() + " did not register");
        Thread.sleep(2);
      }
    }
    return n;
  }

  /** The status of sampler i of the named model. */
  Sampler.Status samplerStatus(String model, int i) {
    TestProbe<Sampler.Status> probe = kit.createTestProbe();
    api.model(model).orElseThrow().samplers().get(i).tell(new Sampler.GetStatus(probe.ref()));
    return probe.receiveMessage();
  }

  Sampler.Status samplerStatus(int i) {
    TestProbe<Sampler.Status> probe = kit.createTestProbe();
    refs.samplers().get(i).tell(new Sampler.GetStatus(probe.ref()));
    return probe.receiveMessage();
  }

  Coordinator.NodeStatus status() throws Exception {
    return api.status().toCompletableFuture().get(HANG_GUARD_S, TimeUnit.SECONDS);
  }

  /** Runs the request's stream into a probe, in arrival order. */
  TestProbe<SampleEvent> watch(GenerateRequest r) {
    TestProbe<SampleEvent> probe = kit.createTestProbe();
    watch(r, probe);
    return probe;
  }

  void watch(GenerateRequest r, TestProbe<SampleEvent> probe) {
    api.submit(r).runWith(Sink.foreach(probe.ref()::tell), kit.system());
  }

  /** The whole event list of a request. */
  CompletionStage<List<SampleEvent>> events(GenerateRequest r) {
    return api.submit(r).runWith(Sink.seq(), kit.system());
  }

  static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(HANG_GUARD_S, TimeUnit.SECONDS);
  }

  /** Waits until a probe sees a terminal event of the request, skipping others; returns it. */
  static SampleEvent awaitTerminal(TestProbe<SampleEvent> probe) {
    List<SampleEvent> got = probe.fishForMessage(Duration.ofSeconds(HANG_GUARD_S),
        e -> e.terminal() ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore());
    return got.get(got.size() - 1);
  }

  /** The program the coordinator builds for spec on this node. */
  SamplerProgram program(SamplerSpec spec) {
    return Programs.build(spec, refs.sde(), settings.coordinator());
  }

  /** The offline samples of the same chains, row-major. */
  /** A request without previews or deadline. */
  static GenerateRequest request(String id, int count, long seed, SamplerSpec spec) {
    return new GenerateRequest(id, count, seed, spec, 0, null);
  }

  static double[] offline(ModelRegistry.ModelFactory model, SamplerProgram program, int n, long seed) {
    Sampling.Result r = Sampling.run(model.create(), program, n, seed, null, null);
    assertTrue(r.failures().isEmpty(), "offline run failed: " + r.failures());
    double[][] rows = r.samples().toDoubleMatrix();
    double[] out = new double[n * rows[0].length];
    for (int i = 0; i < n; i++) System.arraycopy(rows[i], 0, out, i * rows[i].length, rows[i].length);
    return out;
  }

  static boolean allFinite(double[] v) {
    for (double d : v) if (!Double.isFinite(d)) return false;
    return true;
  }

  @Override
  public void close() {
    kit.stop(node, Duration.ofSeconds(30));
  }
}
