package io.scorestream.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.protocol.sbe.MessageHeaderEncoder;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class ProtocolCodecTest {
  private final ProtocolCodec codec = new ProtocolCodec();

  @Test
  void everyMessageRoundTrips() throws ProtocolException {
    List<Message> all = Samples.all();
    Set<Class<?>> types = new HashSet<>();
    ExpandableDirectByteBuffer buffer = new ExpandableDirectByteBuffer(64);
    for (Message m : all) {
      // at an odd offset, so nothing assumes alignment or offset 0
      int length = codec.encode(m, buffer, 3);
      Message back = codec.decode(buffer, 3, length);
      assertEquals(m, back, () -> "round trip of " + m);
      types.add(m.getClass());
    }
    for (Class<?> c : Message.class.getPermittedSubclasses()) {
      for (Class<?> leaf : leaves(c)) assertTrue(types.contains(leaf), "no sample of " + leaf.getSimpleName());
    }
  }

  private static List<Class<?>> leaves(Class<?> c) {
    if (!c.isSealed()) return List.of(c);
    return java.util.Arrays.stream(c.getPermittedSubclasses()).flatMap(s -> leaves(s).stream()).toList();
  }

  @Test
  void largeCompletedKeepsEveryBit() throws ProtocolException {
    Completed c = Samples.completed(4096, 2, 99);
    ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(128);
    int length = codec.encode(c, buffer, 0);
    assertEquals(ProtocolCodec.completedLength(4096, 2, 2), length);
    Completed back = (Completed) codec.decode(buffer, 0, length);
    double[] a = c.samples();
    double[] b = back.samples();
    for (int i = 0; i < a.length; i++) assertEquals(Double.doubleToRawLongBits(a[i]), Double.doubleToRawLongBits(b[i]));
    assertArrayEquals(c.modelVersions(), back.modelVersions());
  }

  @Test
  void quantizedPreviewDequantizesWithinHalfAStep() {
    Random rnd = new Random(5);
    double[] v = Samples.values(rnd, 1000 * 2);
    v[7] = Double.NaN;
    Preview p = Preview.of(1, 1, 1, 10, Double.NaN, Double.NaN, 2, v, PreviewEncoding.QUANTIZED_8);
    assertEquals(2000, p.dataLength());
    double[] back = p.toDoubles();
    float[] min = p.min();
    float[] max = p.max();
    for (int i = 0; i < v.length; i++) {
      if (Double.isNaN(v[i])) {
        assertTrue(Double.isNaN(back[i]));
        continue;
      }
      int d = i % 2;
      double step = ((double) max[d] - min[d]) / 254;
      assertTrue(Math.abs(back[i] - v[i]) <= step / 2 + 1e-5, "value " + i + ": " + v[i] + " vs " + back[i]);
    }
    Preview f = Preview.of(1, 1, 1, 10, 0.1, 0.2, 2, v, PreviewEncoding.FLOAT_32);
    double[] fb = f.toDoubles();
    for (int i = 0; i < v.length; i++) assertEquals((float) v[i], (float) fb[i]);
  }

  @Test
  void headerIsCheckedFirst() {
    UnsafeBuffer b = new UnsafeBuffer(new byte[64]);
    int length = codec.encode(new Heartbeat(1, 2), b, 0);
    MessageHeaderEncoder h = new MessageHeaderEncoder().wrap(b, 0);
    h.schemaId(999);
    assertEquals(ProtocolErrorCode.UNKNOWN_SCHEMA,
        assertThrows(ProtocolException.class, () -> codec.decode(b, 0, length)).code());
    h.schemaId(Protocol.SCHEMA_ID).version(0);
    assertEquals(ProtocolErrorCode.UNSUPPORTED_VERSION,
        assertThrows(ProtocolException.class, () -> codec.decode(b, 0, length)).code());
    h.version(Protocol.SCHEMA_VERSION).templateId(500);
    assertEquals(ProtocolErrorCode.UNKNOWN_TEMPLATE,
        assertThrows(ProtocolException.class, () -> codec.decode(b, 0, length)).code());
    h.templateId(2).blockLength(8);
    assertEquals(ProtocolErrorCode.BAD_LENGTH,
        assertThrows(ProtocolException.class, () -> codec.decode(b, 0, length)).code());
    h.blockLength(16);
    assertEquals(ProtocolErrorCode.TRUNCATED,
        assertThrows(ProtocolException.class, () -> codec.decode(b, 0, length - 1)).code());
    assertEquals(ProtocolErrorCode.TRUNCATED,
        assertThrows(ProtocolException.class, () -> codec.decode(b, 0, 5)).code());
    assertEquals(ProtocolErrorCode.BAD_LENGTH,
        assertThrows(ProtocolException.class, () -> codec.decode(b, 60, 10)).code());
  }

  @Test
  void newerVersionWithAppendedFieldsIsRead() throws ProtocolException {
    UnsafeBuffer b = new UnsafeBuffer(new byte[64]);
    int length = codec.encode(new Cancel(3, 4), b, 0);
    // version 2 of the schema appended 8 bytes to Cancel's block
    new MessageHeaderEncoder().wrap(b, 0).version(Protocol.SCHEMA_VERSION + 1).blockLength(24);
    assertEquals(new Cancel(3, 4), codec.decode(b, 0, length + 8));
  }

  @Test
  void absurdLengthsAreRefusedBeforeAllocation() {
    ExpandableArrayBuffer b = new ExpandableArrayBuffer(256);
    int length = codec.encode(new Completed(1, 2, 1, 1, 0, new double[] {1}, new long[0], 0, 0), b, 0);
    // the samples' uint32 length field sits 12 bytes before the end (4 + one float64)
    b.putInt(length - 12, 0x7FFF_FFF8, java.nio.ByteOrder.LITTLE_ENDIAN);
    assertEquals(ProtocolErrorCode.BAD_LENGTH,
        assertThrows(ProtocolException.class, () -> codec.decode(b, 0, length)).code());
  }

  @Test
  void inpaintingTravelsBitForBitAndBadMasksAreRefused() throws ProtocolException {
    double[] known = {0.5, -1.0, Math.PI, 1e-300};
    boolean[] mask = {true, false, true, false};
    GenerateRequest r = GenerateRequest.of(2, 1, SamplerParams.defaults()).withIds(1, 1)
        .withInpainting(new Inpainting(known, mask));
    ExpandableArrayBuffer b = new ExpandableArrayBuffer(256);
    int length = codec.encode(r, b, 0);
    GenerateRequest back = (GenerateRequest) codec.decode(b, 0, length);
    assertEquals(r, back);
    for (int i = 0; i < known.length; i++) {
      assertEquals(Double.doubleToRawLongBits(known[i]), Double.doubleToRawLongBits(back.inpainting().known()[i]));
    }
    assertEquals(null, ((GenerateRequest) codec.decode(b, 0, codec.encode(r.withInpainting(null), b, 0)))
        .inpainting(), "no inpainting: both data fields empty");

    // The mask is the frame's last 4 + 4 bytes (its length, then one byte a value): a flag that is neither 0 nor 1.
    int end = codec.encode(r, b, 0);
    b.putByte(end - 1, (byte) 2);
    ProtocolException flag = assertThrows(ProtocolException.class, () -> codec.decode(b, 0, end));
    assertEquals(ProtocolErrorCode.BAD_VALUE, flag.code());
    assertTrue(flag.getMessage().contains("mask value 2"), flag.getMessage());
    // A mask one value short (its length field says 3, and the frame ends a byte earlier).
    codec.encode(r, b, 0);
    b.putInt(end - 8, 3, java.nio.ByteOrder.LITTLE_ENDIAN);
    ProtocolException shortMask = assertThrows(ProtocolException.class, () -> codec.decode(b, 0, end - 1));
    assertEquals(ProtocolErrorCode.BAD_VALUE, shortMask.code());
    // A known value that is not finite.
    codec.encode(r, b, 0);
    b.putDouble(end - 8 - 8, Double.NaN, java.nio.ByteOrder.LITTLE_ENDIAN);
    ProtocolException nan = assertThrows(ProtocolException.class, () -> codec.decode(b, 0, end));
    assertEquals(ProtocolErrorCode.BAD_VALUE, nan.code());
    assertTrue(nan.getMessage().contains("known value 3 is NaN"), nan.getMessage());
    // The records refuse the same.
    assertThrows(IllegalArgumentException.class, () -> new Inpainting(new double[2], new boolean[3]));
    assertThrows(IllegalArgumentException.class, () -> new Inpainting(new double[] {Double.NaN}, new boolean[1]));
    assertThrows(IllegalArgumentException.class, () -> new Inpainting(new double[0], new boolean[0]));
  }

  @Test
  void recordsRefuseInconsistentShapes() {
    assertThrows(IllegalArgumentException.class,
        () -> new Completed(1, 1, 3, 2, 0, new double[5], new long[0], 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new Preview(1, 1, 0, 0, 0, 0, 2, 2,
        PreviewEncoding.QUANTIZED_8, new float[2], new float[2], new byte[3]));
    assertThrows(IllegalArgumentException.class, () -> new SamplerParams("pc", 1, "heun", null, null, null, null,
        null, null, null, null, null, null));
    assertThrows(IllegalArgumentException.class, () -> new Failed(1, 1, ErrorCode.INTERNAL, "y".repeat(5000)));
    assertEquals(Protocol.MAX_STRING_BYTES, Protocol.truncate("\u00e9".repeat(5000)).length() * 2);
  }
}
