package io.scorestream.actors;

import akka.NotUsed;
import akka.japi.Pair;
import akka.stream.javadsl.Source;
import io.scorestream.model.data.DataSource;
import java.util.Optional;

/**
 * Akka Streams sources of training batches. Elements are produced on demand (the stream is pulled by the trainer's
 * backpressured sink), so a source faster than the trainer holds at most a stream buffer of batches. Batch n is
 * {@code data.batch(seed, n, batchSize)}, so a resumed run sees exactly the batches it would have seen.
 */
public final class TrainingBatches {
  private TrainingBatches() {}

  /** Batches fromStep, fromStep + 1, ... of data; each element is a fresh array handed over to the consumer. */
  public static Source<double[][], NotUsed> from(DataSource data, long seed, int batchSize, long fromStep) {
    DataSource.checkBatchSize(batchSize);
    return Source.unfold(fromStep, n -> Optional.of(Pair.create(n + 1, data.batch(seed, n, batchSize))));
  }
}
