package io.scorestream.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code scorestream demo} end to end on a real node: a few seconds of clients, previews, a clean stop. */
class DemoCommandTest {
  /** Guards against hangs only; never a performance bound. */
  private static final long HANG_GUARD_S = 180;

  private static final Pattern REQUESTS =
      Pattern.compile("requests: submitted=(\\d+) completed=(\\d+) failed=(\\d+) rejected=(\\d+) cancelled=(\\d+)");

  /** Runs body with stdout and stderr captured; returns {stdout, stderr}. */
  private static String[] captured(Runnable body) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    System.setOut(new PrintStream(o, true));
    System.setErr(new PrintStream(e, true));
    try {
      body.run();
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    return new String[] {o.toString(), e.toString()};
  }

  /** {submitted, completed, failed, rejected, cancelled} from the summary. */
  private static long[] requests(String stdout) {
    Matcher m = REQUESTS.matcher(stdout);
    assertTrue(m.find(), "no request summary in: " + stdout);
    long[] v = new long[5];
    for (int i = 0; i < 5; i++) v[i] = Long.parseLong(m.group(i + 1));
    return v;
  }

  @Test
  void runsForItsDurationThenCompletesRequestsAndWritesPreviewFrames(@TempDir Path dir) {
    AtomicInteger code = new AtomicInteger(-1);
    String[] io = captured(() -> code.set(ScoreStreamCli.run("demo", "--duration", "4s", "--clients-interval",
        "250ms", "--seed", "3", "--out", dir.toString())));
    assertEquals(0, code.get(), "stderr: " + io[1]);
    long[] r = requests(io[0]);
    assertTrue(r[0] >= 2, "submitted: " + io[0]);
    assertTrue(r[1] >= 1, "no request completed: " + io[0] + "\nstderr: " + io[1]);
    assertEquals(r[0], r[1] + r[2] + r[3] + r[4], "every submitted request ended: " + io[0]);
    assertTrue(Files.isRegularFile(dir.resolve("frames/frame-0001.png")), "no preview frame; stdout: " + io[0]);
    assertTrue(io[0].contains("preview frames: ") && io[0].contains(dir.resolve("frames").toString()), io[0]);
    assertTrue(io[1].contains("chain-steps/s") && io[1].contains("p99"), "no status line: " + io[1]);
    assertFalse(io[1].contains("\tat "), "no stack trace: " + io[1]);
  }

  @Test
  void stopCancelsRunningRequestsAndEndsWithASummary(@TempDir Path dir) throws Exception {
    DemoCommand demo = new DemoCommand();
    AtomicInteger code = new AtomicInteger(-1);
    String[] io = captured(() -> {
      Thread t = new Thread(() -> code.set(new CommandLine(demo).execute("--duration", "10m", "--clients-interval",
          "100ms", "--out", dir.toString())), "demo-under-test");
      t.start();
      try {
        // Stop as Ctrl-C would once requests are flowing (completed, or at least some submitted and running).
        long guard = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_GUARD_S);
        while (demo.completedRequests() < 1 && System.nanoTime() < guard && t.isAlive()) Thread.sleep(20);
        demo.stop();
        t.join(TimeUnit.SECONDS.toMillis(HANG_GUARD_S));
        assertFalse(t.isAlive(), "the demo did not stop");
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    });
    assertEquals(0, code.get(), "stderr: " + io[1]);
    assertTrue(io[0].contains("demo interrupted"), io[0]);
    long[] r = requests(io[0]);
    assertTrue(r[1] >= 1, io[0]);
    // Nothing hangs: every submitted request reached a terminal event (running ones: Cancelled).
    assertEquals(r[0], r[1] + r[2] + r[3] + r[4], "every submitted request ended: " + io[0]);
  }

  @Test
  void badDurationIsBadInput(@TempDir Path dir) {
    AtomicInteger code = new AtomicInteger(-1);
    String[] io = captured(() -> code.set(ScoreStreamCli.run("demo", "--duration", "soon", "--out", dir.toString())));
    assertEquals(ScoreStreamCli.BAD_INPUT, code.get());
    assertTrue(io[1].strip().startsWith("error: ") && io[1].contains("soon"), io[1]);
    code.set(-1);
    io = captured(() -> code.set(ScoreStreamCli.run("demo", "--clients-interval", "0s", "--out", dir.toString())));
    assertEquals(ScoreStreamCli.BAD_INPUT, code.get());
    assertTrue(io[1].contains("--clients-interval must be > 0"), io[1]);
  }
}
