package io.scorestream.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One {@code scorestream serve --cluster} process on loopback for the multi-process tests: its cluster port, HTTP
 * port (0: no gateway) and log file.
 */
record ClusterMember(String name, Process process, int clusterPort, int httpPort, Path log) {
  static final long HANG_GUARD_S = 180;

  String url(String path) {
    return "http://127.0.0.1:" + httpPort + path;
  }

  /** The device name its sampler has in the coordinators' views. */
  String samplerDevice() {
    return "cpu:0@127.0.0.1:" + clusterPort;
  }

  /**
   * Starts {@code serve --cluster} with the given roles and extra arguments (e.g. {@code --model}; those of the form
   * {@code -Dkey=value} are the JVM's, settings over reference.conf), seeded at seedPort; its output goes to
   * logs/NAME.log. A crashed member is downed 3 s after the cluster is stable again.
   */
  static ClusterMember launch(Path logs, String name, int clusterPort, int seedPort, int httpPort, String roles,
                              List<String> extra) throws IOException {
    Files.createDirectories(logs);
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xms256m", "-Xmx256m", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-modules", "jdk.incubator.vector",
        "-Dakka.cluster.split-brain-resolver.stable-after=3s"));
    extra.stream().filter(a -> a.startsWith("-D")).forEach(cmd::add);
    cmd.addAll(List.of("-cp", cp, "io.scorestream.app.ScoreStreamCli", "serve", "--cluster",
        "--cluster-port", Integer.toString(clusterPort), "--seed-node", "127.0.0.1:" + seedPort,
        "--roles", roles, "--aeron-udp", "none",
        "--http-port", Integer.toString(httpPort == 0 ? freePort() : httpPort)));
    extra.stream().filter(a -> !a.startsWith("-D")).forEach(cmd::add);
    Path log = logs.resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("OMP_NUM_THREADS", "1");
    pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
    pb.environment().put("MALLOC_MMAP_THRESHOLD_", "131072");
    return new ClusterMember(name, pb.start(), clusterPort, httpPort, log);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Waits (hang guard) until the log holds line; fails at once if the process exited. */
  void awaitLog(String line) throws Exception {
    awaitCondition(name + " prints '" + line + "'", () -> {
      if (!process.isAlive()) throw new AssertionError(name + " exited: " + Files.readString(log));
      return Files.readString(log).contains(line);
    });
  }

  /** Stops the processes (SIGTERM, then SIGKILL after a minute). */
  static void stopAll(List<ClusterMember> members) throws InterruptedException {
    for (ClusterMember n : members) n.process().destroy();
    for (ClusterMember n : members) {
      if (!n.process().waitFor(60, TimeUnit.SECONDS)) n.process().destroyForcibly();
    }
  }

  interface Check {
    boolean holds() throws Exception;
  }

  static void awaitCondition(String what, Check check) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_GUARD_S);
    while (!check.holds()) {
      if (System.nanoTime() > end) throw new AssertionError("hang guard: never saw " + what);
      Thread.sleep(100);
    }
  }
}
