package io.scorestream.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.scorestream.protocol.sbe.MessageHeaderEncoder;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * Malformed frames of every kind: the decoder returns a valid record or throws ProtocolException, never anything
 * else; a record it returns encodes and decodes to itself.
 */
class ProtocolFuzzTest {
  private static final int FRAMES_PER_KIND = 4_000;

  private final ProtocolCodec codec = new ProtocolCodec();
  private final ProtocolCodec reencoder = new ProtocolCodec();
  private final Map<ProtocolErrorCode, Integer> refused = new EnumMap<>(ProtocolErrorCode.class);
  private int accepted;
  private int frames;

  /** Valid frames of every sample message, small enough to mutate quickly. */
  private static List<byte[]> validFrames() {
    ProtocolCodec c = new ProtocolCodec();
    ExpandableArrayBuffer b = new ExpandableArrayBuffer(256);
    List<byte[]> out = new ArrayList<>();
    for (Message m : Samples.all()) {
      int length = c.encode(m, b, 0);
      if (length > 20_000) continue;
      byte[] f = new byte[length];
      b.getBytes(0, f);
      out.add(f);
    }
    return out;
  }

  @Test
  void malformedFramesNeverEscapeAsOtherExceptions() {
    Random rnd = new Random(20240601);
    List<byte[]> valid = validFrames();
    for (int i = 0; i < FRAMES_PER_KIND; i++) {
      byte[] f = valid.get(rnd.nextInt(valid.size()));
      // truncated at every possible point (or one byte short of whole)
      check(java.util.Arrays.copyOf(f, rnd.nextInt(f.length)));
      // bit flips: 1 to 8 random bits anywhere
      byte[] flipped = f.clone();
      int flips = 1 + rnd.nextInt(8);
      for (int k = 0; k < flips; k++) flipped[rnd.nextInt(f.length)] ^= (byte) (1 << rnd.nextInt(8));
      check(flipped);
      // random bytes, half of them behind a valid header
      byte[] noise = new byte[rnd.nextInt(200)];
      rnd.nextBytes(noise);
      if (noise.length >= 8 && rnd.nextBoolean()) System.arraycopy(f, 0, noise, 0, 8);
      check(noise);
    }
    for (int i = 0; i < FRAMES_PER_KIND / 4; i++) {
      byte[] f = valid.get(rnd.nextInt(valid.size())).clone();
      UnsafeBuffer b = new UnsafeBuffer(f);
      MessageHeaderEncoder h = new MessageHeaderEncoder().wrap(b, 0);
      switch (i % 5) {
        case 0 -> h.templateId(rnd.nextInt(65536));
        case 1 -> h.schemaId(rnd.nextInt(65536));
        case 2 -> h.blockLength(rnd.nextInt(65536));
        case 3 -> h.version(rnd.nextInt(65536));
        default -> {
          // absurd var-length or group count: overwrite 2 or 4 bytes anywhere past the header with big values
          if (f.length > 12) {
            int at = 8 + rnd.nextInt(f.length - 11);
            if (rnd.nextBoolean()) b.putShort(at, (short) (0xFFFF - rnd.nextInt(16)), ByteOrder.LITTLE_ENDIAN);
            else b.putInt(at, Integer.MAX_VALUE - rnd.nextInt(16), ByteOrder.LITTLE_ENDIAN);
          }
        }
      }
      check(f);
    }
    assertTrue(frames >= 10_000, "only " + frames + " frames");
    // the mutations reach every check, not just the first one
    for (ProtocolErrorCode c : List.of(ProtocolErrorCode.TRUNCATED, ProtocolErrorCode.UNKNOWN_SCHEMA,
        ProtocolErrorCode.UNSUPPORTED_VERSION, ProtocolErrorCode.UNKNOWN_TEMPLATE, ProtocolErrorCode.BAD_LENGTH,
        ProtocolErrorCode.BAD_VALUE)) {
      assertTrue(refused.getOrDefault(c, 0) > 0, "no frame was refused with " + c + ": " + refused);
    }
    assertTrue(accepted > 0, "no mutated frame decoded at all");
  }

  private void check(byte[] frame) {
    frames++;
    // the frame sits inside a larger buffer, so reading past its end would not fault by itself
    byte[] padded = new byte[frame.length + 64];
    System.arraycopy(frame, 0, padded, 16, frame.length);
    UnsafeBuffer b = new UnsafeBuffer(padded);
    Message m;
    try {
      m = codec.decode(b, 16, frame.length);
    } catch (ProtocolException e) {
      refused.merge(e.code(), 1, Integer::sum);
      return;
    } catch (Throwable t) {
      fail("decode threw " + t + " for frame " + java.util.Arrays.toString(frame), t);
      return;
    }
    accepted++;
    ExpandableArrayBuffer out = new ExpandableArrayBuffer(frame.length + 64);
    try {
      int length = reencoder.encode(m, out, 0);
      assertEquals(m, reencoder.decode(out, 0, length));
    } catch (ProtocolException e) {
      fail("a decoded record did not round-trip: " + m, e);
    }
  }
}
