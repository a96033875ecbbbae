package io.scorestream.app;

import io.scorestream.protocol.Accepted;
import io.scorestream.protocol.Cancelled;
import io.scorestream.protocol.Completed;
import io.scorestream.protocol.ErrorCode;
import io.scorestream.protocol.Failed;
import io.scorestream.protocol.GenerateRequest;
import io.scorestream.protocol.Preview;
import io.scorestream.protocol.PreviewEncoding;
import io.scorestream.protocol.Rejected;
import io.scorestream.protocol.SamplerParams;
import io.scorestream.protocol.Terminal;
import io.scorestream.protocol.client.ClientContext;
import io.scorestream.protocol.client.ClientException;
import io.scorestream.protocol.client.RequestHandle;
import io.scorestream.protocol.client.RequestListener;
import io.scorestream.protocol.client.ScoreStreamClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code scorestream client}: one request to a {@code scorestream serve} node over Aeron, through
 * {@link ScoreStreamClient}. It shows a progress bar with statistics of each preview (the Tweedie estimates of x0:
 * per-dimension mean and spread, how many chains have reported), then writes the samples as CSV (and a scatter for
 * 2-D data). Sampler options left out take the node's defaults. On one host ({@code aeron:ipc}) it joins the
 * server's media driver ({@code --aeron-dir}, printed by serve); with a UDP server channel it runs a media driver
 * of its own and asks for its results on {@code --egress} (UDP loopback, any free port, by default). Ctrl-C
 * cancels the request. Exit status: 0 completed, 1 failed, rejected or cancelled, 2 bad options.
 */
@Command(name = "client", mixinStandardHelpOptions = true,
    description = {"Ask a scorestream node for samples over Aeron; show progress, write CSV (and PNG for 2-D)."})
final class ClientCommand implements Callable<Integer> {
  @Option(names = "--server", required = true,
      description = "the server's ingress channel: aeron:ipc or aeron:udp?endpoint=HOST:PORT (serve prints them)")
  String server;

  @Option(names = "--stream-id", defaultValue = "7001", description = "the server's ingress stream id (default: ${DEFAULT-VALUE})")
  int streamId;

  @Option(names = "--aeron-dir",
      description = "directory of the media driver to use (needed for aeron:ipc: the server's, printed by serve)")
  String aeronDir;

  @Option(names = "--egress",
      description = "channel the results come back on (default: aeron:ipc for IPC, aeron:udp?endpoint=127.0.0.1:0 for UDP)")
  String egress;

  @Option(names = "--secret", description = "the server's shared secret, if it has one")
  String secret;

  @Option(names = "--n", defaultValue = "1000", description = "number of samples (default: ${DEFAULT-VALUE})")
  int count;

  @Option(names = "--seed", defaultValue = "1", description = "noise seed (default: ${DEFAULT-VALUE})")
  long seed;

  /** The same sampler options as sample and eval: what they leave out, the node fills with its defaults. */
  @picocli.CommandLine.Mixin
  SamplerOptions sampler = new SamplerOptions();

  @Option(names = "--preview-every", defaultValue = "10",
      description = "a preview every this many steps, 0 for none (default: ${DEFAULT-VALUE})")
  int previewEvery;

  @Option(names = "--preview-encoding", defaultValue = "8bit",
      description = "8bit (quantised per dimension) or float (default: ${DEFAULT-VALUE})")
  String previewEncoding;

  @Option(names = "--deadline", converter = DurationConverter.class, description = "deadline, e.g. 30s (default: the node's)")
  Duration deadline;

  @Option(names = "--out", defaultValue = "samples.csv", description = "CSV of the samples (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--plot", description = "PNG of the samples: a scatter for 2-D data, a grid for images (see --image-shape)")
  Path plot;

  @Option(names = "--labels", split = ",", description = "class labels cycled over the chains (conditional models)")
  java.util.List<Integer> labels;

  @Option(names = "--guidance", description = "classifier-free guidance scale with --labels (default: the node's, 1)")
  Double guidance;

  @Option(names = "--served-model", paramLabel = "NAME",
      description = "which of the node's models to sample (serve --extra-model; default: its primary model)")
  String servedModel;

  @Option(names = "--image-shape", description = "CxHxW of image samples for --plot (default: 1x28x28 when D = 784)")
  String imageShape;

  /** The same --inpaint and --mask as sample: the digit and its mask travel with the request. */
  @picocli.CommandLine.Mixin
  InpaintOptions inpaint = new InpaintOptions();

