package io.scorestream.app;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Writes samples that are images as one PNG grid: each image (C x H x W, values in [0, 1] after the data's
 * normalisation is inverted) clipped, scaled to 8 bits and enlarged zoom times, with a one-pixel grey gutter;
 * one channel as grey, three as RGB.
 */
final class ImageGrid {
  private ImageGrid() {}

  /** Writes images (rows of C*H*W values in [0, 1]) in a grid of cols columns. */
  static void write(Path png, double[][] images, long[] shape, int cols, int zoom) {
    if (shape.length != 3 || (shape[0] != 1 && shape[0] != 3)) {
      throw new IllegalArgumentException("an image grid needs samples of shape [1 or 3, H, W], got "
          + java.util.Arrays.toString(shape));
    }
    int c = (int) shape[0];
    int h = (int) shape[1];
    int w = (int) shape[2];
    int n = images.length;
    int columns = Math.max(1, Math.min(cols, n));
    int rows = (n + columns - 1) / columns;
    int gutter = 1;
    int cellW = w * zoom + gutter;
    int cellH = h * zoom + gutter;
    BufferedImage img = new BufferedImage(columns * cellW + gutter, rows * cellH + gutter, BufferedImage.TYPE_INT_RGB);
    int grey = 0x808080;
    for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) img.setRGB(x, y, grey);
    for (int k = 0; k < n; k++) {
      int ox = gutter + (k % columns) * cellW;
      int oy = gutter + (k / columns) * cellH;
      double[] v = images[k];
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int rgb;
          if (c == 1) {
            int g = byteOf(v[y * w + x]);
            rgb = (g << 16) | (g << 8) | g;
          } else {
            rgb = (byteOf(v[y * w + x]) << 16) | (byteOf(v[h * w + y * w + x]) << 8) | byteOf(v[2 * h * w + y * w + x]);
          }
          for (int dy = 0; dy < zoom; dy++) for (int dx = 0; dx < zoom; dx++) img.setRGB(ox + x * zoom + dx, oy + y * zoom + dy, rgb);
        }
      }
    }
    try {
      if (png.getParent() != null) Files.createDirectories(png.getParent());
      ImageIO.write(img, "png", png.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + png + ": " + e.getMessage(), e);
    }
  }

  /** A value in [0, 1] as 0..255, clipped. */
  static int byteOf(double v) {
    return (int) Math.round(Math.max(0, Math.min(1, v)) * 255);
  }
}
