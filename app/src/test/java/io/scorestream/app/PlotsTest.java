package io.scorestream.app;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's preview frames: a frame is written whatever its samples (it was lost when all fell outside). */
class PlotsTest {
  @Test
  void aFrameWhoseSamplesAllLieOutsideTheWindowIsStillWritten(@TempDir Path dir) throws Exception {
    Path withReference = dir.resolve("frame-0001.png");
    Plots.scatter(withReference, "every sample outside", new double[][] {{100, 100}, {-50, 3}},
        new double[][] {{0.5, 0.5}, {-1, 1}}, 5.0);
    Path alone = dir.resolve("frame-0002.png");
    Plots.scatter(alone, "no reference either", new double[][] {{100, 100}}, null, 5.0);
    for (Path p : new Path[] {withReference, alone}) {
      assertTrue(Files.isRegularFile(p), p + " not written");
      BufferedImage img = ImageIO.read(p.toFile());
      assertTrue(img != null && img.getWidth() == 640 && img.getHeight() == 640, p + " is not a 640 x 640 PNG");
    }
  }
}
