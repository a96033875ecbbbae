package io.scorestream.model.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image readers: IDX, NPY and PNG folders give the same images and labels back, and refuse bad files by name. */
class LabelledImagesTest {

  /** Five 1 x 4 x 3 images of byte values with labels 0..2. */
  private static LabelledImages sample() {
    SplittableRandom rng = new SplittableRandom(5);
    float[] px = new float[5 * 12];
    for (int k = 0; k < px.length; k++) px[k] = rng.nextInt(256) / 255f;
    return new LabelledImages(1, 4, 3, px, new int[] {0, 2, 1, 2, 0}, 3);
  }

  @Test
  void idxRoundTripsImagesAndLabels(@TempDir Path dir) {
    LabelledImages s = sample();
    Path img = dir.resolve("i-idx3-ubyte");
    Path lab = dir.resolve("l-idx1-ubyte");
    LabelledImages.writeIdx(s, img, lab);
    LabelledImages r = LabelledImages.idx(img, lab);
    assertEquals(5, r.size());
    assertEquals(4, r.height());
    assertEquals(3, r.width());
    assertArrayEquals(s.pixels(), r.pixels(), 1e-7f);
    assertArrayEquals(s.labels(), r.labels());
    assertArrayEquals(new int[] {2, 1, 2}, r.classCounts());
    assertEquals(null, LabelledImages.idx(img, null).labels());
  }

  @Test
  void badIdxFilesAreRefusedNamingTheProblem(@TempDir Path dir) throws IOException {
    LabelledImages s = sample();
    Path img = dir.resolve("i");
    Path lab = dir.resolve("l");
    LabelledImages.writeIdx(s, img, lab);
    assertTrue(refused(() -> LabelledImages.idx(lab, null)).contains("not an IDX image file"));
    assertTrue(refused(() -> LabelledImages.idx(img, img)).contains("not an IDX label file"));
    byte[] bytes = Files.readAllBytes(img);
    Path cut = dir.resolve("cut");
    Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 7));
    assertTrue(refused(() -> LabelledImages.idx(cut, null)).contains("truncated"));
    Path other = dir.resolve("other");
    LabelledImages three = new LabelledImages(1, 4, 3, java.util.Arrays.copyOf(s.pixels(), 36), new int[] {0, 1, 2}, 3);
    LabelledImages.writeIdx(three, dir.resolve("x"), other);
    assertTrue(refused(() -> LabelledImages.idx(img, other)).contains("3 labels for the 5 images"));
    assertTrue(refused(() -> LabelledImages.idx(dir.resolve("missing"), null)).contains("no such file"));
  }

  @Test
  void npyBytesAndFloatsWithAndWithoutChannelsGiveTheSameImages(@TempDir Path dir) throws IOException {
    LabelledImages s = sample();
    byte[] asBytes = new byte[s.pixels().length];
    for (int k = 0; k < asBytes.length; k++) asBytes[k] = (byte) Math.round(s.pixels()[k] * 255);
    Path u1 = dir.resolve("u1.npy");
    writeNpy(u1, "|u1", "(5, 4, 3)", asBytes);
    ByteBuffer f4 = ByteBuffer.allocate(4 * s.pixels().length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : s.pixels()) f4.putFloat(v);
    Path floats = dir.resolve("f4.npy");
    writeNpy(floats, "<f4", "(5, 1, 4, 3)", f4.array());
    ByteBuffer y = ByteBuffer.allocate(8 * 5).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : s.labels()) y.putLong(v);
    Path labels = dir.resolve("y.npy");
    writeNpy(labels, "<i8", "(5,)", y.array());
    for (Path p : new Path[] {u1, floats}) {
      LabelledImages r = LabelledImages.npy(p, labels);
      assertEquals(1, r.channels(), p.toString());
      assertEquals(4, r.height());
      assertEquals(3, r.width());
      assertArrayEquals(s.pixels(), r.pixels(), 1e-7f, p.toString());
      assertArrayEquals(s.labels(), r.labels());
    }
    // The same arrays as a training data spec: images in [-1, 1] with their labels, the shape kept.
    DataSource spec = DataSpecs.parse("npy-images:" + u1 + "," + labels, "standard");
    assertArrayEquals(new long[] {1, 4, 3}, spec.shape());
    assertEquals(3, spec.classes());
    Path flat = dir.resolve("flat.npy");
    writeNpy(flat, "|u1", "(5, 12)", asBytes);
    assertTrue(refused(() -> LabelledImages.npy(flat, null)).contains("(n, H, W) or (n, C, H, W)"));
    ByteBuffer big = ByteBuffer.allocate(4 * 12).order(ByteOrder.LITTLE_ENDIAN);
    for (int k = 0; k < 12; k++) big.putFloat(k == 7 ? 3f : 0.5f);
    Path outOfRange = dir.resolve("range.npy");
    writeNpy(outOfRange, "<f4", "(1, 4, 3)", big.array());
    assertTrue(refused(() -> LabelledImages.npy(outOfRange, null)).contains("[0, 1]"));
    assertTrue(refused(() -> LabelledImages.npy(u1, u1)).contains("expected 5 labels"));
  }

  @Test
  void aPngFolderPerClassReadsGreyAndRefusesMixedSizes(@TempDir Path dir) throws IOException {
    LabelledImages s = sample();
    for (int i = 0; i < s.size(); i++) {
      BufferedImage im = new BufferedImage(3, 4, BufferedImage.TYPE_BYTE_GRAY);
      for (int r = 0; r < 4; r++) {
        for (int q = 0; q < 3; q++) im.getRaster().setSample(q, r, 0, Math.round(s.pixels()[i * 12 + r * 3 + q] * 255));
      }
      Path classDir = Files.createDirectories(dir.resolve(String.valueOf(s.labels()[i])));
      ImageIO.write(im, "png", classDir.resolve(String.format("img%02d.png", i)).toFile());
    }
    LabelledImages r = LabelledImages.pngFolder(dir);
    assertEquals(5, r.size());
    assertEquals(1, r.channels());
    assertArrayEquals(new int[] {2, 1, 2}, r.classCounts());
    // Read in folder order: class 0 (images 0, 4), class 1 (image 2), class 2 (images 1, 3).
    int[] order = {0, 4, 2, 1, 3};
    for (int k = 0; k < 5; k++) assertArrayEquals(s.image(order[k]), r.image(k), 1e-7f, "image " + k);
    ImageIO.write(new BufferedImage(5, 5, BufferedImage.TYPE_BYTE_GRAY), "png", dir.resolve("1").resolve("odd.png").toFile());
    assertTrue(refused(() -> LabelledImages.pngFolder(dir)).contains("but the first image is 1 x 4 x 3"));
    Files.delete(dir.resolve("1").resolve("odd.png"));
    Files.createDirectories(dir.resolve("cats"));
    assertTrue(refused(() -> LabelledImages.pngFolder(dir)).contains("named by its label"));
  }

  private static String refused(Runnable r) {
    return assertThrows(DataException.class, r::run).getMessage();
  }

  private static void writeNpy(Path p, String descr, String shape, byte[] data) throws IOException {
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int unpadded = 10 + dict.length() + 1;
    String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
    ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
    b.put(header.getBytes(StandardCharsets.ISO_8859_1)).put(data);
    Files.write(p, b.array());
  }
}
