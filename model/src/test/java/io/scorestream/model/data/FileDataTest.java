package io.scorestream.model.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileDataTest {

  @TempDir Path dir;

  private static final double[][] ROWS = {{1.5, -2}, {3, 4.25}, {-0.5, 1e-3}, {2e2, 7}};

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text, StandardCharsets.UTF_8);
    return p;
  }

  private static void assertSameRows(double[][] expected, double[][] actual, double tol) {
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < expected.length; i++) assertArrayEquals(expected[i], actual[i], tol, "row " + i);
  }

  // ------------------------------------------------------------------ CSV

  @Test
  void csvRoundTripWithHeader() throws IOException {
    Path p = write("h.csv", "x, y\n1.5,-2\n\n3,4.25\n-0.5,1e-3\r\n200,7\n\n");
    FileData data = FileData.csv(p, "none");
    assertEquals(4, data.size());
    assertEquals(2, data.dim());
    assertEquals("none", data.normalization().kind());
    assertSameRows(ROWS, data.all(), 0);
    assertEquals("csv:" + p + " (n=4, d=2)", data.describe());
  }

  @Test
  void csvRoundTripWithoutHeaderAndStandardised() throws IOException {
    Path p = write("n.csv", "1.5,-2\n3,4.25\n-0.5,0.001\n200,7\n");
    FileData data = FileData.csv(p, null);
    assertEquals("standard", data.normalization().kind());
    assertEquals(4, data.size());
    assertSameRows(ROWS, data.normalization().invert(data.all()), 1e-12);
    double[][] z = data.all();
    for (int j = 0; j < 2; j++) {
      double m = 0;
      for (double[] r : z) m += r[j] / z.length;
      assertEquals(0.0, m, 1e-12);
    }
  }

  @Test
  void csvNaNNamesLineAndColumn() throws IOException {
    Path p = write("nan.csv", "a,b,c\n1,2,3\n4,NaN,6\n");
    DataException e = assertThrows(DataException.class, () -> FileData.csv(p, "standard"));
    assertEquals(p + " line 3: column 2 is NaN", e.getMessage());
    Path q = write("inf.csv", "1,2\n\n3,-inf\n");
    assertEquals(q + " line 3: column 2 is -Inf",
        assertThrows(DataException.class, () -> FileData.csv(q, "none")).getMessage());
    Path r = write("bad.csv", "1,2\n3,4x\n");
    String msg = assertThrows(DataException.class, () -> FileData.csv(r, "none")).getMessage();
    assertTrue(msg.startsWith(r + " line 2: column 2 is not a number"), msg);
    Path s = write("empty-field.csv", "1,2\n3,\n");
    assertEquals(s + " line 2: column 2 is empty",
        assertThrows(DataException.class, () -> FileData.csv(s, "none")).getMessage());
    Path big = write("overflow.csv", "1,2\n1e400,4\n");
    msg = assertThrows(DataException.class, () -> FileData.csv(big, "none")).getMessage();
    assertTrue(msg.startsWith(big + " line 2: column 1 overflows"), msg);
  }

  @Test
  void csvWrongWidthNamesTheLines() throws IOException {
    Path p = write("w.csv", "1,2\n3,4\n\n5,6,7\n");
    DataException e = assertThrows(DataException.class, () -> FileData.csv(p, "standard"));
    assertEquals(p + " line 4: expected 2 columns (as on line 1), got 3", e.getMessage());
    Path h = write("wh.csv", "x,y,z\n1,2\n");
    assertEquals(h + " line 2: expected 3 columns (from the header on line 1), got 2",
        assertThrows(DataException.class, () -> FileData.csv(h, "none")).getMessage());
  }

  @Test
  void csvEmptyMissingAndHeaderOnly() throws IOException {
    Path empty = write("e.csv", "\n  \n");
    assertEquals(empty + ": empty file (no data rows)",
        assertThrows(DataException.class, () -> FileData.csv(empty, "none")).getMessage());
    Path header = write("ho.csv", "x,y\n");
    assertTrue(assertThrows(DataException.class, () -> FileData.csv(header, "none")).getMessage()
        .contains("no data rows"));
    Path missing = dir.resolve("x.csv");
    assertEquals("no such file: " + missing,
        assertThrows(DataException.class, () -> FileData.csv(missing, "none")).getMessage());
    Path ok = write("ok.csv", "1\n2\n");
    assertThrows(DataException.class, () -> FileData.csv(ok, "minmax"));
  }

  // ------------------------------------------------------------------ NPY

  @Test
  void npyRoundTripF8() {
    Path p = dir.resolve("rows.npy");
    FileData.writeNpy(p, ROWS);
    assertSameRows(ROWS, FileData.readNpy(p), 0);
    FileData data = FileData.npy(p, "none");
    assertEquals("npy:" + p + " (n=4, d=2)", data.describe());
    assertSameRows(ROWS, data.all(), 0);
    FileData std = FileData.npy(p, "standard");
    assertSameRows(ROWS, std.normalization().invert(std.all()), 1e-12);
  }

  @Test
  void npyHeaderIsAlignedAndNumpyShaped() throws IOException {
    Path p = dir.resolve("a.npy");
    FileData.writeNpy(p, ROWS);
    byte[] b = Files.readAllBytes(p);
    int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
    assertEquals(0, (10 + headerLen) % 64);
    assertEquals(10 + headerLen + 8 * 8, b.length);
    String header = new String(b, 10, headerLen, StandardCharsets.ISO_8859_1);
    assertTrue(header.startsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), }"), header);
    assertTrue(header.endsWith("\n"));
  }

  /** A version-1.0 NPY file written by hand, the way numpy.save lays it out. */
  private static byte[] npy(String descr, String shape, boolean fortran, int major, byte[] payload) {
    String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': "
        + shape + ", }";
    int pre = major == 1 ? 10 : 12;
    int total = pre + dict.length() + 1;
    String header = dict + " ".repeat((64 - total % 64) % 64) + "\n";
    ByteBuffer buf = ByteBuffer.allocate(pre + header.length() + payload.length).order(ByteOrder.LITTLE_ENDIAN);
    buf.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    if (major == 1) buf.putShort((short) header.length());
    else buf.putInt(header.length());
    buf.put(header.getBytes(StandardCharsets.ISO_8859_1));
    buf.put(payload);
    return buf.array();
  }

  private static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) b.putFloat(f);
    return b.array();
  }

  @Test
  void npyHandBuiltF4() throws IOException {
    Path p = dir.resolve("f4.npy");
    Files.write(p, npy("<f4", "(3, 2)", false, 1, floats(0.5f, -1.25f, 2f, 3f, 1e-3f, -7f)));
    double[][] got = FileData.npy(p, "none").all();
    assertSameRows(new double[][] {{0.5, -1.25}, {2, 3}, {(double) 1e-3f, -7}}, got, 0);
  }

  @Test
  void npyVersion2IntegersAndOneDimensional() throws IOException {
    ByteBuffer ints = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(5).putLong(-9);
    Path p = dir.resolve("i8.npy");
    Files.write(p, npy("<i8", "(2,)", false, 2, ints.array()));
    FileData data = FileData.npy(p, "none");
    assertEquals(1, data.dim());
    assertSameRows(new double[][] {{5}, {-9}}, data.all(), 0);
    ByteBuffer i4 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(3).putInt(-4);
    Path q = dir.resolve("i4.npy");
    Files.write(q, npy("<i4", "(1, 2)", false, 1, i4.array()));
    assertSameRows(new double[][] {{3, -4}}, FileData.readNpy(q), 0);
  }

  @Test
  void npyBadMagic() throws IOException {
    Path p = write("x.npy", "1,2\n3,4\n");
    assertEquals(p + ": not an NPY file (bad magic)",
        assertThrows(DataException.class, () -> FileData.npy(p, "none")).getMessage());
    Path tiny = dir.resolve("tiny.npy");
    Files.write(tiny, new byte[] {(byte) 0x93, 'N'});
    assertEquals(tiny + ": not an NPY file (bad magic)",
        assertThrows(DataException.class, () -> FileData.npy(tiny, "none")).getMessage());
  }

  @Test
  void npyTruncated() throws IOException {
    Path full = dir.resolve("full.npy");
    FileData.writeNpy(full, ROWS);
    byte[] b = Files.readAllBytes(full);
    Path p = dir.resolve("cut.npy");
    Files.write(p, Arrays.copyOf(b, b.length - 3));
    String msg = assertThrows(DataException.class, () -> FileData.npy(p, "none")).getMessage();
    assertTrue(msg.startsWith(p + ": truncated data"), msg);
    Path h = dir.resolve("cut-header.npy");
    Files.write(h, Arrays.copyOf(b, 30));
    msg = assertThrows(DataException.class, () -> FileData.npy(h, "none")).getMessage();
    assertTrue(msg.startsWith(h + ": truncated NPY header"), msg);
  }

  @Test
  void npyRejectsUnsupportedLayouts() throws IOException {
    Path dt = dir.resolve("f2.npy");
    Files.write(dt, npy("<f2", "(2,)", false, 1, new byte[4]));
    String msg = assertThrows(DataException.class, () -> FileData.npy(dt, "none")).getMessage();
    assertTrue(msg.contains("unsupported dtype '<f2'"), msg);
    Path be = dir.resolve("be.npy");
    Files.write(be, npy(">f8", "(1,)", false, 1, new byte[8]));
    assertTrue(assertThrows(DataException.class, () -> FileData.npy(be, "none")).getMessage()
        .contains("unsupported dtype '>f8'"));
    Path f = dir.resolve("fortran.npy");
    Files.write(f, npy("<f4", "(1, 2)", true, 1, floats(1, 2)));
    assertTrue(assertThrows(DataException.class, () -> FileData.npy(f, "none")).getMessage().contains("fortran"));
    Path three = dir.resolve("3d.npy");
    Files.write(three, npy("<f4", "(1, 1, 2)", false, 1, floats(1, 2)));
    assertTrue(assertThrows(DataException.class, () -> FileData.npy(three, "none")).getMessage()
        .contains("1-D or 2-D"));
  }

  @Test
  void npyNaNNamesRowAndColumn() throws IOException {
    Path p = dir.resolve("nan.npy");
    Files.write(p, npy("<f4", "(2, 2)", false, 1, floats(1, 2, 3, Float.NaN)));
    String msg = assertThrows(DataException.class, () -> FileData.npy(p, "none")).getMessage();
    assertTrue(msg.startsWith(p + ": element [1, 1] is NaN"), msg);
    Path q = dir.resolve("inf.npy");
    FileData.writeNpy(q, new double[][] {{Double.NEGATIVE_INFINITY, 0}});
    msg = assertThrows(DataException.class, () -> FileData.npy(q, "none")).getMessage();
    assertTrue(msg.startsWith(q + ": element [0, 0] is -Inf"), msg);
  }

  // ------------------------------------------------------------------ batches

  @Test
  void fileBatchesAreDeterministicDrawsWithReplacement() {
    double[][] rows = new double[50][];
    for (int i = 0; i < rows.length; i++) rows[i] = new double[] {i, -i};
    Path p = dir.resolve("b.npy");
    FileData.writeNpy(p, rows);
    FileData data = FileData.npy(p, "none");
    double[][] a = data.batch(1, 5, 200);
    assertTrue(Arrays.deepEquals(a, FileData.npy(p, "none").batch(1, 5, 200)));
    assertFalse(Arrays.deepEquals(a, data.batch(1, 6, 200)));
    Set<Double> seen = new HashSet<>();
    for (double[] r : a) {
      assertEquals(0.0, r[0] + r[1], 0.0);
      assertTrue(r[0] >= 0 && r[0] < 50 && r[0] == Math.rint(r[0]));
      seen.add(r[0]);
    }
    assertEquals(50, seen.size(), "200 draws from 50 rows reach all of them at this seed");
    Set<Double> few = new HashSet<>();
    for (double[] r : data.batch(1, 9, 40)) few.add(r[0]);
    assertTrue(few.size() < 40, "40 draws with replacement from 50 rows repeat some: " + few.size());
    a[0][0] = 1e9;
    assertFalse(Arrays.deepEquals(a, data.batch(1, 5, 200)), "batches are copies");
  }
}
