package io.scorestream.model.data;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An n x d data matrix loaded from a CSV or NPY file, normalised once at load time ({@code standard} by default,
 * or {@code none}); batches are rows drawn with replacement, deterministically per (seed, step).
 */
public final class FileData implements DataSource {

  private final String scheme;
  private final Path path;
  private final double[][] rows; // normalised
  private final Normalization normalization;

  private FileData(String scheme, Path path, double[][] raw, String normalization) {
    this.scheme = scheme;
    this.path = path;
    this.normalization = Normalization.of(Normalization.canonicalKind(normalization), raw);
    this.rows = this.normalization.apply(raw);
  }

  // ---------------------------------------------------------------- CSV

  /**
   * Loads a comma-separated file: an optional header line (recognised by any non-numeric field), blank lines
   * skipped, every row as wide as the first, every value a finite number. {@code normalization} is
   * {@code standard} (also for null/blank) or {@code none}. Problems throw {@link DataException}.
   */
  public static FileData csv(Path p, String normalization) {
    String kind = Normalization.canonicalKind(normalization);
    checkReadable(p);
    List<double[]> data = new ArrayList<>();
    int width = -1;
    int widthLine = 0;
    boolean widthFromHeader = false;
    boolean sawContent = false;
    try (BufferedReader in = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
      String line;
      int lineNo = 0;
      while ((line = in.readLine()) != null) {
        lineNo++;
        if (lineNo == 1 && line.startsWith("\uFEFF")) line = line.substring(1);
        if (line.isBlank()) continue;
        String[] fields = line.split(",", -1);
        if (!sawContent) {
          sawContent = true;
          if (isHeader(fields)) {
            width = fields.length;
            widthLine = lineNo;
            widthFromHeader = true;
            continue;
          }
        }
        if (width < 0) {
          width = fields.length;
          widthLine = lineNo;
        } else if (fields.length != width) {
          throw new DataException(p + " line " + lineNo + ": expected " + width + " columns ("
              + (widthFromHeader ? "from the header on line " : "as on line ") + widthLine + "), got " + fields.length);
        }
        double[] row = new double[width];
        for (int j = 0; j < width; j++) row[j] = parseField(p, lineNo, j + 1, fields[j]);
        data.add(row);
      }
    } catch (IOException e) {
      throw new DataException("cannot read " + p + ": " + e.getMessage(), e);
    }
    if (!sawContent) throw new DataException(p + ": empty file (no data rows)");
    if (data.isEmpty()) throw new DataException(p + ": no data rows (only a header)");
    return new FileData("csv", p, data.toArray(new double[0][]), kind);
  }

  private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
  private static final Pattern NAN = Pattern.compile("[+-]?nan", Pattern.CASE_INSENSITIVE);
  private static final Pattern INF = Pattern.compile("[+-]?inf(inity)?", Pattern.CASE_INSENSITIVE);

  private static String unquote(String field) {
    String f = field.trim();
    if (f.length() >= 2 && f.startsWith("\"") && f.endsWith("\"")) f = f.substring(1, f.length() - 1).trim();
    return f;
  }

  private static boolean isHeader(String[] fields) {
    for (String raw : fields) {
      String f = unquote(raw);
      if (!f.isEmpty() && !NUMBER.matcher(f).matches() && !NAN.matcher(f).matches() && !INF.matcher(f).matches()) {
        return true;
      }
    }
    return false;
  }

  private static double parseField(Path p, int lineNo, int column, String raw) {
    String f = unquote(raw);
    String where = p + " line " + lineNo + ": column " + column;
    if (f.isEmpty()) throw new DataException(where + " is empty");
    if (NAN.matcher(f).matches()) throw new DataException(where + " is NaN");
    if (INF.matcher(f).matches()) throw new DataException(where + " is " + (f.startsWith("-") ? "-Inf" : "Inf"));
    if (!NUMBER.matcher(f).matches()) throw new DataException(where + " is not a number: '" + f + "'");
    double v = Double.parseDouble(f);
    if (!Double.isFinite(v)) throw new DataException(where + " overflows to " + v + ": '" + f + "'");
    return v;
  }

  // ---------------------------------------------------------------- NPY

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("['\"]descr['\"]\\s*:\\s*['\"]([^'\"]*)['\"]");
  private static final Pattern FORTRAN = Pattern.compile("['\"]fortran_order['\"]\\s*:\\s*(\\w+)");
  private static final Pattern SHAPE = Pattern.compile("['\"]shape['\"]\\s*:\\s*\\(([^)]*)\\)");

  /**
   * Loads a NumPy .npy file (format 1.0 or 2.0, also 3.0): dtype {@code <f4, <f8, <i4} or {@code <i8}, C order,
   * shape (n, d) or (n,) read as d = 1, every value finite. Problems throw {@link DataException}.
   */
  public static FileData npy(Path p, String normalization) {
    String kind = Normalization.canonicalKind(normalization);
    return new FileData("npy", p, readNpy(p), kind);
  }

