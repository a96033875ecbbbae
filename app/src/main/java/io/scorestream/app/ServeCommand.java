package io.scorestream.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValueFactory;
import io.scorestream.actors.Coordinator;
import io.scorestream.actors.InitialModel;
import io.scorestream.actors.ModelRegistry;
import io.scorestream.actors.NodeRoles;
import io.scorestream.actors.RequestLatencies;
import io.scorestream.actors.ScoreStream;
import io.scorestream.config.ScoreStreamSettings;
import io.scorestream.model.data.DataSpecs;
import io.scorestream.model.memory.NativeMemory;
import io.scorestream.streams.aeron.AeronGateway;
import io.scorestream.streams.aeron.AeronSettings;
import io.scorestream.streams.http.HttpGateway;
import io.scorestream.streams.http.HttpSettings;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code scorestream serve}: one node behind both gateways. By default it serves a reference MLP that a trainer
 * improves online on {@code toy:gmm8} (checkpoints under {@code --out}, resumed on the next start); {@code --model DIR}
 * serves the newest checkpoint under DIR instead (no trainer). HTTP (JSON, WebSocket, SSE, metrics and the live page)
 * binds 127.0.0.1:8080 and Aeron listens on IPC and on UDP loopback; it prints where to connect, then a status line
 * every {@code --status-every}. Ctrl-C (or {@code --duration}) closes the gateways (Aeron clients get Disconnect,
 * their requests are cancelled), then the node (the trainer writes a last checkpoint).
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = {"Serve samples over HTTP (page, JSON, WebSocket, SSE, metrics) and Aeron (IPC, UDP).",
        "Default model: a reference MLP trained online on toy:gmm8; --model DIR serves a checkpoint."})
final class ServeCommand implements Callable<Integer> {
  @Option(names = "--model", paramLabel = "MODEL",
      description = "serve the newest checkpoint under a directory, or analytic:NAME (default: train online)")
  String model;

  @Option(names = "--extra-model", paramLabel = "NAME=MODEL",
      description = {"serve another model beside the primary one, batched apart from it: MODEL is a checkpoint "
          + "directory, checkpoint:DIR or analytic:NAME; requests pick it with \"model\": \"NAME\" (repeatable)"})
  List<String> extraModels = new ArrayList<>();

  @Option(names = "--data", defaultValue = "toy:gmm8",
      description = "what the online trainer learns: toy:NAME, csv:PATH or npy:PATH (default: ${DEFAULT-VALUE})")
  String data;

  @Option(names = "--out", defaultValue = "runs/serve",
      description = "the online trainer's checkpoints go to OUT/checkpoints (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--seed", defaultValue = "0", description = "seed of the initial weights and of training (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--http-port", description = "HTTP port, 0 for any free one (default: scorestream.http.port, 8080)")
  Integer httpPort;

  @Option(names = "--http-interface",
      description = "interface HTTP binds (default: scorestream.http.interface, 127.0.0.1); 0.0.0.0 exposes it")
  String httpInterface;

  @Option(names = "--token", description = "bearer token required on /v1 and /metrics (default: none)")
  String token;

  @Option(names = "--aeron-udp",
      description = "UDP ingress endpoint HOST:PORT, or 'none' for IPC only (default: 127.0.0.1:40123)")
  String aeronUdp;

  @Option(names = "--secret", description = "shared secret Aeron clients must send in Connect (default: none)")
  String secret;

  @Option(names = "--duration", converter = DurationConverter.class,
      description = "stop after this long, e.g. 10m (default: run until Ctrl-C)")
  Duration duration;

  @Option(names = "--status-every", defaultValue = "5s", converter = DurationConverter.class,
      description = "period of the status line, 0 for none (default: ${DEFAULT-VALUE})")
  Duration statusEvery;

  @Option(names = "--cluster", description = "run as a member of an Akka cluster (Artery; see --seed-node, --roles)")
  boolean cluster;

  @Option(names = "--cluster-host", defaultValue = "127.0.0.1",
      description = "the address other members reach this one at (default: ${DEFAULT-VALUE})")
  String clusterHost;

