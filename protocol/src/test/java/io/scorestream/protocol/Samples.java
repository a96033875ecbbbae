package io.scorestream.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** One or more instances of every message, with edge values, from a fixed seed. */
final class Samples {
  private Samples() {}

  static double[] values(Random rnd, int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) v[i] = rnd.nextGaussian() * 3;
    return v;
  }

  static Completed completed(int count, int dim, long seed) {
    return new Completed(7, 42, count, dim, 0, values(new Random(seed), count * dim), new long[] {1, 3}, 123_456,
        987_654_321L);
  }

  static List<Message> all() {
    Random rnd = new Random(1);
    List<Message> m = new ArrayList<>();
    m.add(new Connect(11, "aeron:udp?endpoint=127.0.0.1:40124", 70_001, "s3cret", "tester"));
    m.add(new Connect(0, "", 0, "", ""));
    m.add(new Heartbeat(5, 123_456_789L));
    m.add(new Disconnect(5, "bye \u00e9\u4e16"));
    m.add(GenerateRequest.of(16, 42, SamplerParams.defaults()).withIds(5, 1));
    m.add(new GenerateRequest(5, 2, -1, 4096, "vp",
        new SamplerParams("pc", 500, "reverse-diffusion", "langevin", 2, 0.16, true, null, null, null, null, null,
            null), 10, 5_000_000_000L, 3, PreviewEncoding.QUANTIZED_8));
    m.add(new GenerateRequest(5, 3, Long.MAX_VALUE, 1, "ve",
        new SamplerParams("ode", 100, null, null, null, null, false, "rk45", 1e-5, 1e-5, null, null, null), 0, 0,
        0, PreviewEncoding.FLOAT_32));
    m.add(GenerateRequest.of(8, 9, SamplerParams.ald(10, 100, 2e-5)).withIds(5, 4));
    m.add(GenerateRequest.of(8, 9, SamplerParams.langevin(0.01, 50, 1e-3)).withIds(5, 5).withSde("subvp"));
    m.add(GenerateRequest.of(8, 9, SamplerParams.pc(10, "ancestral", "ald", 1, 0.1)).withIds(5, 6));
    m.add(GenerateRequest.of(8, 9, SamplerParams.pc(10, "none", "none", 0, 0.1).withDenoise(false)).withIds(5, 7));
    m.add(GenerateRequest.of(8, 9, SamplerParams.pc(10, "euler-maruyama", "none", 0, 0.1)).withIds(5, 8));
    m.add(GenerateRequest.of(8, 9, SamplerParams.ode("heun", 20)).withIds(5, 9));
    m.add(GenerateRequest.of(8, 9, SamplerParams.ode("euler", 20)).withIds(5, 10));
    m.add(GenerateRequest.of(8, 9, SamplerParams.fewStep("ddim", 50).withFewStep(0.3, "karras", null)).withIds(5, 11));
    m.add(GenerateRequest.of(8, 9, SamplerParams.fewStep("edm", null).withFewStep(null, null, 5.0)).withIds(5, 12));
    m.add(GenerateRequest.of(8, 9, SamplerParams.ald(10, 100, 0.1).withLadder(20.0, 1.0)).withIds(5, 13));
    // An inpainting request: a 784-pixel image with its top half kept, labels and guidance beside it.
    double[] known = values(rnd, 784);
    boolean[] mask = new boolean[784];
    for (int i = 0; i < 392; i++) mask[i] = true;
    m.add(GenerateRequest.of(8, 9, SamplerParams.fewStep("ddim", 50)).withIds(5, 14).withLabels(List.of(3), 2.0)
        .withInpainting(new Inpainting(known, mask)));
    m.add(new Cancel(5, 2));
    m.add(new StatusRequest(5, 77));
    m.add(new ConnectAck(11, 5, 1_000_000_000L, 10_000_000_000L, 1 << 20, 2, "vp"));
    m.add(new ConnectRejected(11, ErrorCode.UNAUTHENTICATED, "wrong secret"));
    m.add(new Accepted(5, 2, 4096, 3, 1_500_000_000L));
    double[] preview = values(rnd, 64 * 3);
    preview[5] = Double.NaN;
    preview[6] = Double.POSITIVE_INFINITY;
    m.add(Preview.of(5, 2, 10, 500, 0.5, 1.25, 3, preview, PreviewEncoding.QUANTIZED_8));
    m.add(Preview.of(5, 2, 20, 500, Double.NaN, Double.NaN, 3, preview, PreviewEncoding.FLOAT_32));
    m.add(Preview.of(5, 2, 0, 0, Double.NaN, Double.NaN, 1, new double[0], PreviewEncoding.QUANTIZED_8));
    m.add(new ResultPart(5, 2, 128, 2, values(rnd, 256)));
    m.add(completed(4096, 2, 3));
    m.add(new Completed(5, 2, 10, 3, 4, values(rnd, 18), new long[0], 0, 0));
    m.add(new Completed(5, 2, 0, 1, 0, new double[0], new long[] {Long.MAX_VALUE}, -1, -1));
    for (ErrorCode c : ErrorCode.values()) m.add(new Failed(5, 2, c, "failed: " + c));
    m.add(new Cancelled(5, 2, "cancelled by the client"));
    m.add(new Rejected(5, 2, ErrorCode.OVERLOADED, "queue full", 250_000_000L));
    m.add(new Rejected(5, 3, ErrorCode.INVALID_ARGUMENT, "x".repeat(Protocol.MAX_STRING_BYTES), 0));
    m.add(new Status(5, 77, 1, 2, 300, 1, 123_456_789L, 10, 2, 8, 4));
    for (ProtocolErrorCode c : ProtocolErrorCode.values()) m.add(new ProtocolError(0, c, "bad frame: " + c));
    return m;
  }
}
