package io.scorestream.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import java.util.List;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The wire bytes of messages with every sampler, schedule, error and encoding enum set, against bytes recorded once
 * per schema version (version 1 with the codec that mapped names by list position, which the by-name codec
 * reproduced; the GenerateRequest frames were re-recorded at version 2, which appends eta, schedule, churn, sigmaMax
 * and sigmaMin to the block and adds the few-step kinds, and every frame at version 3, which appends the guidance
 * scale and the labels group, every frame at version 4, which appends the model name to GenerateRequest, and every
 * frame at version 5, which appends the inpainting condition's known values and mask;
 * {@code -Dscorestream.wire.record=true} prints the frames for a new version). A reordered Java list or enum,
 * a renamed schema constant or a moved field changes these bytes and fails here, before a deployed client and node
 * disagree about what a request asked for.
 */
class WireGoldenTest {
  private static final String PC_VE =
      "8f00040005100500887766554433221107000000000000002a00000000000000100000000a0000000000000000000000" +
      "030000000001f40100000201020000007b14ae47e17ac43f0100000000000000f87f000000000000f87f000000800000" +
      "00000000f87f000000000000f87f000000000000f87f00000000000000f87f000000000000f87f000000000000f87f00" +
      "0000000000f87f040000000200766500000000000000000000";
  private static final String ODE_HEUN =
      "8f00040005100500010000000000000008000000000000002b00000000000000040000000000000000f2052a01000000" +
      "00000000010232000000000000000080000000000000f87f02032d431cebe2361a3ff168e388b5f8e43e000000800000" +
      "00000000f87f000000000000f87f000000000000f87f00000000000000f87f000000000000f87f000000000000f87f00" +
      "0000000000f87f04000000000000000000000000000000";
  private static final String ALD =
      "8f00040005100500010000000000000009000000000000002c0000000000000004000000010000000000000000000000" +
      "00000000010364000000030200000080000000000000f87f0002000000000000f87f000000000000f87f0a000000fa7e" +
      "6abc7493683f000000000000f87f000000000000f87f00000000000000f87f0000000000003440000000000000f03f00" +
      "0000000000f87f040000000200767000000000000000000000";
  private static final String LANGEVIN =
      "8f0004000510050001000000000000000a000000000000002d0000000000000004000000010000000000000000000000" +
      "00000000010414000000040300000000000000000000f87f0001000000000000f87f000000000000f87f000000807b14" +
      "ae47e17a843f000000000000e03f000000000000f87f00000000000000f87f000000000000f87f000000000000f87f00" +
      "0000000000f87f040000000500737562767000000000000000000000";
  private static final String DDIM =
      "8f0004000510050001000000000000000b000000000000002e0000000000000004000000010000000000000000000000" +
      "00000000010519000000000000000080000000000000f87f0000000000000000f87f000000000000f87f000000800000" +
      "00000000f87f000000000000f87f000000000000e03f03000000000000f87f000000000000f87f000000000000f87f00" +
      "0000000000f87f040000000200767000000000000000000000";
  private static final String DPMPP_2M_SDE =
      "8f0004000510050001000000000000000c000000000000002f0000000000000004000000010000000000000000000000" +
      "0000000001071e000000000000000080000000000000f87f0000000000000000f87f000000000000f87f000000800000" +
      "00000000f87f000000000000f87f000000000000f03f02000000000000f87f000000000000f87f000000000000f87f00" +
      "0000000000f87f040000000200766500000000000000000000";
  private static final String EDM =
      "8f0004000510050001000000000000000d00000000000000300000000000000004000000010000000000000000000000" +
      "00000000010812000000000000000080000000000000f87f0000000000000000f87f000000000000f87f000000800000" +
      "00000000f87f000000000000f87f000000000000f87f010000000000004440000000000000f87f000000000000f87f00" +
      "0000000000f87f04000000000000000000000000000000";
  private static final String DPMPP_2M =
      "8f0004000510050001000000000000000e00000000000000310000000000000004000000010000000000000000000000" +
      "00000000010614000000000000000080000000000000f87f0000000000000000f87f000000000000f87f000000800000" +
      "00000000f87f000000000000f87f000000000000f87f00000000000000f87f000000000000f87f000000000000f87f00" +
      "0000000000f87f04000000000000000000000000000000";
  private static final String REJECTED =
      "19001c0005100500010000000000000007000000000000000180b2e60e000000000a0071756575652066756c6c";
  private static final String FAILED =
      "11001a000510050001000000000000000800000000000000041000636861696e2033206469766572676564";
  private static final String PROTOCOL_ERROR =
      "09001e00051005000100000000000000070a006e6f2073657373696f6e";

