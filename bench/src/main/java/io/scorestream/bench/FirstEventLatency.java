package io.scorestream.bench;

import akka.stream.javadsl.Sink;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.SampleEvent;
import io.scorestream.model.sample.SamplerSpec;
import java.util.Arrays;
import java.util.Locale;

/**
 * The request path on an idle lone node, one small request at a time through {@code ScoreStream.submit}: from
 * submission to Accepted (the session starts, the coordinator admits) and to the first preview (after the
 * sampler's first tick). It measures what a session costs on the way to the first event, so it is the benchmark of
 * changes to the sessions and their directory.
 *
 * <p>One sampler on the reference MLP; {@code --requests} (1,000) requests of 1 chain x 20 steps with a preview
 * every step, after {@code --warmup} (500) unrecorded ones. Prints
 * {@code accepted_p50_ms accepted_p90_ms first_preview_p50_ms first_preview_p90_ms}.
 */
public final class FirstEventLatency {
  private FirstEventLatency() {}

  public static void main(String[] args) {
    BenchArgs.run(() -> {
      BenchArgs a = new BenchArgs("FirstEventLatency", args);
      String model = a.string("model", "mlp");
      int requests = a.integer("requests", 1000);
      int warmup = a.integer("warmup", 500);
      a.done();
      try (BenchNode node = BenchNode.start(BenchNode.overrides(model, "vp", 1, 1, 4096, "continuous", 256))) {
        long[] accepted = new long[requests];
        long[] preview = new long[requests];
        for (int i = 0; i < warmup + requests; i++) {
          long t0 = System.nanoTime();
          long[] at = new long[2];
          BenchNode.await(node.api.submit(new GenerateRequest("first-" + i, 1, i, SamplerSpec.pc(20), 1, null))
              .runWith(Sink.foreach(e -> {
                if (e instanceof SampleEvent.Accepted) at[0] = System.nanoTime() - t0;
                if (e instanceof SampleEvent.Preview && at[1] == 0) at[1] = System.nanoTime() - t0;
              }), node.system));
          if (i >= warmup) {
            accepted[i - warmup] = at[0];
            preview[i - warmup] = at[1];
          }
        }
        Arrays.sort(accepted);
        Arrays.sort(preview);
        System.out.printf(Locale.ROOT, "requests=%d accepted_p50_ms=%.3f accepted_p90_ms=%.3f "
                + "first_preview_p50_ms=%.3f first_preview_p90_ms=%.3f%n", requests, accepted[requests / 2] / 1e6,
            accepted[requests * 9 / 10] / 1e6, preview[requests / 2] / 1e6, preview[requests * 9 / 10] / 1e6);
      }
    });
  }
}
