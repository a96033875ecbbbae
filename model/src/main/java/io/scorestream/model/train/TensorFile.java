package io.scorestream.model.train;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A small file of named float32 tensors: magic "SSTF", version, count, then per tensor its name, shape and
 * values (big-endian), and a CRC32 of everything before it, so truncation and bit flips are detected on read.
 */
public final class TensorFile {
  private static final int MAGIC = 0x53535446; // "SSTF"
  private static final int VERSION = 1;
  private static final int MAX_RANK = 8;
  private static final long MAX_ELEMENTS = 1L << 31;

  private TensorFile() {}

  public static void write(Path file, Map<String, INDArray> tensors) throws IOException {
    CRC32 crc = new CRC32();
    try (OutputStream raw = Files.newOutputStream(file);
         CheckedOutputStream checked = new CheckedOutputStream(new BufferedOutputStream(raw), crc);
         DataOutputStream out = new DataOutputStream(checked)) {
      out.writeInt(MAGIC);
      out.writeInt(VERSION);
      out.writeInt(tensors.size());
      for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
        INDArray a = e.getValue();
        out.writeUTF(e.getKey());
        out.writeInt(a.rank());
        for (long s : a.shape()) out.writeLong(s);
        float[] v = a.castTo(DataType.FLOAT).dup('c').data().asFloat();
        for (float f : v) out.writeFloat(f);
      }
      out.flush();
      long sum = crc.getValue();
      out.writeLong(sum);
    }
  }

  public static Map<String, INDArray> read(Path file) {
    if (!Files.isRegularFile(file)) throw new CheckpointException("checkpoint file missing: " + file);
    CRC32 crc = new CRC32();
    try (InputStream raw = Files.newInputStream(file);
         CheckedInputStream checked = new CheckedInputStream(new BufferedInputStream(raw), crc);
         DataInputStream in = new DataInputStream(checked)) {
      if (in.readInt() != MAGIC) throw new CheckpointException(file + ": not a scorestream tensor file (bad magic)");
      int version = in.readInt();
      if (version != VERSION) throw new CheckpointException(file + ": unsupported tensor file version " + version);
      int count = in.readInt();
      if (count < 0 || count > 10_000) throw new CheckpointException(file + ": corrupt tensor count " + count);
      Map<String, INDArray> out = new LinkedHashMap<>();
      for (int i = 0; i < count; i++) {
        String name = in.readUTF();
        int rank = in.readInt();
        if (rank < 0 || rank > MAX_RANK) throw new CheckpointException(file + ": corrupt rank " + rank + " of " + name);
        long[] shape = new long[rank];
        long n = 1;
        for (int r = 0; r < rank; r++) {
          shape[r] = in.readLong();
          if (shape[r] < 0 || shape[r] > MAX_ELEMENTS) throw new CheckpointException(file + ": corrupt shape of " + name);
          n *= shape[r];
          if (n > MAX_ELEMENTS) throw new CheckpointException(file + ": tensor " + name + " is absurdly large");
        }
        float[] v = new float[(int) n];
        for (int k = 0; k < v.length; k++) v[k] = in.readFloat();
        out.put(name, Nd4j.createFromArray(v).reshape(shape));
      }
      long expected = crc.getValue();
      long stored = in.readLong();
      if (stored != expected) throw new CheckpointException(file + ": checksum mismatch (the file is corrupt)");
      return out;
    } catch (EOFException e) {
      throw new CheckpointException(file + ": truncated (the file is incomplete or corrupt)", e);
    } catch (IOException e) {
      throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
    }
  }
}