  private static final List<Message> MESSAGES = List.of(
      new GenerateRequest(0x1122334455667788L, 7, 42, 16, "ve", new SamplerParams("pc", 500, "reverse-diffusion",
          "langevin", 2, 0.16, true, null, null, null, null, null, null), 10, 0, 3, PreviewEncoding.QUANTIZED_8),
      new GenerateRequest(1, 8, 43, 4, "", new SamplerParams("ode", 50, null, null, null, null, false, "heun", 1e-4,
          1e-5, null, null, null), 0, 5_000_000_000L, 0, PreviewEncoding.FLOAT_32),
      new GenerateRequest(1, 9, 44, 4, "vp", new SamplerParams("ald", 100, "ancestral", "ald", null, null, null,
          "euler", null, null, 10, 0.003, null).withLadder(20.0, 1.0), 1, 0, 0, PreviewEncoding.FLOAT_32),
      new GenerateRequest(1, 10, 45, 4, "subvp", new SamplerParams("langevin", 20, "none", "none", 0, null, null,
          "rk45", null, null, null, 0.01, 0.5), 1, 0, 0, PreviewEncoding.FLOAT_32),
      new GenerateRequest(1, 11, 46, 4, "vp", SamplerParams.fewStep("ddim", 25).withFewStep(0.5, "logsnr", null), 1, 0,
          0, PreviewEncoding.FLOAT_32),
      new GenerateRequest(1, 12, 47, 4, "ve", SamplerParams.fewStep("dpmpp-2m-sde", 30).withFewStep(1.0, "karras",
          null), 1, 0, 0, PreviewEncoding.FLOAT_32),
      new GenerateRequest(1, 13, 48, 4, "", SamplerParams.fewStep("edm", 18).withFewStep(null, "uniform", 40.0), 1, 0,
          0, PreviewEncoding.FLOAT_32),
      new GenerateRequest(1, 14, 49, 4, "", SamplerParams.fewStep("dpmpp-2m", 20), 1, 0, 0, PreviewEncoding.FLOAT_32),
      new GenerateRequest(1, 15, 50, 16, "vp", SamplerParams.fewStep("ddim", 50), 1, 0, 0, PreviewEncoding.QUANTIZED_8)
          .withLabels(List.of(0, 1, 2, 9, -1), 2.5),
      new GenerateRequest(1, 16, 51, 8, "", SamplerParams.fewStep("ddim", 20), 1, 0, 0, PreviewEncoding.FLOAT_32)
          .withModel("digits"),
      new GenerateRequest(1, 17, 52, 2, "", SamplerParams.fewStep("ddim", 20), 1, 0, 0, PreviewEncoding.FLOAT_32)
          .withInpainting(new Inpainting(new double[] {1.0, -0.5, 0.25}, new boolean[] {true, false, true})),
      new Rejected(1, 7, ErrorCode.OVERLOADED, "queue full", 250_000_000L),
      new Failed(1, 8, ErrorCode.NON_FINITE, "chain 3 diverged"),
      new ProtocolError(1, ProtocolErrorCode.UNKNOWN_SESSION, "no session"));

  private static final String LABELLED =
      "8f0004000510050001000000000000000f00000000000000320000000000000010000000010000000000000000000000" +
      "00000000000532000000000000000080000000000000f87f0000000000000000f87f000000000000f87f000000800000" +
      "00000000f87f000000000000f87f000000000000f87f00000000000000f87f000000000000f87f000000000000f87f00" +
      "000000000004400400050000000000010000000200000009000000ffffffff0200767000000000000000000000";