  @Option(names = "--cluster-port", defaultValue = "25520",
      description = "this member's cluster port, 0 for any free one (default: ${DEFAULT-VALUE})")
  int clusterPort;

  @Option(names = "--seed-node", paramLabel = "HOST:PORT",
      description = "a member to join through (repeatable; default: this node, the first of a new cluster)")
  List<String> seedNodes = new ArrayList<>();

  @Option(names = "--roles", split = ",", paramLabel = "ROLE",
      description = "what this member does: gateway, sampler, trainer (default: all three)")
  List<String> roles = new ArrayList<>();

  @Option(names = "--cluster-transport", defaultValue = "tcp",
      description = "Artery transport: tcp or aeron-udp (default: ${DEFAULT-VALUE})")
  String clusterTransport;

  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private final CountDownLatch ready = new CountDownLatch(1);
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile HttpGateway http;
  private volatile AeronGateway aeron;
  private volatile boolean up;

  /** Asks the server to stop as Ctrl-C would. */
  void stop() {
    stopRequested.countDown();
  }

  /** Waits until the gateways are up; false if they did not come up in time or serve ended first. */
  boolean awaitReady(Duration timeout) throws InterruptedException {
    return ready.await(timeout.toMillis(), TimeUnit.MILLISECONDS) && up;
  }

  /** The HTTP gateway, once {@link #awaitReady} returned true. */
  HttpGateway http() {
    return http;
  }

  /** The Aeron gateway, once {@link #awaitReady} returned true. */
  AeronGateway aeron() {
    return aeron;
  }

  @Override
  public Integer call() throws Exception {
    if (duration != null && (duration.isZero() || duration.isNegative())) {
      throw new IllegalArgumentException("--duration must be > 0, got " + DurationConverter.format(duration));
    }
    try {
      return serve();
    } finally {
      ready.countDown();
    }
  }

