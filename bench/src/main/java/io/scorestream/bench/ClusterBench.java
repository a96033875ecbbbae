package io.scorestream.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.stream.javadsl.Sink;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scorestream.actors.Coordinator;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.RequestLatencies;
import io.scorestream.actors.SampleEvent;
import io.scorestream.actors.ScoreStream;
import io.scorestream.actors.ScoreStreamNode;
import io.scorestream.config.ScoreStreamSettings;
import io.scorestream.model.sample.SamplerSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;

/**
 * Cluster throughput and the cost of crossing members, on this machine: one gateway member (no sampler) and 1, 2 or
 * 3 sampler members, each an actor system of its own in this JVM joined over Artery TCP on loopback (real
 * serialization and sockets, shared cores). For each count, {@code --rounds} rounds of {@code --requests}
 * concurrent requests of {@code --chains} chains and {@code --steps} steps submitted at the gateway; one line each:
 * {@code sampler_nodes=K round=R chain_steps_per_s=... wall_s=...}. Then the latency of one small request at a time
 * ({@code --latency-requests} of 1 chain, 20 steps, a preview every step) on a plain node whose sampler is local and
 * on a gateway whose sampler is another member: {@code path=local|remote first_preview_p50_ms=... result_p50_ms=...}.
 *
 * <p>Options: {@code --model mlp|analytic --requests 8 --chains 512 --steps 200 --rounds 3 --latency-requests 200}.
 */
final class ClusterBench {
  private static final Duration WAIT = Duration.ofSeconds(120);

  private ClusterBench() {}

  public static void main(String[] args) throws Exception {
    BenchArgs a = new BenchArgs("ClusterBench", args);
    String model = a.string("model", "mlp");
    int requests = a.integer("requests", 8);
    int chains = a.integer("chains", 512);
    int steps = a.integer("steps", 200);
    int rounds = a.integer("rounds", 3);
    int latencyRequests = a.integer("latency-requests", 200);
    for (int k = 1; k <= 3; k++) {
      List<ActorSystem<ScoreStreamNode.Command>> members = cluster(model, k);
      try {
        ScoreStream gateway = facade(members.get(0));
        awaitSamplers(gateway, k);
        run(gateway, requests, chains, steps, -1); // warm-up
        for (int r = 1; r <= rounds; r++) {
          double[] m = run(gateway, requests, chains, steps, r);
          System.out.printf(Locale.ROOT, "sampler_nodes=%d round=%d requests=%d chains=%d steps=%d "
              + "chain_steps_per_s=%.0f wall_s=%.2f%n", k, r, requests, chains, steps, m[0], m[1]);
        }
        if (k == 1) latency("remote", members.get(0), latencyRequests);
      } finally {
        for (ActorSystem<?> s : members) s.terminate();
        for (ActorSystem<?> s : members) s.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
      }
    }
    ActorSystem<ScoreStreamNode.Command> local = system(model, null);
    try {
      awaitSamplers(facade(local), 1);
      latency("local", local, latencyRequests);
    } finally {
      local.terminate();
    }
  }

  private static String overrides(String model) {
    return BenchNode.overrides(model, "vp", 1, 1, 4096, "continuous", 256);
  }

  /** A member of a loopback cluster with the role (null: not clustered) on an ephemeral port. */
  private static ActorSystem<ScoreStreamNode.Command> system(String model, String role) {
    String cluster = role == null ? "" : String.join("\n",
        "akka.actor.provider = cluster",
        "akka.remote.artery.canonical.hostname = 127.0.0.1",
        "akka.remote.artery.canonical.port = 0",
        "akka.cluster.roles = [" + role + "]",
        "akka.cluster.jmx.multi-mbeans-in-same-jvm = on");
    Config config = ConfigFactory.parseString(cluster).withFallback(BenchNode.config(overrides(model)));
    ScoreStreamSettings settings = ScoreStreamSettings.from(config);
    return ActorSystem.create(ScoreStreamNode.create(settings), "scorestream", config);
  }