  /** The raw (un-normalised) n x d matrix of a .npy file, validated as in {@link #npy(Path, String)}. */
  public static double[][] readNpy(Path p) {
    checkReadable(p);
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
    int itemSize;
    switch (descr) {
      case "<f4":
      case "<i4":
        itemSize = 4;
        break;
      case "<f8":
      case "<i8":
        itemSize = 8;
        break;
      default:
        throw new DataException(p + ": unsupported dtype '" + descr + "' (expected <f4, <f8, <i4 or <i8)");
    }
    Matcher fm = FORTRAN.matcher(header);
    if (!fm.find()) throw new DataException(p + ": NPY header has no 'fortran_order': " + header.trim());
    if (!fm.group(1).equals("False")) {
      throw new DataException(p + ": fortran_order " + fm.group(1) + " is not supported (save in C order)");
    }
    Matcher sm = SHAPE.matcher(header);
    if (!sm.find()) throw new DataException(p + ": NPY header has no 'shape': " + header.trim());
    long[] shape = parseShape(p, sm.group(1));
    String shapeText = "(" + sm.group(1).trim() + ")";
    if (shape.length != 1 && shape.length != 2) {
      throw new DataException(p + ": expected a 1-D or 2-D array, got shape " + shapeText);
    }
    long n = shape[0];
    long d = shape.length == 2 ? shape[1] : 1;
    if (n == 0 || d == 0) throw new DataException(p + ": empty array of shape " + shapeText);
    long count;
    long need;
    try {
      count = Math.multiplyExact(n, d);
      need = Math.multiplyExact(count, (long) itemSize);
    } catch (ArithmeticException e) {
      throw new DataException(p + ": shape " + shapeText + " is too large");
    }
    if (n > Integer.MAX_VALUE - 8 || d > Integer.MAX_VALUE - 8) {
      throw new DataException(p + ": shape " + shapeText + " is too large");
    }
    long have = bytes.length - (long) dataStart;
    if (have < need) {
      throw new DataException(p + ": truncated data (shape " + shapeText + " " + descr + " needs " + need
          + " bytes, file has " + have + ")");
    }
    buf.position(dataStart);
    double[][] out = new double[(int) n][(int) d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        double v;
        switch (descr) {
          case "<f4":
            v = buf.getFloat();
            break;
          case "<f8":
            v = buf.getDouble();
            break;
          case "<i4":
            v = buf.getInt();
            break;
          default:
            v = buf.getLong();
            break;
        }
        if (!Double.isFinite(v)) {
          throw new DataException(p + ": element [" + i + ", " + j + "] is "
              + (Double.isNaN(v) ? "NaN" : v > 0 ? "Inf" : "-Inf") + " (row " + i + ", column " + j + ", 0-based)");
        }
        out[i][j] = v;
      }
    }
    return out;
  }

  private static long[] parseShape(Path p, String text) {
    String t = text.trim();
    if (t.isEmpty()) return new long[0];
    String[] parts = t.split(",");
    List<Long> dims = new ArrayList<>();
    for (String part : parts) {
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

  /**
   * Writes rows as a NumPy .npy file (format 1.0, {@code <f8}, C order, shape (n, d)); an existing file is
   * replaced. Rows must all have the same length. I/O failures throw {@link UncheckedIOException}.
   */
  public static void writeNpy(Path p, double[][] rows) {
    int n = rows.length;
    int d = n == 0 ? 0 : rows[0].length;
    for (int i = 0; i < n; i++) {
      if (rows[i].length != d) {
        throw new IllegalArgumentException("row " + i + " has " + rows[i].length + " columns, expected " + d);
      }
    }
    String dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + n + ", " + d + "), }";
    int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
    int pad = (64 - unpadded % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(p), 1 << 16)) {
      out.write(MAGIC);
      out.write(1);
      out.write(0);
      out.write(header.length() & 0xff);
      out.write((header.length() >>> 8) & 0xff);
      out.write(header.getBytes(StandardCharsets.ISO_8859_1));
      ByteBuffer row = ByteBuffer.allocate(8 * d).order(ByteOrder.LITTLE_ENDIAN);
      for (double[] r : rows) {
        row.clear();
        for (double v : r) row.putDouble(v);
        out.write(row.array(), 0, row.position());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + p + ": " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- common

  private static void checkReadable(Path p) {
    if (p == null) throw new DataException("no file given");
    if (!Files.exists(p)) throw new DataException("no such file: " + p);
    if (Files.isDirectory(p)) throw new DataException(p + ": is a directory, not a data file");
  }

  /** Number of rows. */
  public int size() {
    return rows.length;
  }

  /** The file the data came from. */
  public Path path() {
    return path;
  }

  @Override
  public int dim() {
    return rows[0].length;
  }

  @Override
  public String describe() {
    return scheme + ":" + path + " (n=" + rows.length + ", d=" + dim() + ")";
  }

  @Override
  public Normalization normalization() {
    return normalization;
  }

  @Override
  public double[][] batch(long seed, long step, int batchSize) {
    DataSource.checkBatchSize(batchSize);
    SplittableRandom rng = new SplittableRandom(DataSource.streamSeed(seed, step));
    double[][] out = new double[batchSize][];
    for (int i = 0; i < batchSize; i++) out[i] = rows[rng.nextInt(rows.length)].clone();
    return out;
  }

  @Override
  public double[][] all() {
    double[][] out = new double[rows.length][];
    for (int i = 0; i < rows.length; i++) out[i] = rows[i].clone();
    return out;
  }

  @Override
  public String toString() {
    return describe();
  }
}