  private int serve() throws Exception {
    if (statusEvery.isNegative()) throw new IllegalArgumentException("--status-every must be >= 0");
    // Taken before the node starts: the trainer mutes System.out while SameDiff builds its gradient graph
    // (MlpGraph), and the endpoints must not be printed into that muted stream.
    PrintStream stdout = System.out;
    Config config = config();
    ScoreStreamSettings settings = ScoreStreamSettings.from(config);
    HttpSettings httpSettings = HttpSettings.from(config);
    AeronSettings aeronSettings = AeronSettings.from(config);
    // Refuse a bad model or data before anything binds a port.
    String sde = InitialModel.from(settings.model()).sde().kind().name().toLowerCase(Locale.ROOT);
    boolean trains = settings.trainer().enabled() && (!cluster || NodeRoles.takes(roles, NodeRoles.TRAINER));
    if (trains) {
      DataSpecs.parse(settings.trainer().data(), settings.trainer().normalization());
      Files.createDirectories(settings.trainer().checkpointDir());
    }
    // Logging starts on this thread: Akka's logger and ND4J would otherwise initialise it concurrently.
    LoggerFactory.getLogger(ServeCommand.class);
    PrintStream err = System.err;
    int samplers = !cluster || NodeRoles.takes(roles, NodeRoles.SAMPLER) ? settings.samplers().size() : 0;
    err.println("serve: starting a node (" + settings.model().source() + ", " + sde + " SDE, "
        + samplers + " sampler" + (samplers == 1 ? "" : "s")
        + (trains ? ", trainer on " + settings.trainer().data() + " with checkpoints in "
            + settings.trainer().checkpointDir() : ", no trainer") + ")");
    settings.extraModels().forEach((name, m) -> err.println("serve: also serving model '" + name + "' ("
        + m.source() + "), batched apart from the primary one '" + settings.modelName() + "'; requests name it with"
        + " \"model\": \"" + name + "\" (HTTP) or client --served-model " + name));
    err.println(memoryBudget());
    // Ctrl-C: ask the loop below to stop, and hold the JVM until the gateways and the node have closed.
    Thread hook = new Thread(() -> {
      stop();
      try {
        awaitStopped(Duration.ofSeconds(45));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "scorestream-serve-stop");
    ScoreStream api = ScoreStream.start(config);
    // A member that the cluster downs shuts its system down: serve ends with it.
    api.system().getWhenTerminated().thenRun(this::stop);
    try {
      Runtime.getRuntime().addShutdownHook(hook);
      boolean gateway = NodeRoles.has(api.system(), NodeRoles.GATEWAY);
      if (cluster) {
        err.println("serve: cluster member " + NodeRoles.address(api.system()) + " (roles "
            + String.join(", ", NodeRoles.ALL.stream().filter(r -> NodeRoles.takes(roles, r)).toList())
            + "), joining through "
            + String.join(", ", config.getStringList("akka.cluster.seed-nodes")));
      }
      if (httpSettings.enabled() && gateway) {
        http = HttpGateway.start(api, httpSettings).toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
      if (aeronSettings.enabled() && gateway) aeron = AeronGateway.start(api, aeronSettings);
      printEndpoints(stdout);
      up = true;
      ready.countDown();
      runUntilStopped(api, new StatusLine(err));
    } finally {
      close(api);
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // Ctrl-C: the hook itself is running.
      }
      stopped.countDown();
    }
    return 0;
  }

  private Config config() {
    Config serve = ConfigFactory.parseResources("serve.conf")
        .withValue("scorestream.trainer.seed", ConfigValueFactory.fromAnyRef(seed))
        .withValue("scorestream.trainer.data", ConfigValueFactory.fromAnyRef(data))
        .withValue("scorestream.trainer.checkpoint-dir",
            ConfigValueFactory.fromAnyRef(out.resolve("checkpoints").toString()));
    if (model != null) {
      String source;
      if (model.startsWith("analytic:")) {
        source = model;
      } else {
        if (!Files.isDirectory(Path.of(model))) {
          throw new IllegalArgumentException("--model " + model + " is neither a directory nor analytic:NAME");
        }
        source = "checkpoint:" + model;
      }
      serve = serve.withValue("scorestream.model.source", ConfigValueFactory.fromAnyRef(source))
          .withValue("scorestream.trainer.enabled", ConfigValueFactory.fromAnyRef(false));
    } else if (cluster && roles.isEmpty()) {
      // Every member would train and offer its own versions to the others.
      throw new IllegalArgumentException("--cluster without --model trains online: give every member --roles, and "
          + "the trainer role to one of them (its versions reach the others' samplers)");
    } else {
      serve = serve.withValue("scorestream.model.source", ConfigValueFactory.fromAnyRef("init:" + seed));
    }
    for (String extra : extraModels) {
      int eq = extra.indexOf('=');
      if (eq < 1 || eq == extra.length() - 1) {
        throw new IllegalArgumentException("--extra-model must be NAME=MODEL, got '" + extra + "'");
      }
      String name = extra.substring(0, eq).trim();
      String source = extra.substring(eq + 1).trim();
      if (!source.startsWith("analytic:") && !source.startsWith("checkpoint:")) {
        if (!Files.isDirectory(Path.of(source))) {
          throw new IllegalArgumentException("--extra-model " + name + ": " + source
              + " is neither a checkpoint directory nor analytic:NAME");
        }
        source = "checkpoint:" + source;
      }
      serve = serve.withValue("scorestream.extra-models." + ConfigUtil.joinPath(name) + ".source",
          ConfigValueFactory.fromAnyRef(source));
    }
    if (httpPort != null) {
      if (httpPort < 0 || httpPort > 65535) throw new IllegalArgumentException("--http-port must be 0..65535");
      serve = serve.withValue("scorestream.http.port", ConfigValueFactory.fromAnyRef(httpPort));
    }
    if (httpInterface != null) {
      serve = serve.withValue("scorestream.http.interface", ConfigValueFactory.fromAnyRef(httpInterface));
    }
    if (token != null) serve = serve.withValue("scorestream.http.bearer-token", ConfigValueFactory.fromAnyRef(token));
    if (secret != null) {
      serve = serve.withValue("scorestream.aeron.shared-secret", ConfigValueFactory.fromAnyRef(secret));
    }
    if (aeronUdp != null) {
      List<String> channels = new ArrayList<>(List.of("aeron:ipc"));
      if (!aeronUdp.equalsIgnoreCase("none")) {
        if (!aeronUdp.matches("[^:?|=]+:\\d{1,5}")) {
          throw new IllegalArgumentException("--aeron-udp must be HOST:PORT or none, got '" + aeronUdp + "'");
        }
        channels.add("aeron:udp?endpoint=" + aeronUdp);
      }
      serve = serve.withValue("scorestream.aeron.ingress-channels", ConfigValueFactory.fromIterable(channels));
    }
    if (cluster) {
      serve = clusterConfig().withFallback(serve);
    } else if (!seedNodes.isEmpty() || !roles.isEmpty()) {
      throw new IllegalArgumentException("--seed-node and --roles need --cluster");
    }
    return ConfigFactory.systemProperties().withFallback(serve).withFallback(ConfigFactory.load()).resolve();
  }

  /** cluster.conf with this member's address, seed nodes, roles and transport from the options. */
  private Config clusterConfig() {
    if (clusterPort < 0 || clusterPort > 65535) throw new IllegalArgumentException("--cluster-port must be 0..65535");
    String transport = switch (clusterTransport) {
      case "tcp" -> "tcp";
      case "aeron-udp" -> "aeron-udp";
      default -> throw new IllegalArgumentException("--cluster-transport must be tcp or aeron-udp, got '"
          + clusterTransport + "'");
    };
    for (String r : roles) {
      if (!NodeRoles.ALL.contains(r)) {
        throw new IllegalArgumentException("--roles: unknown role '" + r + "' (gateway, sampler, trainer)");
      }
    }
    List<String> seeds = new ArrayList<>();
    for (String s : seedNodes.isEmpty() ? List.of(clusterHost + ":" + clusterPort) : seedNodes) {
      int colon = s.lastIndexOf(':');
      int port = colon < 1 || !s.substring(colon + 1).matches("\\d{1,5}") ? -1
          : Integer.parseInt(s.substring(colon + 1));
      if (port < 1 || port > 65535 || s.substring(0, colon).matches(".*[/@\\s].*")) {
        throw new IllegalArgumentException("--seed-node must be HOST:PORT with a port in 1..65535, got '" + s + "'");
      }
      seeds.add("akka://scorestream@" + s);
    }
    if (seedNodes.isEmpty() && clusterPort == 0) {
      throw new IllegalArgumentException("the first member of a new cluster needs a fixed --cluster-port");
    }
    return ConfigFactory.parseResources("cluster.conf")
        .withValue("akka.remote.artery.transport", ConfigValueFactory.fromAnyRef(transport))
        .withValue("akka.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(clusterHost))
        .withValue("akka.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(clusterPort))
        .withValue("akka.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds))
        // None given: all three, by name, so that Cluster Sharding (whose role filter is literal) places request
        // sessions on this member too.
        .withValue("akka.cluster.roles", ConfigValueFactory.fromIterable(roles.isEmpty() ? NodeRoles.ALL : roles));
  }

  /**
   * The memory the node may use, one line: the heap limit, the off-heap limits (JavaCPP's tracked bytes and
   * physical bytes, libnd4j's primary-memory limit; 0 or none where unlimited) and what is in use at start.
   */
  static String memoryBudget() {
    NativeMemory.Snapshot m = NativeMemory.snapshot();
    long nd4jLimit = NativeMemory.nd4jLimit();
    long physical = NativeMemory.javacppMaxPhysicalBytes();
    return "serve: memory budget: heap max " + NativeMemory.mib(m.heapMax())
        + ", off-heap: JavaCPP max " + NativeMemory.mib(NativeMemory.javacppMaxBytes())
        + " (org.bytedeco.javacpp.maxbytes), physical max " + (physical > 0 ? NativeMemory.mib(physical) : "none")
        + " (org.bytedeco.javacpp.maxphysicalbytes), libnd4j limit " + (nd4jLimit > 0 ? NativeMemory.mib(nd4jLimit)
        : "none") + "; at start: RSS " + NativeMemory.mib(m.rss()) + ", heap " + NativeMemory.mib(m.heapUsed())
        + ", libnd4j " + NativeMemory.mib(m.nd4j()) + " (RSS, heap and libnd4j bytes on /metrics)";
  }

  private void printEndpoints(PrintStream out) {
    out.println("scorestream serve is up:");
    if (http != null) {
      String base = http.baseUrl();
      out.println("  page          " + base + "/");
      out.println("  HTTP API      POST " + base + "/v1/samples   events: GET " + base
          + "/v1/samples/{id}/events (WebSocket or SSE)");
      out.println("  metrics       " + base + "/metrics   health: " + base + "/healthz");
      if (http.settings().authenticated()) out.println("                (bearer token required on /v1 and /metrics)");
    }
    if (aeron != null) {
      for (String channel : aeron.ingressChannels()) {
        out.println("  Aeron         " + channel + "  stream " + aeron.ingressStreamId());
      }
      out.println("  media driver  " + aeron.driverDirectory());
      String udp = aeron.ingressChannels().stream().filter(c -> c.startsWith("aeron:udp")).findFirst().orElse(null);
      out.println("  try           ./scorestream client --server aeron:ipc --aeron-dir " + aeron.driverDirectory()
          + " --n 1000 --out samples.csv --plot samples.png");
      if (udp != null) {
        out.println("                ./scorestream client --server '" + udp + "' --n 1000 --out samples.csv");
      }
    }
    if (http != null) {
      out.println("                curl -s -XPOST -H 'Content-Type: application/json' -d '{\"count\": 4, \"steps\": 200}' "
          + http.baseUrl() + "/v1/samples");
    }
    out.println("Ctrl-C stops.");
    out.flush();
  }

  private void runUntilStopped(ScoreStream api, StatusLine status) throws InterruptedException {
    long endNs = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
    long periodMs = statusEvery.isZero() ? Long.MAX_VALUE : statusEvery.toMillis();
    long lastSteps = -1;
    long lastNs = System.nanoTime();
    while (true) {
      long leftMs = (endNs - System.nanoTime()) / 1_000_000;
      if (leftMs <= 0 || stopRequested.await(Math.min(periodMs, leftMs), TimeUnit.MILLISECONDS)) return;
      if (periodMs == Long.MAX_VALUE) continue;
      try {
        Coordinator.NodeStatus s = api.status().toCompletableFuture().get(5, TimeUnit.SECONDS);
        ModelRegistry.Versions v = api.versions().toCompletableFuture().get(5, TimeUnit.SECONDS);
        RequestLatencies.Snapshot l = api.latencies();
        long now = System.nanoTime();
        double rate = lastSteps < 0 ? 0 : (s.chainSteps() - lastSteps) / ((now - lastNs) / 1e9);
        lastSteps = s.chainSteps();
        lastNs = now;
        String model = v.current().map(c -> "v" + c.version() + " (train step " + c.trainStep() + ")").orElse("-");
        status.draw(String.format(Locale.ROOT,
            "model %s | queue %d | active %d req, %d chains | %.0f chain-steps/s | done %d | p50 %.0f ms p99 %.0f ms"
                + " | first preview p50 %.1f ms | aeron clients %d | rss %.0f MiB",
            model, s.queuedRequests(), s.activeRequests(), s.activeChains(), rate, l.completed(), l.resultP50Ms(),
            l.resultP99Ms(), l.firstPreviewP50Ms(), aeron == null ? 0 : aeron.stats().clients(),
            NativeMemory.rssBytes() / 1048576.0));
      } catch (Exception e) {
        status.message("status unavailable: " + e);
      }
    }
  }

  private void close(ScoreStream api) {
    System.err.println("serve: stopping (gateways, then the node)");
    AeronGateway a = aeron;
    if (a != null) a.close();
    HttpGateway h = http;
    if (h != null) {
      try {
        h.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("serve: HTTP gateway did not stop cleanly: " + e);
      }
    }
    api.close();
    try {
      api.system().getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      System.err.println("serve: the node did not stop within 30 s: " + e);
    }
  }

  /** Waits until {@link #call} has closed everything (tests). */
  boolean awaitStopped(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }
}
