package io.scorestream.model.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * A set of n images of C x H x W pixels in [0, 1] (row-major, channel first) with an optional class label per
 * image, read from the formats image datasets ship in: IDX (MNIST's own), NPY arrays and folders of PNGs. Every
 * reader checks shapes, counts and label ranges and throws {@link DataException} naming the file and what was wrong.
 * Immutable (the arrays are not copied out; do not modify them).
 *
 * @param channels C
 * @param height   H
 * @param width    W
 * @param pixels   [n x C x H x W] in [0, 1]
 * @param labels   [n] class labels in [0, classes), or null for an unlabelled set
 * @param classes  the number of classes (0 when unlabelled)
 */
public record LabelledImages(int channels, int height, int width, float[] pixels, int[] labels, int classes) {

  public LabelledImages {
    if (channels < 1 || height < 1 || width < 1) {
      throw new DataException("an image needs C, H, W >= 1, got " + channels + " x " + height + " x " + width);
    }
    long per = (long) channels * height * width;
    if (pixels.length % per != 0) {
      throw new DataException(pixels.length + " pixel values are not a whole number of " + channels + " x " + height
          + " x " + width + " images");
    }
    if (labels != null && labels.length != pixels.length / per) {
      throw new DataException(labels.length + " labels for " + pixels.length / per + " images");
    }
  }

  /** The number of images. */
  public int size() {
    return pixels.length / (channels * height * width);
  }

  /** C x H x W. */
  public int imageSize() {
    return channels * height * width;
  }

  /** How many images carry each label, [classes]. */
  public int[] classCounts() {
    int[] c = new int[classes];
    if (labels != null) for (int y : labels) c[y]++;
    return c;
  }

  /** Image i as a fresh [C x H x W] array. */
  public float[] image(int i) {
    return Arrays.copyOfRange(pixels, i * imageSize(), (i + 1) * imageSize());
  }

  // ------------------------------------------------------------------------------------------------- IDX

  /**
   * MNIST's IDX files (LeCun et al.): images as {@code idx3-ubyte} (magic 0x00000803, n x H x W bytes), labels as
   * {@code idx1-ubyte} (magic 0x00000801, n bytes, 0..9), or null for none. Pixels are scaled by 1/255.
   */
  public static LabelledImages idx(Path images, Path labels) {
    ByteBuffer img = readAll(images);
    int magic = intAt(img, 0, images);
    if (magic != 0x00000803) {
      throw new DataException(images + ": not an IDX image file (magic 0x" + Integer.toHexString(magic)
          + ", expected 0x803: unsigned bytes, 3 dimensions)");
    }
    int n = intAt(img, 4, images);
    int h = intAt(img, 8, images);
    int w = intAt(img, 12, images);
    if (n < 1 || h < 1 || w < 1) throw new DataException(images + ": bad IDX dimensions " + n + " x " + h + " x " + w);
    long need = 16L + (long) n * h * w;
    if (img.capacity() < need) {
      throw new DataException(images + ": truncated (" + n + " images of " + h + " x " + w + " need " + need
          + " bytes, file has " + img.capacity() + ")");
    }
    float[] pixels = new float[n * h * w];
    for (int k = 0; k < pixels.length; k++) pixels[k] = (img.get(16 + k) & 0xff) / 255f;
    int[] y = null;
    int classes = 0;
    if (labels != null) {
      ByteBuffer lab = readAll(labels);
      int lm = intAt(lab, 0, labels);
      if (lm != 0x00000801) {
        throw new DataException(labels + ": not an IDX label file (magic 0x" + Integer.toHexString(lm)
            + ", expected 0x801: unsigned bytes, 1 dimension)");
      }
      int ln = intAt(lab, 4, labels);
      if (ln != n) throw new DataException(labels + ": " + ln + " labels for the " + n + " images of " + images);
      if (lab.capacity() < 8L + n) {
        throw new DataException(labels + ": truncated (" + n + " labels need " + (8 + n) + " bytes, file has "
            + lab.capacity() + ")");
      }
      y = new int[n];
      for (int i = 0; i < n; i++) y[i] = lab.get(8 + i) & 0xff;
      classes = checkLabels(y, labels);
    }
    return new LabelledImages(1, h, w, pixels, y, classes);
  }

  /** Writes images (C = 1, values rounded to bytes) and labels as IDX files, the inverse of {@link #idx}. */
  public static void writeIdx(LabelledImages set, Path images, Path labels) {
    if (set.channels() != 1) throw new DataException("IDX holds one channel, the set has " + set.channels());
    ByteBuffer img = ByteBuffer.allocate(16 + set.pixels().length).order(ByteOrder.BIG_ENDIAN);
    img.putInt(0x803).putInt(set.size()).putInt(set.height()).putInt(set.width());
    for (float v : set.pixels()) img.put((byte) Math.round(Math.max(0, Math.min(1, v)) * 255));
    write(images, img.array());
    if (labels != null && set.labels() != null) {
      ByteBuffer lab = ByteBuffer.allocate(8 + set.size()).order(ByteOrder.BIG_ENDIAN);
      lab.putInt(0x801).putInt(set.size());
      for (int y : set.labels()) lab.put((byte) y);
      write(labels, lab.array());
    }
  }

  // ------------------------------------------------------------------------------------------------- NPY

  /**
   * An NPY array of images, shape (n, H, W) or (n, C, H, W): {@code |u1} bytes are scaled by 1/255, floats must
   * already lie in [0, 1]. Labels (or null): an integer NPY array of shape (n,).
   */
  public static LabelledImages npy(Path images, Path labels) {
    Npy a = Npy.read(images);
    long[] s = a.shape();
    if (s.length != 3 && s.length != 4) {
      throw new DataException(images + ": expected images of shape (n, H, W) or (n, C, H, W), got " + a.shapeText());
    }
    int n = (int) s[0];
    int c = s.length == 4 ? (int) s[1] : 1;
    int h = (int) s[s.length - 2];
    int w = (int) s[s.length - 1];
    if (n < 1 || c < 1 || h < 1 || w < 1) throw new DataException(images + ": empty image array " + a.shapeText());
    boolean bytes = a.dtype().endsWith("u1");
    double[] v = a.values();
    float[] pixels = new float[v.length];
    for (int k = 0; k < v.length; k++) {
      double x = bytes ? v[k] / 255 : v[k];
      if (!(x >= 0 && x <= 1)) {
        throw new DataException(images + ": pixel " + k + " (image " + k / (c * h * w) + ") is " + v[k]
            + "; float images must lie in [0, 1] (or save bytes, |u1)");
      }
      pixels[k] = (float) x;
    }
    int[] y = null;
    int classes = 0;
    if (labels != null) {
      Npy l = Npy.read(labels);
      if (l.shape().length != 1 || l.shape()[0] != n) {
        throw new DataException(labels + ": expected " + n + " labels of shape (" + n + ",), got " + l.shapeText());
      }
      if (l.dtype().startsWith("<f")) throw new DataException(labels + ": labels must be integers, got " + l.dtype());
      y = new int[n];
      for (int i = 0; i < n; i++) {
        double x = l.values()[i];
        if (x < 0 || x > 1_000_000) throw new DataException(labels + ": label " + i + " is " + (long) x);
        y[i] = (int) x;
      }
      classes = checkLabels(y, labels);
    }
    return new LabelledImages(c, h, w, pixels, y, classes);
  }

  // ------------------------------------------------------------------------------------------------- PNG

  /**
   * A folder of PNGs, one subfolder per class named by its label ({@code root/0/*.png}, {@code root/1/*.png}, ...),
   * read in name order. Grey images give C = 1, colour C = 3 (alpha dropped); every image must have the first one's
   * size and channel count.
   */
  public static LabelledImages pngFolder(Path root) {
    if (!Files.isDirectory(root)) throw new DataException(root + ": no such folder");
    List<Path> classDirs;
    try (Stream<Path> s = Files.list(root)) {
      classDirs = s.filter(Files::isDirectory).sorted().toList();
    } catch (IOException e) {
      throw new DataException("cannot list " + root + ": " + e.getMessage(), e);
    }
    if (classDirs.isEmpty()) throw new DataException(root + ": no class folders (expected " + root + "/0/*.png, ...)");
    List<float[]> images = new ArrayList<>();
    List<Integer> y = new ArrayList<>();
    int c = 0;
    int h = 0;
    int w = 0;
    for (Path dir : classDirs) {
      int label;
      try {
        label = Integer.parseInt(dir.getFileName().toString());
      } catch (NumberFormatException e) {
        throw new DataException(dir + ": a class folder must be named by its label (0, 1, ...)");
      }
      List<Path> files;
      try (Stream<Path> s = Files.list(dir)) {
        files = s.filter(f -> f.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png"))
            .sorted().toList();
      } catch (IOException e) {
        throw new DataException("cannot list " + dir + ": " + e.getMessage(), e);
      }
      for (Path f : files) {
        BufferedImage im;
        try {
          im = ImageIO.read(f.toFile());
        } catch (IOException e) {
          throw new DataException(f + ": not a readable PNG: " + e.getMessage(), e);
        }
        if (im == null) throw new DataException(f + ": not a readable PNG");
        int ch = im.getColorModel().getNumColorComponents() == 1 ? 1 : 3;
        if (images.isEmpty()) {
          c = ch;
          h = im.getHeight();
          w = im.getWidth();
        } else if (ch != c || im.getHeight() != h || im.getWidth() != w) {
          throw new DataException(f + ": " + ch + " x " + im.getHeight() + " x " + im.getWidth() + ", but the first "
              + "image is " + c + " x " + h + " x " + w);
        }
        images.add(pixelsOf(im, c));
        y.add(label);
      }
    }
    if (images.isEmpty()) throw new DataException(root + ": no .png files in its class folders");
    int per = c * h * w;
    float[] pixels = new float[images.size() * per];
    for (int i = 0; i < images.size(); i++) System.arraycopy(images.get(i), 0, pixels, i * per, per);
    int[] labels = y.stream().mapToInt(Integer::intValue).toArray();
    return new LabelledImages(c, h, w, pixels, labels, checkLabels(labels, root));
  }

  private static float[] pixelsOf(BufferedImage im, int c) {
    int h = im.getHeight();
    int w = im.getWidth();
    float[] out = new float[c * h * w];
    var raster = im.getRaster();
    int bands = raster.getNumBands();
    int bits = im.getColorModel().getComponentSize(0);
    float scale = 1f / ((1 << bits) - 1);
    for (int r = 0; r < h; r++) {
      for (int q = 0; q < w; q++) {
        for (int k = 0; k < c; k++) out[(k * h + r) * w + q] = raster.getSample(q, r, Math.min(k, bands - 1)) * scale;
      }
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------------- common

  /** The number of classes, max label + 1, after checking every label is >= 0. */
  private static int checkLabels(int[] y, Path source) {
    int max = -1;
    for (int i = 0; i < y.length; i++) {
      if (y[i] < 0) throw new DataException(source + ": label " + i + " is negative (" + y[i] + ")");
      max = Math.max(max, y[i]);
    }
    return max + 1;
  }

  private static ByteBuffer readAll(Path p) {
    if (p == null) throw new DataException("no file given");
    if (!Files.isRegularFile(p)) throw new DataException(p + ": no such file");
    try {
      return ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.BIG_ENDIAN);
    } catch (IOException e) {
      throw new DataException("cannot read " + p + ": " + e.getMessage(), e);
    }
  }

  private static int intAt(ByteBuffer b, int at, Path p) {
    if (b.capacity() < at + 4) throw new DataException(p + ": truncated IDX header (" + b.capacity() + " bytes)");
    return b.getInt(at);
  }

  private static void write(Path p, byte[] bytes) {
    try {
      Files.write(p, bytes);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot write " + p + ": " + e.getMessage(), e);
    }
  }
}
