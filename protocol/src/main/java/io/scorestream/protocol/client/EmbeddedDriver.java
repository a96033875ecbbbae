package io.scorestream.protocol.client;

import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import java.io.File;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.BackoffIdleStrategy;

/**
 * The client's own media driver, for UDP to a gateway on another host: one SHARED-mode thread that backs off to
 * 1 ms parks (a spinning driver starves sampler threads on small hosts), a fresh directory deleted on close.
 * Loaded only when {@link ClientContext#embeddedDriver()} is set, so aeron-driver stays an optional dependency.
 */
final class EmbeddedDriver implements AutoCloseable {
  private final MediaDriver driver;

  private EmbeddedDriver(MediaDriver driver) {
    this.driver = driver;
  }

  static EmbeddedDriver launch(String directory, ErrorHandler errorHandler) {
    String dir = directory != null ? directory
        : new File(System.getProperty("java.io.tmpdir"), "scorestream-client-" + UUID.randomUUID()).getPath();
    MediaDriver.Context ctx = new MediaDriver.Context()
        .aeronDirectoryName(dir)
        .threadingMode(ThreadingMode.SHARED)
        .sharedIdleStrategy(new BackoffIdleStrategy(1, 1, 1_000, TimeUnit.MILLISECONDS.toNanos(1)))
        .termBufferSparseFile(true)
        .dirDeleteOnStart(true)
        .dirDeleteOnShutdown(true)
        .errorHandler(errorHandler);
    return new EmbeddedDriver(MediaDriver.launch(ctx));
  }

  String directory() {
    return driver.aeronDirectoryName();
  }

  @Override
  public void close() {
    driver.close();
  }
}
