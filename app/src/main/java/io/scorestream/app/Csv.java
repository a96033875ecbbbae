package io.scorestream.app;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Sample files: a header {@code x0,x1,...} and one sample per row, written with Java's exact shortest decimal. */
final class Csv {
  private Csv() {}

  static void write(Path file, double[][] rows) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
      try (BufferedWriter w = Files.newBufferedWriter(file)) {
        int d = rows.length == 0 ? 0 : rows[0].length;
        StringBuilder header = new StringBuilder();
        for (int j = 0; j < d; j++) header.append(j == 0 ? "" : ",").append('x').append(j);
        w.write(header.toString());
        w.newLine();
        StringBuilder line = new StringBuilder();
        for (double[] r : rows) {
          line.setLength(0);
          for (int j = 0; j < r.length; j++) line.append(j == 0 ? "" : ",").append(r[j]);
          w.write(line.toString());
          w.newLine();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
