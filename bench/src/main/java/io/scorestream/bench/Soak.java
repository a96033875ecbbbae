package io.scorestream.bench;

import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.AskPattern;
import akka.stream.javadsl.Sink;
import com.typesafe.config.Config;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.SampleEvent;
import io.scorestream.actors.Trainer;
import io.scorestream.model.memory.NativeMemory;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.protocol.SamplerParams;
import io.scorestream.protocol.client.ClientContext;
import io.scorestream.protocol.client.RequestHandle;
import io.scorestream.protocol.client.RequestListener;
import io.scorestream.protocol.client.ScoreStreamClient;
import io.scorestream.streams.aeron.AeronGateway;
import io.scorestream.streams.aeron.AeronSettings;
import io.scorestream.streams.http.HttpGateway;
import io.scorestream.streams.http.HttpSettings;
import java.awt.Color;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The memory soak: one node as {@code scorestream serve} runs it (the reference MLP trained online on toy:gmm8,
 * publishing a version every {@code --publish-every} steps to the sampler, which swaps to it) behind both
 * gateways, under open-loop Poisson load for {@code --duration}, while the process's memory is read every
 * {@code --interval}: resident set, heap used and committed, libnd4j's buffer bytes ({@link NativeMemory}), threads,
 * open files, with the trainer's step and published versions and the requests completed.
 *
 * <p><b>Load.</b> Requests of {@code --chains} chains x {@code --steps} steps of the SDE's default PC program with a
 * preview every {@code --preview-every} steps arrive at {@code --rate} per second, taking turns over three ways in:
 * in process ({@code ScoreStream.submit}), an Aeron IPC {@code ScoreStreamClient}, and HTTP (the JDK client: POST,
 * then the request's server-sent events until the terminal one). Every request is followed to its end; one that
 * ends other than completed is counted by kind.
 *
 * <p><b>Output</b> (under {@code --out}): {@code soak.csv} (one row per reading: seconds, the memory columns in
 * bytes, threads, open files, trainer step, versions, requests sent, completed, other), {@code soak.png} (RSS,
 * heap and libnd4j bytes in MiB against minutes), and on stdout one summary line: after {@code --warmup}, the
 * least-squares slope of RSS in MiB per 10 minutes and as a percentage of the mean RSS, the RSS range, the same
 * slope for the heap and libnd4j, and the counts. Progress every reading on stderr.
 *
 * <p><b>Options.</b> {@code --duration 30m --warmup 5m --interval 5s --rate 10 --chains 64 --steps 100
 * --preview-every 10 --publish-every 100 --threads 1 --out runs/soak --seed 1}. Needs
 * {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED} (the Aeron media driver). Main thread only; the clients'
 * callbacks only count.
 */
public final class Soak {
  private Soak() {}

  private static final Pattern EVENT = Pattern.compile("^event: ?(\\w+)");
  private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"([^\"]+)\"");

  public static void main(String[] argv) {
    BenchArgs.run(() -> new Soak().run(argv));
  }

  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong other = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();

  private void run(String[] argv) throws Exception {
    BenchArgs args = new BenchArgs("Soak", argv);
    Duration duration = args.duration("duration", "30m");
    Duration warmup = args.duration("warmup", "5m");
    Duration interval = args.duration("interval", "5s");
    double rate = args.number("rate", 10);
    int chains = args.integer("chains", 64);
    int steps = args.integer("steps", 100);
    int previewEvery = args.integer("preview-every", 10);
    int publishEvery = args.integer("publish-every", 100);
    int threads = args.integer("threads", 1);
    Path out = Path.of(args.string("out", "runs/soak"));
    long seed = args.longValue("seed", 1);
    args.done();
    if (!(rate > 0) || chains < 1 || steps < 1 || previewEvery < 1 || publishEvery < 1) {
      throw args.usage("need --rate > 0 and --chains, --steps, --preview-every, --publish-every >= 1");
    }
    if (warmup.compareTo(duration) >= 0) throw args.usage("--warmup must be shorter than --duration");
    Files.createDirectories(out);
    Path checkpoints = Files.createTempDirectory("scorestream-soak-");

    String overrides = String.format(Locale.ROOT, """
        scorestream {
          trainer {
            enabled = true
            data = "toy:gmm8"
            publish-every = %d
            checkpoint-every = 1000
            checkpoint-dir = "%s"
            resume = false
          }
        }
        """, publishEvery, checkpoints.toString().replace("\\", "\\\\"))
        + BenchNode.overrides("mlp", "vp", 1, threads, 4096, "continuous", 1024);
    List<Reading> readings = new ArrayList<>();
    try (BenchNode node = BenchNode.start(overrides)) {
      Config config = node.system.settings().config();
      HttpGateway http = HttpGateway.start(node.api, HttpSettings.from(config).withPort(0)).toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
      try (AeronGateway aeron = AeronGateway.start(node.api, AeronSettings.from(config)
              .withIngressChannels(List.of("aeron:ipc")));
           ScoreStreamClient client = ScoreStreamClient.connect(new ClientContext().clientName("soak")
               .aeronDirectoryName(aeron.driverDirectory()).ingressChannel("aeron:ipc")
               .ingressStreamId(aeron.ingressStreamId()).egressChannel("aeron:ipc"))) {
        HttpClient web = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        System.err.printf(Locale.ROOT, "Soak: %s for %s at %.1f requests/s (%d chains x %d steps), HTTP %s, Aeron %s; "
            + "readings every %s into %s%n", "trainer on toy:gmm8 + 1 sampler", duration, rate, chains, steps,
            http.baseUrl(), aeron.driverDirectory(), interval, out);
        SplittableRandom rng = new SplittableRandom(seed);
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        long nextArrival = start;
        long nextReading = start;
        int turn = 0;
        while (true) {
          long now = System.nanoTime();
          if (now >= nextReading) {
            Reading r = read(node, (now - start) / 1e9);
            readings.add(r);
            System.err.println(r.progress());
            nextReading += interval.toNanos();
            if (now >= end) break;
          }
          if (now >= nextArrival && now < end) {
            long s = seed * 1_000_003L + sent.get();
            switch (turn++ % 3) {
              case 0 -> inProcess(node, chains, steps, previewEvery, s);
              case 1 -> aeron(client, chains, steps, previewEvery, s);
              default -> http(web, http.baseUrl(), chains, steps, previewEvery, s);
            }
            sent.incrementAndGet();
            nextArrival += (long) (-Math.log(1 - rng.nextDouble()) / rate * 1e9);
            continue;
          }
          LockSupport.parkNanos(Math.max(1, Math.min(nextArrival, nextReading) - System.nanoTime()));
        }
        node.awaitIdle(Duration.ofMinutes(2));
      } finally {
        http.close();
      }
    } finally {
      deleteTree(checkpoints);
    }
    writeCsv(out.resolve("soak.csv"), readings);
    plot(out.resolve("soak.png"), readings, warmup.toSeconds());
    System.out.println(summary(readings, warmup.toSeconds()));
  }

  // ---- Load ----

  private void inProcess(BenchNode node, int chains, int steps, int previewEvery, long seed) {
    GenerateRequest r = new GenerateRequest("soak-" + seed, chains, seed, SamplerSpec.pc(steps), previewEvery, null);
    node.api.submit(r).runWith(Sink.foreach(e -> {
      if (e.terminal()) end(e instanceof SampleEvent.Completed);
    }), node.system).whenComplete((done, error) -> {
      if (error != null) errors.incrementAndGet();
    });
  }

  private void aeron(ScoreStreamClient client, int chains, int steps, int previewEvery, long seed) {
    RequestHandle h = client.submit(io.scorestream.protocol.GenerateRequest.of(chains, seed, SamplerParams.pc(steps))
        .withPreviewEvery(previewEvery), RequestListener.NONE);
    h.outcome().whenComplete((terminal, error) -> {
      if (error != null) errors.incrementAndGet();
      else end(terminal instanceof io.scorestream.protocol.Completed);
    });
  }

  private void http(HttpClient web, String base, int chains, int steps, int previewEvery, long seed) {
    String body = String.format(Locale.ROOT, "{\"count\": %d, \"steps\": %d, \"seed\": %d, \"previewEvery\": %d}",
        chains, steps, seed, previewEvery);
    HttpRequest post = HttpRequest.newBuilder(URI.create(base + "/v1/samples"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    web.sendAsync(post, HttpResponse.BodyHandlers.ofString()).thenCompose(resp -> {
      Matcher m = ID.matcher(resp.body());
      if (resp.statusCode() != 202 || !m.find()) throw new IllegalStateException(resp.statusCode() + " " + resp.body());
      HttpRequest events = HttpRequest.newBuilder(URI.create(base + "/v1/samples/" + m.group(1) + "/events"))
          .header("Accept", "text/event-stream").GET().build();
      return web.sendAsync(events, HttpResponse.BodyHandlers.fromLineSubscriber(new TerminalEvent()));
    }).whenComplete((done, error) -> {
      if (error != null) errors.incrementAndGet();
    });
  }

  /**
   * Reads a request's server-sent events line by line as they arrive (without holding a thread) and counts its end
   * at the first terminal event.
   */
  private final class TerminalEvent implements java.util.concurrent.Flow.Subscriber<String> {
    private java.util.concurrent.Flow.Subscription subscription;
    private boolean ended;

    @Override
    public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
      subscription = s;
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(String line) {
      Matcher m = EVENT.matcher(line);
      if (ended || !m.find()) return;
      String type = m.group(1);
      if (type.equals("accepted") || type.equals("preview")) return;
      ended = true;
      end(type.equals("completed"));
      subscription.cancel();
    }

    @Override
    public void onError(Throwable t) {
      if (!ended) errors.incrementAndGet();
      ended = true;
    }

    @Override
    public void onComplete() {
      if (!ended) other.incrementAndGet();
      ended = true;
    }
  }

  private void end(boolean ok) {
    (ok ? completed : other).incrementAndGet();
  }

  // ---- Readings ----

  /** One reading of the process and of the node. */
  record Reading(double seconds, NativeMemory.Snapshot memory, long trainStep, long versions, long sent,
                 long completed, long other, long errors) {
    String progress() {
      return String.format(Locale.ROOT, "%7.0f s  rss %s  heap %s / %s  nd4j %s  threads %d  files %d  step %d  "
              + "versions %d  requests %d (%d completed, %d other, %d errors)", seconds, NativeMemory.mib(memory.rss()),
          NativeMemory.mib(memory.heapUsed()), NativeMemory.mib(memory.heapCommitted()),
          NativeMemory.mib(memory.nd4j()), memory.threads(), memory.openFiles(), trainStep, versions, sent, completed,
          other, errors);
    }
  }

  private Reading read(BenchNode node, double seconds) throws Exception {
    long step = -1;
    long versions = -1;
    if (node.refs.trainer().isPresent()) {
      ActorRef<Trainer.Command> t = node.refs.trainer().get();
      Trainer.Status s = BenchNode.await(AskPattern.ask(t, Trainer.GetStatus::new, node.settings.askTimeout(),
          node.system.scheduler()));
      step = s.step();
      versions = s.published();
    }
    return new Reading(seconds, NativeMemory.snapshot(), step, versions, sent.get(), completed.get(), other.get(),
        errors.get());
  }

  private static void writeCsv(Path csv, List<Reading> readings) {
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(csv))) {
      w.println("seconds,rss_bytes,heap_used_bytes,heap_committed_bytes,nd4j_bytes,threads,open_files,train_step,"
          + "versions,requests_sent,requests_completed,requests_other,request_errors");
      for (Reading r : readings) {
        NativeMemory.Snapshot m = r.memory();
        w.printf(Locale.ROOT, "%.1f,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d%n", r.seconds(), m.rss(), m.heapUsed(),
            m.heapCommitted(), m.nd4j(), m.threads(), m.openFiles(), r.trainStep(), r.versions(), r.sent(),
            r.completed(), r.other(), r.errors());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + csv, e);
    }
  }

  private static void plot(Path png, List<Reading> readings, long warmupSeconds) throws IOException {
    double[] minutes = readings.stream().mapToDouble(r -> r.seconds() / 60).toArray();
    XYChart chart = new XYChartBuilder().width(900).height(500)
        .title("scorestream soak: trainer + sampler under load (warm-up " + warmupSeconds / 60 + " min)")
        .xAxisTitle("minutes").yAxisTitle("MiB").build();
    chart.getStyler().setMarkerSize(0);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    series(chart, "RSS", minutes, readings, r -> r.memory().rss(), new Color(214, 39, 40));
    series(chart, "heap committed", minutes, readings, r -> r.memory().heapCommitted(), new Color(31, 119, 180));
    series(chart, "heap used", minutes, readings, r -> r.memory().heapUsed(), new Color(158, 202, 225));
    series(chart, "libnd4j buffers", minutes, readings, r -> r.memory().nd4j(), new Color(44, 160, 44));
    BitmapEncoder.saveBitmap(chart, png.toString().replaceAll("\\.png$", ""), BitmapEncoder.BitmapFormat.PNG);
  }

  private static void series(XYChart chart, String name, double[] x, List<Reading> readings,
                             java.util.function.ToLongFunction<Reading> f, Color color) {
    double[] y = readings.stream().mapToDouble(r -> f.applyAsLong(r) / (1024.0 * 1024.0)).toArray();
    XYSeries s = chart.addSeries(name, x, y);
    s.setMarker(SeriesMarkers.NONE);
    s.setLineColor(color);
  }

  /** The summary line: slopes after the warm-up (least squares), in MiB per 10 minutes and relative to the mean. */
  static String summary(List<Reading> readings, long warmupSeconds) {
    List<Reading> after = readings.stream().filter(r -> r.seconds() >= warmupSeconds).toList();
    Reading last = readings.get(readings.size() - 1);
    double[] rss = slope(after, r -> r.memory().rss());
    double[] heap = slope(after, r -> r.memory().heapCommitted());
    double[] nd4j = slope(after, r -> r.memory().nd4j());
    long min = after.stream().mapToLong(r -> r.memory().rss()).min().orElse(0);
    long max = after.stream().mapToLong(r -> r.memory().rss()).max().orElse(0);
    return String.format(Locale.ROOT, "soak duration_s=%.0f warmup_s=%d readings=%d rss_slope_mib_per_10min=%.2f "
            + "rss_slope_pct_per_10min=%.3f rss_mean_mib=%.1f rss_min_mib=%.1f rss_max_mib=%.1f "
            + "heap_committed_slope_mib_per_10min=%.2f nd4j_slope_mib_per_10min=%.3f nd4j_last_mib=%.1f "
            + "threads_last=%d open_files_last=%d train_steps=%d versions=%d requests=%d completed=%d other=%d "
            + "errors=%d", last.seconds(), warmupSeconds, after.size(), rss[0], 100 * rss[0] / rss[1],
        rss[1], min / 1048576.0, max / 1048576.0, heap[0], nd4j[0], last.memory().nd4j() / 1048576.0,
        last.memory().threads(), last.memory().openFiles(), last.trainStep(), last.versions(), last.sent(),
        last.completed(), last.other(), last.errors());
  }

  /** {slope in MiB per 10 minutes, mean in MiB} of f over the readings. */
  static double[] slope(List<Reading> rs, java.util.function.ToLongFunction<Reading> f) {
    int n = rs.size();
    if (n < 2) return new double[] {Double.NaN, Double.NaN};
    double mx = 0;
    double my = 0;
    for (Reading r : rs) {
      mx += r.seconds();
      my += f.applyAsLong(r) / 1048576.0;
    }
    mx /= n;
    my /= n;
    double sxy = 0;
    double sxx = 0;
    for (Reading r : rs) {
      double dx = r.seconds() - mx;
      sxy += dx * (f.applyAsLong(r) / 1048576.0 - my);
      sxx += dx * dx;
    }
    return new double[] {sxy / sxx * 600, my};
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
