package io.scorestream.bench;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.stream.javadsl.Sink;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scorestream.actors.Coordinator;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.Sampler;
import io.scorestream.actors.ScoreStream;
import io.scorestream.actors.ScoreStreamNode;
import io.scorestream.config.ScoreStreamSettings;
import io.scorestream.model.sample.SamplerSpec;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A node for the benchmarks: its own actor system configured by HOCON overrides (over {@link #QUIET} and
 * reference.conf), the in-process API, and the samplers' counters summed. Used from the benchmark's main thread.
 */
final class BenchNode implements AutoCloseable {
  /** Logging and shutdown settings every benchmark node shares. */
  static final String QUIET = """
      akka.loglevel = "WARNING"
      akka.loggers = ["akka.event.slf4j.Slf4jLogger"]
      akka.logging-filter = "akka.event.slf4j.Slf4jLoggingFilter"
      akka.log-dead-letters = off
      akka.log-dead-letters-during-shutdown = off
      """;
  private static final Duration WAIT = Duration.ofSeconds(60);

  final ActorSystem<ScoreStreamNode.Command> system;
  final ScoreStreamSettings settings;
  final ScoreStreamNode.Refs refs;
  final ScoreStream api;

  private BenchNode(ActorSystem<ScoreStreamNode.Command> system, ScoreStreamSettings settings,
                    ScoreStreamNode.Refs refs, ScoreStream api) {
    this.system = system;
    this.settings = settings;
    this.refs = refs;
    this.api = api;
  }

  /** The program length of the capacity request: long enough that no chain finishes while it is measured. */
  static final int CAPACITY_STEPS = 1_000_000;

  /**
   * The node configuration the load tools share: model (mlp: a fresh reference MLP, analytic: the exact gmm8 score),
   * SDE, one CPU sampler per slot, ND4J threads, batch rows and batching, queue bound; no default previews, hour-long
   * deadlines, and limits that admit the capacity request.
   */
  static String overrides(String model, String sde, int samplers, int threads, int batchRows, String batching,
                          int queueBound) {
    StringBuilder devices = new StringBuilder();
    for (int i = 0; i < samplers; i++) devices.append(i == 0 ? "" : ", ").append("\"cpu:").append(i).append('"');
    return String.format(Locale.ROOT, """
        scorestream {
          model { source = "%s", sde = "%s", dim = 2 }
          samplers = [%s]
          compute-threads = %d
          sampler { max-batch-rows = %d, batching = %s }
          coordinator {
            queue-bound = %d
            max-steps = %d
            max-chains-per-request = %d
            default-preview-every = 0
            default-deadline = 1h
            max-deadline = 1h
          }
        }
        """, model.equals("mlp") ? "init:0" : "analytic:gmm8", sde, devices, threads, batchRows, batching, queueBound,
        CAPACITY_STEPS, samplers * batchRows);
  }

  /** The overrides over {@link #QUIET} over reference.conf, resolved. */
  static Config config(String overrides) {
    return ConfigFactory.parseString(overrides).withFallback(ConfigFactory.parseString(QUIET))
        .withFallback(ConfigFactory.load()).resolve();
  }

  /** Starts a node and waits until every sampler has registered with the coordinator. */
  static BenchNode start(String overrides) throws Exception {
    Config config = config(overrides);
    ScoreStreamSettings settings = ScoreStreamSettings.from(config);
    ActorSystem<ScoreStreamNode.Command> system =
        ActorSystem.create(ScoreStreamNode.create(settings), "scorestream-bench", config);
    try {
      ScoreStreamNode.Refs refs = await(AskPattern.ask(system, ScoreStreamNode.GetRefs::new, settings.askTimeout(),
          system.scheduler()));
      ScoreStream api = new ScoreStream(system, refs, settings.session(), settings.askTimeout());
      BenchNode node = new BenchNode(system, settings, refs, api);
      long guard = System.nanoTime() + WAIT.toNanos();
      while (node.status().samplers().size() < settings.samplers().size()) {
        if (System.nanoTime() > guard) throw new IllegalStateException("samplers did not register");
        Thread.sleep(5);
      }
      return node;
    } catch (Exception e) {
      system.terminate();
      throw e;
    }
  }

  Coordinator.NodeStatus status() throws Exception {
    return await(api.status());
  }

  /** The samplers' counters, summed (exact: asked from each sampler, answered between two ticks). */
  Counters counters() throws Exception {
    long ticks = 0;
    long chainSteps = 0;
    long busyNanos = 0;
    int rows = 0;
    int pending = 0;
    for (ActorRef<Sampler.Command> s : refs.samplers()) {
      Sampler.Status st = await(AskPattern.ask(s, Sampler.GetStatus::new, settings.askTimeout(), system.scheduler()));
      ticks += st.ticks();
      chainSteps += st.chainSteps();
      busyNanos += st.busyNanos();
      rows += st.rows();
      pending += st.pendingChains();
    }
    return new Counters(System.nanoTime(), ticks, chainSteps, busyNanos, rows, pending);
  }

  /**
   * Summed sampler counters at one instant.
   *
   * @param atNanos    System.nanoTime() when read
   * @param busyNanos  time the samplers spent inside ticks
   * @param rows       chains in the samplers' batches
   * @param pending    chains routed to the samplers and waiting to join
   */
  record Counters(long atNanos, long ticks, long chainSteps, long busyNanos, int rows, int pending) {}

  /**
   * The node's capacity: chain-steps/s with every sampler's batch full. Submits one request of rows chains of the
   * SDE's default predictor-corrector program with steps steps (long enough that no chain finishes while measured;
   * the coordinator's max-steps must allow it), waits until the batches hold them, warms up (JIT, workspaces) for
   * up to 2 s, measures for measure, then cancels it and waits until the node is idle. Prints one progress line.
   */
  double measureCapacity(int rows, int steps, long seed, Duration measure) throws Exception {
    String id = "capacity";
    api.submit(new GenerateRequest(id, rows, seed, SamplerSpec.pc(steps), 0, null)).runWith(Sink.ignore(), system);
    awaitRows(rows);
    Thread.sleep(Math.min(2000, measure.toMillis()));
    Counters c0 = counters();
    Thread.sleep(measure.toMillis());
    Counters c1 = counters();
    api.cancel(id);
    awaitIdle(WAIT);
    double c = (c1.chainSteps() - c0.chainSteps()) / ((c1.atNanos() - c0.atNanos()) / 1e9);
    System.err.printf(Locale.ROOT, "capacity: %,.0f chain-steps/s (%d sampler(s) x %d rows, %.1f ms per tick)%n", c,
        refs.samplers().size(), rows / Math.max(1, refs.samplers().size()),
        (c1.busyNanos() - c0.busyNanos()) / 1e6 / Math.max(1, c1.ticks() - c0.ticks()));
    return c;
  }

  /** Waits until the samplers hold exactly rows chains in their batches (after a submission). */
  void awaitRows(int rows) throws Exception {
    long guard = System.nanoTime() + WAIT.toNanos();
    while (counters().rows() != rows) {
      if (System.nanoTime() > guard) throw new IllegalStateException("samplers did not reach " + rows + " rows");
      Thread.sleep(5);
    }
  }

  /** Waits until nothing is queued or running. */
  void awaitIdle(Duration limit) throws Exception {
    long guard = System.nanoTime() + limit.toNanos();
    while (true) {
      Coordinator.NodeStatus s = status();
      Counters c = counters();
      if (s.activeRequests() == 0 && s.queuedRequests() == 0 && c.rows() == 0 && c.pending() == 0) return;
      if (System.nanoTime() > guard) throw new IllegalStateException("the node did not become idle: " + s);
      Thread.sleep(10);
    }
  }

  static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Stops the node's actor system and waits (up to 30 s) until it has stopped. */
  @Override
  public void close() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      System.err.println("the node did not stop within 30 s: " + e);
    }
  }
}
