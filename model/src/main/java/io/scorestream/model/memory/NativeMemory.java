package io.scorestream.model.memory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.bytedeco.javacpp.Pointer;

/**
 * What this process's memory is made of, read without stopping anything: the resident set ({@code /proc}), the
 * JVM heap, and the bytes libnd4j holds in data buffers outside any workspace (its own allocation counter, the one
 * {@code setMaxPrimaryMemory} limits), with the limits that apply to each. Buffers that Java has dropped but ND4J's
 * deallocator has not yet freed still count: a rising counter with a flat heap is the signature of native memory
 * left to the garbage collector.
 *
 * <p>The libnd4j counter is reached through the backend's JavaCPP binding ({@code Nd4jCpu.Environment} or
 * {@code Nd4jCuda.Environment}) by reflection, so this class builds against either backend; where neither is on
 * the class path the counter reads -1.
 */
public final class NativeMemory {
  private NativeMemory() {}

  private static final String[] ENVIRONMENTS = {
      "org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment",
      "org.nd4j.linalg.jcublas.bindings.Nd4jCuda$Environment",
  };
  private static final Object ENVIRONMENT;
  private static final Method DEVICE_COUNTER;
  private static final Method DEVICE_LIMIT;

  static {
    Object env = null;
    Method counter = null;
    Method limit = null;
    for (String name : ENVIRONMENTS) {
      try {
        Class<?> c = Class.forName(name);
        env = c.getMethod("getInstance").invoke(null);
        counter = c.getMethod("getDeviceCounter", int.class);
        limit = c.getMethod("getDeviceLimit", int.class);
        break;
      } catch (ReflectiveOperationException | LinkageError e) {
        env = null;
      }
    }
    ENVIRONMENT = env;
    DEVICE_COUNTER = counter;
    DEVICE_LIMIT = limit;
  }

  /**
   * Bytes of libnd4j data buffers allocated outside workspaces and not yet freed, on device 0 (the host on the CPU
   * backend); -1 when the backend exposes no counter.
   */
  public static long nd4jBytes() {
    return call(DEVICE_COUNTER);
  }

  /** libnd4j's limit on {@link #nd4jBytes()} (0: none), -1 when unknown. */
  public static long nd4jLimit() {
    return call(DEVICE_LIMIT);
  }

  private static long call(Method m) {
    if (ENVIRONMENT == null) return -1;
    try {
      return (long) m.invoke(ENVIRONMENT, 0);
    } catch (ReflectiveOperationException e) {
      return -1;
    }
  }

  /** JavaCPP's ceiling on off-heap bytes it tracks ({@code org.bytedeco.javacpp.maxbytes}, default -Xmx). */
  public static long javacppMaxBytes() {
    return Pointer.maxBytes();
  }

  /** JavaCPP's ceiling on the physical memory of the process ({@code org.bytedeco.javacpp.maxphysicalbytes}). */
  public static long javacppMaxPhysicalBytes() {
    return Pointer.maxPhysicalBytes();
  }

  /** The resident set size in bytes ({@code VmRSS} of {@code /proc/self/status}); -1 where there is no /proc. */
  public static long rssBytes() {
    Path status = Path.of("/proc/self/status");
    try {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /** Open file descriptors of this process; -1 where there is no /proc. */
  public static long openFiles() {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** One reading of everything above, with the heap and the live thread count. */
  public static Snapshot snapshot() {
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return new Snapshot(System.currentTimeMillis(), rssBytes(), heap.getUsed(), heap.getCommitted(), heap.getMax(),
        nd4jBytes(), ManagementFactory.getThreadMXBean().getThreadCount(), openFiles());
  }

  /**
   * One reading of the process's memory.
   *
   * @param epochMillis   when it was taken
   * @param rss           resident set size, bytes
   * @param heapUsed      JVM heap in use, bytes
   * @param heapCommitted JVM heap committed, bytes
   * @param heapMax       JVM heap limit (-Xmx), bytes
   * @param nd4j          libnd4j buffers outside workspaces, bytes (see {@link #nd4jBytes()})
   * @param threads       live JVM threads
   * @param openFiles     open file descriptors
   */
  public record Snapshot(long epochMillis, long rss, long heapUsed, long heapCommitted, long heapMax, long nd4j,
                         int threads, long openFiles) {}

  /** n bytes in MiB with one decimal, e.g. {@code 412.3 MiB}; "n/a" for a negative count. */
  public static String mib(long n) {
    return n < 0 ? "n/a" : String.format(java.util.Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024.0));
  }
}
