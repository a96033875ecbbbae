package io.scorestream.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.config.Batching;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchingModelTest {
  private static final BatchingModel.Cost COST = new BatchingModel.Cost(1e-3, 1e-5);

  @Test
  void aLoneRequestTakesItsStepsTimesTheTickOfItsRows() {
    for (Batching b : Batching.values()) {
      BatchingModel.Outcome o = BatchingModel.simulate(b, COST, 4096,
          List.of(new BatchingModel.Arrival(2.0, 64, 100)), 10);
      assertEquals(1, o.latencies().length);
      assertEquals(100 * (1e-3 + 64e-5), o.latencies()[0], 1e-9);
      assertEquals(0, o.unfinished());
    }
  }

  @Test
  void staticBatchingHoldsANewRequestUntilTheBatchIsEmptyContinuousAdmitsItAtTheNextTick() {
    // A: 100 steps of 10 rows from t=0 (tick 1.1 ms alone); B: 10 steps of 10 rows arriving at 5.05 ms.
    List<BatchingModel.Arrival> arrivals = List.of(new BatchingModel.Arrival(0, 10, 100),
        new BatchingModel.Arrival(5.05e-3, 10, 10));
    double alone = 1e-3 + 10e-5;
    double together = 1e-3 + 20e-5;

    BatchingModel.Outcome stat = BatchingModel.simulate(Batching.STATIC, COST, 4096, arrivals, 10);
    // A finishes alone after 100 ticks; B starts then.
    assertEquals(100 * alone, stat.latencies()[0], 1e-9);
    assertEquals(100 * alone + 10 * alone - 5.05e-3, stat.latencies()[1], 1e-9);

    BatchingModel.Outcome cont = BatchingModel.simulate(Batching.CONTINUOUS, COST, 4096, arrivals, 10);
    // B joins after A's 5th tick (5.5 ms) and shares 10 ticks; A runs its other 85 alone.
    assertEquals(5 * alone + 10 * together - 5.05e-3, cont.latencies()[0], 1e-9);
    assertEquals(5 * alone + 10 * together + 85 * alone, cont.latencies()[1], 1e-9);
  }

  @Test
  void rowsNeverExceedTheCapAndRequestsWaitInArrivalOrder() {
    // Three requests of 60 rows under a 128-row cap: the third waits for the first to finish, in both modes.
    List<BatchingModel.Arrival> arrivals = List.of(new BatchingModel.Arrival(0, 60, 10),
        new BatchingModel.Arrival(0, 60, 20), new BatchingModel.Arrival(0, 60, 10));
    BatchingModel.Outcome o = BatchingModel.simulate(Batching.CONTINUOUS, COST, 128, arrivals, 10);
    double two = 1e-3 + 120e-5;
    assertEquals(10 * two, o.latencies()[0], 1e-9);
    assertEquals(20 * two, o.latencies()[1], 1e-9);
    assertEquals(20 * two, o.latencies()[2], 1e-9);
  }

  @Test
  void aFlatTickCostSaturatesStaticBatchingWhereContinuousBatchingKeepsUp() {
    // A GPU-like profile: the tick costs the same whatever its rows. At 80% of full-batch capacity static batching
    // runs batches whose slots empty as requests finish and cannot keep up; continuous batching refills them.
    BatchingModel.Cost flat = new BatchingModel.Cost(2e-3, 1e-8);
    double rate = 0.8 * flat.capacity(4096) / (64 * 550.0);
    List<BatchingModel.Arrival> arrivals = BatchingModel.poisson(rate, 300, 64, 100, 1000, 7);
    BatchingModel.Outcome cont = BatchingModel.simulate(Batching.CONTINUOUS, flat, 4096, arrivals, 300);
    BatchingModel.Outcome stat = BatchingModel.simulate(Batching.STATIC, flat, 4096, arrivals, 300);
    assertEquals(0, cont.unfinished());
    assertTrue(cont.percentile(99) < 0.2 * stat.percentile(99),
        "continuous p99 " + cont.percentile(99) + " s against static " + stat.percentile(99) + " s");
    // Continuous batching at 80% of capacity: no request waits long for rows; its latency is about its steps.
    assertTrue(cont.percentile(99) < 1000 * flat.tick(4096) * 1.5, "continuous p99 " + cont.percentile(99));
  }

  @Test
  void poissonArrivalsDependOnlyOnTheSeedAndHaveTheRequestedRate() {
    List<BatchingModel.Arrival> a = BatchingModel.poisson(5, 2000, 64, 100, 1000, 3);
    assertEquals(a, BatchingModel.poisson(5, 2000, 64, 100, 1000, 3));
    assertEquals(10_000, a.size(), 300);  // Poisson(10,000): sd 100
    assertTrue(a.stream().allMatch(x -> x.steps() >= 100 && x.steps() <= 1000 && x.chains() == 64));
  }
}