  /** A gateway member and k sampler members, joined and Up. */
  private static List<ActorSystem<ScoreStreamNode.Command>> cluster(String model, int k) throws Exception {
    List<ActorSystem<ScoreStreamNode.Command>> members = new ArrayList<>();
    members.add(system(model, "gateway"));
    for (int i = 0; i < k; i++) members.add(system(model, "sampler"));
    akka.actor.Address seed = Cluster.get(members.get(0)).selfMember().address();
    for (ActorSystem<?> m : members) Cluster.get(m).manager().tell(Join.create(seed));
    long guard = System.nanoTime() + WAIT.toNanos();
    while (StreamSupport.stream(Cluster.get(members.get(0)).state().getMembers().spliterator(), false)
        .filter(m -> m.status() == MemberStatus.up()).count() < members.size()) {
      if (System.nanoTime() > guard) throw new IllegalStateException("the cluster did not form");
      Thread.sleep(5);
    }
    return members;
  }

  private static ScoreStream facade(ActorSystem<ScoreStreamNode.Command> system) throws Exception {
    ScoreStreamSettings settings = ScoreStreamSettings.from(system.settings().config());
    ScoreStreamNode.Refs refs = await(AskPattern.ask(system, ScoreStreamNode.GetRefs::new, settings.askTimeout(),
        system.scheduler()));
    return new ScoreStream(system, refs, settings.session(), settings.askTimeout());
  }

  private static void awaitSamplers(ScoreStream api, int k) throws Exception {
    long guard = System.nanoTime() + WAIT.toNanos();
    while (await(api.status()).samplers().stream().filter(Coordinator.SamplerView::alive).count() < k) {
      if (System.nanoTime() > guard) throw new IllegalStateException("samplers did not register");
      Thread.sleep(5);
    }
  }

  /** Submits the requests at once; {chain-steps/s, wall seconds} until the last completes. */
  private static double[] run(ScoreStream api, int requests, int chains, int steps, int round) throws Exception {
    long start = System.nanoTime();
    List<CompletionStage<?>> runs = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      runs.add(api.generate(new GenerateRequest("r" + round + "-" + i, chains, 1000L * round + i,
          SamplerSpec.pc(steps), 0, Duration.ofMinutes(30))));
    }
    for (CompletionStage<?> r : runs) await(r);
    double wall = (System.nanoTime() - start) / 1e9;
    // VP's default program: one Euler-Maruyama call per step and the final Tweedie step.
    return new double[] {(double) requests * chains * (steps + 1) / wall, wall};
  }

  /** n small requests one at a time, after 50 on another facade that warm the path up (JIT, connections). */
  private static void latency(String path, ActorSystem<ScoreStreamNode.Command> system, int n) throws Exception {
    ScoreStream warm = facade(system);
    ScoreStream measured = facade(system);
    for (int i = 0; i < n + 50; i++) {
      ScoreStream api = i < 50 ? warm : measured;
      await(api.submit(new GenerateRequest("lat-" + path + "-" + i, 1, i, SamplerSpec.pc(20), 1, null))
          .runWith(Sink.<SampleEvent>ignore(), system));
    }
    RequestLatencies.Snapshot l = measured.latencies();
    System.out.printf(Locale.ROOT, "path=%s requests=%d first_preview_p50_ms=%.2f first_preview_p99_ms=%.2f "
        + "result_p50_ms=%.2f result_p99_ms=%.2f%n", path, l.completed(), l.firstPreviewP50Ms(), l.firstPreviewP99Ms(),
        l.resultP50Ms(), l.resultP99Ms());
  }

  private static <T> T await(CompletionStage<T> s) throws Exception {
    return s.toCompletableFuture().get(WAIT.toSeconds() * 10, TimeUnit.SECONDS);
  }
}
