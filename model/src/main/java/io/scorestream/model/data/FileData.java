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
    Npy a = Npy.read(p);
    if (a.dtype().endsWith("u1")) {
      throw new DataException(p + ": unsupported dtype '" + a.dtype() + "' (expected <f4, <f8, <i4 or <i8)");
    }
    long[] shape = a.shape();
    if (shape.length != 1 && shape.length != 2) {
      throw new DataException(p + ": expected a 1-D or 2-D array, got shape " + a.shapeText());
    }
    long n = shape[0];
    long d = shape.length == 2 ? shape[1] : 1;
    if (n == 0 || d == 0) throw new DataException(p + ": empty array of shape " + a.shapeText());
    double[][] out = new double[(int) n][(int) d];
    double[] v = a.values();
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        double x = v[(int) (i * d + j)];
        if (!Double.isFinite(x)) {
          throw new DataException(p + ": element [" + i + ", " + j + "] is "
              + (Double.isNaN(x) ? "NaN" : x > 0 ? "Inf" : "-Inf") + " (row " + i + ", column " + j + ", 0-based)");
        }
        out[i][j] = x;
      }
    }
    return out;
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
