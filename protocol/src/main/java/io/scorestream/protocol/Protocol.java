package io.scorestream.protocol;

import java.nio.charset.StandardCharsets;

/** Constants of the wire protocol shared by the gateway and its clients. */
public final class Protocol {
  /** The SBE schema id of src/main/resources/sbe/scorestream.xml. */
  public static final int SCHEMA_ID = io.scorestream.protocol.sbe.MessageHeaderDecoder.SCHEMA_ID;
  /** The schema version this codec writes; it reads this version and newer ones (fields appended). */
  public static final int SCHEMA_VERSION = io.scorestream.protocol.sbe.MessageHeaderDecoder.SCHEMA_VERSION;
  /** Bytes of the SBE message header that precedes every message. */
  public static final int HEADER_LENGTH = io.scorestream.protocol.sbe.MessageHeaderDecoder.ENCODED_LENGTH;
  /** Longest text field in UTF-8 bytes (channels, secrets, names, messages). */
  public static final int MAX_STRING_BYTES = 4096;
  /** The stream id of the gateway's ingress unless configured otherwise. */
  public static final int DEFAULT_INGRESS_STREAM_ID = 7001;
  /** The gateway's default UDP ingress endpoint. */
  public static final String DEFAULT_UDP_INGRESS = "aeron:udp?endpoint=127.0.0.1:40123";
  /** Most dimensions a {@link PreviewEncoding#QUANTIZED_8} preview carries (an SBE group holds 65,534 entries). */
  public static final int MAX_QUANTIZED_DIM = 65_534;

  private Protocol() {}

  /** s, or an IllegalArgumentException when it is null or longer than {@link #MAX_STRING_BYTES}. */
  static String text(String s, String what) {
    if (s == null) throw new IllegalArgumentException(what + " must not be null");
    if (s.length() > MAX_STRING_BYTES / 3 && s.getBytes(StandardCharsets.UTF_8).length > MAX_STRING_BYTES) {
      throw new IllegalArgumentException(what + " is longer than " + MAX_STRING_BYTES + " UTF-8 bytes");
    }
    return s;
  }

  /** s cut to at most {@link #MAX_STRING_BYTES} UTF-8 bytes (on a character boundary); null becomes "". */
  public static String truncate(String s) {
    if (s == null) return "";
    if (s.length() <= MAX_STRING_BYTES / 3) return s;
    int bytes = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      int n = c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isHighSurrogate(c) ? 4 : 3;
      if (bytes + n > MAX_STRING_BYTES) return s.substring(0, i);
      bytes += n;
      if (n == 4) i++;
    }
    return s;
  }
}