  private static final String NAMED_MODEL =
      "8f0004000510050001000000000000001000000000000000330000000000000008000000010000000000000000000000" +
      "00000000010514000000000000000080000000000000f87f0000000000000000f87f000000000000f87f000000800000" +
      "00000000f87f000000000000f87f000000000000f87f00000000000000f87f000000000000f87f000000000000f87f00" +
      "0000000000f87f04000000000006006469676974730000000000000000";

  private static final String INPAINTING =
      "8f0004000510050001000000000000001100000000000000340000000000000002000000010000000000000000000000" +
      "00000000010514000000000000000080000000000000f87f0000000000000000f87f000000000000f87f000000800000" +
      "00000000f87f000000000000f87f000000000000f87f00000000000000f87f000000000000f87f000000000000f87f00" +
      "0000000000f87f040000000000000018000000000000000000f03f000000000000e0bf000000000000d03f0300000001" +
      "0001";

  private static final List<String> GOLDEN = List.of(PC_VE, ODE_HEUN, ALD, LANGEVIN, DDIM, DPMPP_2M_SDE, EDM,
      DPMPP_2M, LABELLED, NAMED_MODEL, INPAINTING, REJECTED, FAILED, PROTOCOL_ERROR);

  @Test
  void encodingGivesTheRecordedBytesAndDecodingGivesTheMessagesBack() throws Exception {
    ProtocolCodec codec = new ProtocolCodec();
    UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
    for (int i = 0; i < MESSAGES.size(); i++) {
      int n = codec.encode(MESSAGES.get(i), buffer, 0);
      byte[] bytes = new byte[n];
      buffer.getBytes(0, bytes);
      if (Boolean.getBoolean("scorestream.wire.record")) {
        // Re-recording for a new schema version: prints every frame; paste them above after reviewing the diff.
        System.out.println("GOLDEN " + i + " " + HexFormat.of().formatHex(bytes));
        continue;
      }
      assertEquals(GOLDEN.get(i), HexFormat.of().formatHex(bytes), "bytes of " + MESSAGES.get(i));
      byte[] golden = HexFormat.of().parseHex(GOLDEN.get(i));
      assertEquals(MESSAGES.get(i), codec.decode(new UnsafeBuffer(golden), 0, golden.length));
    }
  }

  @Test
  void everyProtocolNameHasItsSchemaConstantAndBack() {
    for (String k : SamplerParams.KINDS) {
      assertEquals(k, ProtocolCodec.nameToWire(io.scorestream.protocol.sbe.SamplerKind.class, k).name()
          .toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
    }
    for (String p : SamplerParams.PREDICTORS) ProtocolCodec.nameToWire(io.scorestream.protocol.sbe.Predictor.class, p);
    for (String c : SamplerParams.CORRECTORS) ProtocolCodec.nameToWire(io.scorestream.protocol.sbe.Corrector.class, c);
    for (String m : SamplerParams.METHODS) ProtocolCodec.nameToWire(io.scorestream.protocol.sbe.OdeMethod.class, m);
    for (String m : SamplerParams.SCHEDULES) ProtocolCodec.nameToWire(io.scorestream.protocol.sbe.Schedule.class, m);
    for (ErrorCode e : ErrorCode.values()) io.scorestream.protocol.sbe.ErrorCode.valueOf(e.name());
    for (ProtocolErrorCode e : ProtocolErrorCode.values()) io.scorestream.protocol.sbe.ProtocolErrorCode.valueOf(e.name());
    for (PreviewEncoding e : PreviewEncoding.values()) io.scorestream.protocol.sbe.PreviewEncoding.valueOf(e.name());
  }

  @Test
  void anUnknownEnumValueOnTheWireIsABadValue() {
    byte[] frame = HexFormat.of().parseHex(PC_VE);
    ProtocolCodec codec = new ProtocolCodec();
    // The predictor byte of the PC request (REVERSE_DIFFUSION = 2): set it to a value the schema does not have.
    int at = PC_VE.indexOf("f40100000201") / 2 + 4;
    assertEquals(2, frame[at]);
    frame[at] = 9;
    ProtocolException e = assertThrows(ProtocolException.class,
        () -> codec.decode(new UnsafeBuffer(frame), 0, frame.length));
    assertEquals(ProtocolErrorCode.BAD_VALUE, e.code());
  }
}