  @Override
  public Integer call() throws Exception {
    GenerateRequest request = request();
    ClientContext ctx = new ClientContext().ingressChannel(server).ingressStreamId(streamId).clientName("cli");
    boolean udp = server.startsWith("aeron:udp");
    if (aeronDir != null) {
      ctx.aeronDirectoryName(aeronDir);
    } else if (udp) {
      ctx.embeddedDriver(true);
    } else {
      throw new IllegalArgumentException("--server " + server + " needs --aeron-dir: the media driver directory that "
          + "`scorestream serve` prints (IPC works through the server's own driver)");
    }
    ctx.egressChannel(egress != null ? egress : udp ? "aeron:udp?endpoint=127.0.0.1:0" : "aeron:ipc");
    if (secret != null) ctx.secret(secret);

    try (ScoreStreamClient client = new ScoreStreamClient(ctx)) {
      client.connect();
      System.err.printf(Locale.ROOT, "client: connected to %s (session %d, %s SDE, dim %d)%n", server,
          client.sessionId(), client.connectAck().sde(), client.connectAck().dim());
      Progress progress = new Progress();
      RequestHandle handle = client.submit(request, progress);
      Thread cancelOnCtrlC = new Thread(handle::cancel, "scorestream-client-cancel");
      Runtime.getRuntime().addShutdownHook(cancelOnCtrlC);
      Terminal end;
      try {
        // No timeout of our own: the outcome completes with the terminal event, or exceptionally when the server
        // stays silent past the client's server timeout.
        try {
          end = handle.outcome().join();
        } catch (CompletionException e) {
          if (e.getCause() instanceof ClientException lost) throw lost;
          throw e;
        }
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(cancelOnCtrlC);
        } catch (IllegalStateException shuttingDown) {
          // Ctrl-C: the hook is cancelling the request.
        }
      }
      return finish(handle, end);
    } catch (ClientException e) {
      System.err.println("error: " + e.getMessage());
      return e.code().filter(c -> c == ErrorCode.INVALID_ARGUMENT).isPresent() ? ScoreStreamCli.BAD_INPUT : 1;
    }
  }

  private GenerateRequest request() {
    if (count <= 0) throw new IllegalArgumentException("--n must be > 0, got " + count);
    if (previewEvery < 0) throw new IllegalArgumentException("--preview-every must be >= 0, got " + previewEvery);
    PreviewEncoding encoding = switch (previewEncoding.toLowerCase(Locale.ROOT)) {
      case "8bit", "8-bit", "quantized" -> PreviewEncoding.QUANTIZED_8;
      case "float", "float32" -> PreviewEncoding.FLOAT_32;
      default -> throw new IllegalArgumentException("--preview-encoding must be 8bit or float, got '" + previewEncoding
          + "'");
    };
    SamplerParams params = SamplerOptions.toWire(sampler.spec());
    GenerateRequest r = GenerateRequest.of(count, seed, params).withPreviewEvery(previewEvery)
        .withPreviewEncoding(encoding);
    if (labels != null) r = r.withLabels(labels, guidance);
    if (servedModel != null) r = r.withModel(servedModel);
    if (inpaint.requested()) {
      // The node refuses a condition whose dimension is not its model's (INVALID_ARGUMENT).
      InpaintOptions.Digit digit = inpaint.digit();
      r = r.withInpainting(new io.scorestream.protocol.Inpainting(digit.known(), digit.mask()));
    }
    if (deadline != null) {
      if (deadline.isZero() || deadline.isNegative()) throw new IllegalArgumentException("--deadline must be > 0");
      r = r.withDeadlineNs(deadline.toNanos());
    }
    return r;
  }

  private int finish(RequestHandle handle, Terminal end) {
    if (end instanceof Completed c) {
      double[][] rows = new double[c.count()][];
      for (int i = 0; i < c.count(); i++) rows[i] = c.sample(i);
      Csv.write(out, rows);
      long[] shape = imageShape(c.dim());
      if (plot != null && shape != null) {
        // Image models are trained on pixels scaled to [-1, 1] (ImageData); the grid draws [0, 1].
        double[][] pixels = new double[rows.length][];
        for (int i = 0; i < rows.length; i++) {
          pixels[i] = new double[rows[i].length];
          for (int k = 0; k < rows[i].length; k++) pixels[i][k] = (rows[i][k] + 1) / 2;
        }
        ImageGrid.write(plot, pixels, shape, 10, 2);
      } else if (plot != null) {
        if (c.dim() != 2) throw new IllegalArgumentException("--plot draws 2-D data or images (--image-shape); the samples have dim " + c.dim());
        Plots.scatter(plot, "scorestream client: " + c.count() + " samples, model v"
            + Arrays.toString(c.modelVersions()), rows, null);
      }
      System.out.printf(Locale.ROOT, "client: %d samples -> %s%s | model versions %s | accepted %.1f ms, first "
              + "preview %s, result %.1f ms after submission | %d previews%n", c.count(), out,
          plot == null ? "" : " and " + plot, Arrays.toString(c.modelVersions()),
          ms(handle.acceptedNs() - handle.submittedNs()),
          handle.firstPreviewNs() == 0 ? "-" : String.format(Locale.ROOT, "%.1f ms",
              ms(handle.firstPreviewNs() - handle.submittedNs())),
          ms(handle.endedNs() - handle.submittedNs()), handle.previews());
      return 0;
    }
    if (end instanceof Rejected r) {
      System.err.println("error: rejected: " + r.code() + " " + r.message()
          + (r.retryAfterNs() > 0 ? String.format(Locale.ROOT, " (retry after %.1f s)", r.retryAfterNs() / 1e9) : ""));
      return r.code() == ErrorCode.INVALID_ARGUMENT ? ScoreStreamCli.BAD_INPUT : 1;
    }
    if (end instanceof Failed f) {
      System.err.println("error: failed: " + f.code() + " " + f.message());
      return 1;
    }
    Cancelled x = (Cancelled) end;
    System.err.println("client: cancelled: " + x.reason());
    return 1;
  }

  /** The image shape of --image-shape, 1x28x28 for D = 784, or null for vectors. */
  private long[] imageShape(int dim) {
    if (imageShape == null) return dim == 784 ? new long[] {1, 28, 28} : null;
    String[] p = imageShape.toLowerCase(Locale.ROOT).split("x");
    if (p.length != 3) throw new IllegalArgumentException("--image-shape must be CxHxW, got '" + imageShape + "'");
    long[] shape = new long[3];
    for (int i = 0; i < 3; i++) shape[i] = Long.parseLong(p[i].trim());
    if (shape[0] * shape[1] * shape[2] != dim) {
      throw new IllegalArgumentException("--image-shape " + imageShape + " holds " + shape[0] * shape[1] * shape[2]
          + " values; the samples have " + dim);
    }
    return shape;
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  /** Draws the progress bar from the client's polling thread: one line per preview at most five times a second. */
  private static final class Progress implements RequestListener {
    private ProgressBar bar;
    private int totalSteps;

    @Override
    public void onAccepted(Accepted a) {
      System.err.printf(Locale.ROOT, "client: accepted request %d (%d chains, queue position %d, ETA %.1f s)%n",
          a.requestId(), a.chains(), a.queuePosition(), a.etaNs() / 1e9);
    }

    @Override
    public void onPreview(Preview p) {
      if (bar == null) {
        totalSteps = p.totalSteps();
        bar = new ProgressBar(totalSteps, "steps");
      }
      bar.update(Math.min(p.step(), totalSteps - 1L), stats(p));
    }

    @Override
    public void onTerminal(Terminal t) {
      if (bar != null && t instanceof Completed) bar.update(totalSteps, "done");
    }

    /** Per-dimension mean and standard deviation of the reporting chains' x0 estimates (first two dimensions). */
    private static String stats(Preview p) {
      double[] x = p.toDoubles();
      int dim = p.dim();
      int shown = Math.min(dim, 2);
      double[] sum = new double[shown];
      double[] sq = new double[shown];
      int reporting = 0;
      for (int i = 0; i < p.chains(); i++) {
        if (Double.isNaN(x[i * dim])) continue;
        reporting++;
        for (int d = 0; d < shown; d++) {
          double v = x[i * dim + d];
          sum[d] += v;
          sq[d] += v * v;
        }
      }
      StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%d/%d chains", reporting, p.chains()));
      for (int d = 0; d < shown && reporting > 0; d++) {
        double mean = sum[d] / reporting;
        double sd = Math.sqrt(Math.max(0, sq[d] / reporting - mean * mean));
        s.append(String.format(Locale.ROOT, " | x%d %.2f+-%.2f", d, mean, sd));
      }
      return s.toString();
    }
  }
}
