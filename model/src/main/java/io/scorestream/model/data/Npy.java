package io.scorestream.model.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A NumPy .npy file read whole (format 1.0, 2.0 or 3.0; C order; little-endian {@code <f4, <f8, <i4, <i8} or
 * unsigned bytes {@code |u1}): its dtype, shape and values in C order as doubles. Every problem (bad magic, a header
 * without descr, shape or fortran_order, an unsupported dtype, Fortran order, truncated data, a shape too large) is
 * a {@link DataException} that names the file. Shape checks beyond that are the caller's.
 *
 * @param dtype  the header's descr
 * @param shape  the array's dimensions
 * @param values the elements in C order
 */
public record Npy(String dtype, long[] shape, double[] values) {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("['\"]descr['\"]\\s*:\\s*['\"]([^'\"]*)['\"]");
  private static final Pattern FORTRAN = Pattern.compile("['\"]fortran_order['\"]\\s*:\\s*(\\w+)");
  private static final Pattern SHAPE = Pattern.compile("['\"]shape['\"]\\s*:\\s*\\(([^)]*)\\)");

  /** The shape as NumPy prints it, e.g. {@code (10, 28, 28)}. */
  public String shapeText() {
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) sb.append(i == 0 ? "" : ", ").append(shape[i]);
    return sb.append(shape.length == 1 ? ",)" : ")").toString();
  }

  /** Reads p. */
  public static Npy read(Path p) {
    if (p == null) throw new DataException("no file given");
    if (!Files.isRegularFile(p)) throw new DataException(p + ": no such file");
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(p);
    } catch (IOException e) {
      throw new DataException("cannot read " + p + ": " + e.getMessage(), e);
    } catch (OutOfMemoryError e) {
      throw new DataException(p + ": file too large to load", e);
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (i >= bytes.length || bytes[i] != MAGIC[i]) throw new DataException(p + ": not an NPY file (bad magic)");
    }
    if (bytes.length < 8) throw new DataException(p + ": truncated NPY header");
    int major = bytes[6] & 0xff;
    int minor = bytes[7] & 0xff;
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long headerLen;
    int headerStart;
    if (major == 1) {
      if (bytes.length < 10) throw new DataException(p + ": truncated NPY header");
      headerLen = buf.getShort(8) & 0xffffL;
      headerStart = 10;
    } else if (major == 2 || major == 3) {
      if (bytes.length < 12) throw new DataException(p + ": truncated NPY header");
      headerLen = buf.getInt(8) & 0xffffffffL;
      headerStart = 12;
    } else {
      throw new DataException(p + ": unsupported NPY format version " + major + "." + minor + " (expected 1.0 or 2.0)");
    }
    if (headerStart + headerLen > bytes.length) {
      throw new DataException(p + ": truncated NPY header (declares " + headerLen + " bytes, file has "
          + (bytes.length - headerStart) + ")");
    }
    String header = new String(bytes, headerStart, (int) headerLen,
        major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    int dataStart = headerStart + (int) headerLen;

    Matcher dm = DESCR.matcher(header);
    if (!dm.find()) throw new DataException(p + ": NPY header has no 'descr': " + header.trim());
    String descr = dm.group(1);
    int itemSize = switch (descr) {
      case "|u1", "<u1" -> 1;
      case "<f4", "<i4" -> 4;
      case "<f8", "<i8" -> 8;
      default -> throw new DataException(p + ": unsupported dtype '" + descr
          + "' (expected <f4, <f8, <i4, <i8 or |u1)");
    };
    Matcher fm = FORTRAN.matcher(header);
    if (!fm.find()) throw new DataException(p + ": NPY header has no 'fortran_order': " + header.trim());
    if (!fm.group(1).equals("False")) {
      throw new DataException(p + ": fortran_order " + fm.group(1) + " is not supported (save in C order)");
    }
    Matcher sm = SHAPE.matcher(header);
    if (!sm.find()) throw new DataException(p + ": NPY header has no 'shape': " + header.trim());
    long[] shape = parseShape(p, sm.group(1));
    String shapeText = "(" + sm.group(1).trim() + ")";
    long count = 1;
    long need;
    try {
      for (long d : shape) count = Math.multiplyExact(count, d);
      need = Math.multiplyExact(count, (long) itemSize);
    } catch (ArithmeticException e) {
      throw new DataException(p + ": shape " + shapeText + " is too large");
    }
    if (count > Integer.MAX_VALUE - 8) throw new DataException(p + ": shape " + shapeText + " is too large");
    long have = bytes.length - (long) dataStart;
    if (have < need) {
      throw new DataException(p + ": truncated data (shape " + shapeText + " " + descr + " needs " + need
          + " bytes, file has " + have + ")");
    }
    buf.position(dataStart);
    double[] values = new double[(int) count];
    for (int i = 0; i < values.length; i++) {
      values[i] = switch (descr) {
        case "|u1", "<u1" -> buf.get() & 0xff;
        case "<f4" -> buf.getFloat();
        case "<f8" -> buf.getDouble();
        case "<i4" -> buf.getInt();
        default -> buf.getLong();
      };
    }
    return new Npy(descr, shape, values);
  }

  private static long[] parseShape(Path p, String text) {
    String t = text.trim();
    if (t.isEmpty()) return new long[0];
    List<Long> dims = new ArrayList<>();
    for (String part : t.split(",")) {
      String s = part.trim();
      if (s.isEmpty()) continue; // trailing comma of a 1-tuple
      if (s.endsWith("L") || s.endsWith("l")) s = s.substring(0, s.length() - 1);
      try {
        long v = Long.parseLong(s);
        if (v < 0) throw new NumberFormatException();
        dims.add(v);
      } catch (NumberFormatException e) {
        throw new DataException(p + ": bad shape (" + t + ") in NPY header");
      }
    }
    return dims.stream().mapToLong(Long::longValue).toArray();
  }
}
