package io.scorestream.model.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataSpecsTest {

  @TempDir Path dir;

  @Test
  void parsesEachScheme() throws IOException {
    DataSource toy = DataSpecs.parse("toy:rings", "standard");
    assertInstanceOf(ToyData.class, toy);
    assertEquals("toy:rings", toy.describe());
    assertEquals("none", toy.normalization().kind());

    Path csv = dir.resolve("d.csv");
    Files.writeString(csv, "1,2\n3,5\n");
    DataSource c = DataSpecs.parse("csv:" + csv, null);
    assertEquals("csv:" + csv + " (n=2, d=2)", c.describe());
    assertEquals("standard", c.normalization().kind());

    Path npy = dir.resolve("d.npy");
    FileData.writeNpy(npy, new double[][] {{1}, {2}, {4}});
    DataSource n = DataSpecs.parse("npy:" + npy, "none");
    assertEquals(1, n.dim());
    assertEquals("none", n.normalization().kind());
  }

  @Test
  void unknownSchemeIsADataException() {
    DataException e = assertThrows(DataException.class, () -> DataSpecs.parse("foo", "standard"));
    assertEquals("unknown data source 'foo' (expected toy:NAME, csv:PATH, npy:PATH, mnist[:SPLIT], idx:IMAGES[,LABELS], npy-images:IMAGES[,LABELS] or png:DIR)", e.getMessage());
    assertThrows(DataException.class, () -> DataSpecs.parse("parquet:/x", "standard"));
    assertThrows(DataException.class, () -> DataSpecs.parse("", "standard"));
    assertThrows(DataException.class, () -> DataSpecs.parse("csv:", "standard"));
  }

  @Test
  void unknownToyAndMissingFileAreDataExceptions() {
    String msg = assertThrows(DataException.class, () -> DataSpecs.parse("toy:spiral", null)).getMessage();
    assertTrue(msg.contains("gmm8") && msg.contains("checkerboard"), msg);
    Path missing = dir.resolve("x.npy");
    assertEquals("no such file: " + missing,
        assertThrows(DataException.class, () -> DataSpecs.parse("npy:" + missing, null)).getMessage());
    assertThrows(DataException.class, () -> DataSpecs.parse("toy:gmm8", "zscore"));
  }
}
