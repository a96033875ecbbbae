package io.scorestream.bench;

import io.scorestream.config.Batching;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A discrete-event model of one sampler under {@link LoadGenerator}'s open-loop workload, to say which batching
 * policy wins on which device. The only input from the device is its cost curve: one tick over r rows takes
 * {@code tick(r) = a + c r} (a: the fixed cost of a network call and its bookkeeping, c: the cost of one row; both
 * measured by {@link TickProfile}). Requests of {@code chains} chains and a step count uniform in
 * [{@code minSteps}, {@code maxSteps}] arrive as a Poisson process at a fraction f of the capacity
 * {@code C = R / tick(R)} at {@code R = capacity-rows}; every tick advances each admitted request by one step, and a
 * request leaves, with its latency, after its last step. {@code continuous} admits queued requests (in arrival
 * order, while rows fit under {@code max-rows}) before every tick; {@code static} only when the batch is empty.
 * Finished requests leave at once in both, as in {@code Sampler}.
 *
 * <p>What it shows: continuous batching's advantage in tail latency comes from the fixed cost a. Where a tick costs
 * about the same whatever its rows (a GPU below saturation: c r much smaller than a), static batching pays a full
 * tick for every row that has already finished and saturates long before continuous batching does. Where the cost
 * is proportional to rows (a CPU: c r much larger than a), a finished row costs static batching nothing, and the
 * two policies' tails differ by little. Previews, admission and messaging are not modelled; the model predicts the
 * batching policies' difference, not the node's absolute latencies.
 *
 * <p>Prints one line per mode and load with the median over {@code --seeds} runs of p50 and p99 latency, then the
 * ratio of continuous to static p99. Options: {@code --tick-fixed-ms 0.55 --tick-per-row-us 5.3 --max-rows 4096
 * --capacity-rows 4096 --load 0.5,0.8,0.95 --chains 64 --min-steps 100 --max-steps 1000 --seconds 1800
 * --seeds 5 --seed 1}.
 */
public final class BatchingModel {
  private BatchingModel() {}

  /** tick(rows) = fixed + perRow rows, in seconds. */
  record Cost(double fixed, double perRow) {
    Cost {
      if (!(fixed >= 0) || !(perRow >= 0) || fixed + perRow == 0) {
        throw new IllegalArgumentException("tick costs must be >= 0 and not both 0, got " + fixed + ", " + perRow);
      }
    }

    double tick(int rows) {
      return fixed + perRow * rows;
    }

    /** Chain-steps per second of full batches of the given rows. */
    double capacity(int rows) {
      return rows / tick(rows);
    }
  }

  /** A request: it arrives at time (s), asks for chains chains of steps steps. */
  record Arrival(double time, int chains, int steps) {}

  /** Latencies (s) of the completed requests, in completion order; unfinished: still running or queued at the end. */
  record Outcome(double[] latencies, int unfinished) {
    double percentile(double p) {
      if (latencies.length == 0) return Double.NaN;
      double[] s = latencies.clone();
      Arrays.sort(s);
      return s[Math.min(s.length - 1, (int) Math.ceil(p / 100.0 * s.length) - 1)];
    }
  }

  /**
   * Poisson arrivals at rate (requests/s) for seconds, each of chains chains and a uniform step count in
   * [minSteps, maxSteps]; a function of seed alone.
   */
  static List<Arrival> poisson(double rate, double seconds, int chains, int minSteps, int maxSteps, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<Arrival> out = new ArrayList<>();
    double t = 0;
    while (true) {
      t += -Math.log(1 - random.nextDouble()) / rate;
      if (t >= seconds) return out;
      out.add(new Arrival(t, chains, random.nextInt(minSteps, maxSteps + 1)));
    }
  }

  /**
   * Runs the sampler over the arrivals (sorted by time) until every request has finished or, past the last arrival,
   * another {@code drainSeconds} have gone by.
   */
  static Outcome simulate(Batching batching, Cost cost, int maxRows, List<Arrival> arrivals, double drainSeconds) {
    ArrayDeque<Arrival> queue = new ArrayDeque<>();
    List<Arrival> running = new ArrayList<>();
    List<Integer> left = new ArrayList<>();
    double[] latencies = new double[arrivals.size()];
    int completed = 0;
    int next = 0;
    int rows = 0;
    double now = 0;
    double end = arrivals.isEmpty() ? 0 : arrivals.get(arrivals.size() - 1).time() + drainSeconds;
    while (next < arrivals.size() || !queue.isEmpty() || !running.isEmpty()) {
      if (now > end) break;
      if (running.isEmpty() && queue.isEmpty()) now = Math.max(now, arrivals.get(next).time());
      while (next < arrivals.size() && arrivals.get(next).time() <= now) queue.addLast(arrivals.get(next++));
      if (batching == Batching.CONTINUOUS || running.isEmpty()) {
        while (!queue.isEmpty() && rows + queue.peekFirst().chains() <= maxRows) {
          Arrival a = queue.pollFirst();
          running.add(a);
          left.add(a.steps());
          rows += a.chains();
        }
      }
      if (running.isEmpty()) {
        if (!queue.isEmpty()) {
          throw new IllegalArgumentException("a request of " + queue.peekFirst().chains() + " chains exceeds "
              + maxRows + " rows");
        }
        continue;
      }
      now += cost.tick(rows);
      for (int i = running.size() - 1; i >= 0; i--) {
        int l = left.get(i) - 1;
        if (l > 0) {
          left.set(i, l);
          continue;
        }
        Arrival done = running.remove(i);
        left.remove(i);
        rows -= done.chains();
        latencies[completed++] = now - done.time();
      }
    }
    return new Outcome(Arrays.copyOf(latencies, completed), arrivals.size() - completed);
  }

  public static void main(String[] argv) {
    BenchArgs.run(() -> run(argv));
  }

  private static void run(String[] argv) {
    BenchArgs args = new BenchArgs("BatchingModel", argv);
    Cost cost = new Cost(args.number("tick-fixed-ms", 0.55) / 1e3, args.number("tick-per-row-us", 5.3) / 1e6);
    int maxRows = args.integer("max-rows", 4096);
    int capacityRows = args.integer("capacity-rows", maxRows);
    List<Double> loads = args.numbers("load", "0.5,0.8,0.95");
    int chains = args.integer("chains", 64);
    int minSteps = args.integer("min-steps", 100);
    int maxSteps = args.integer("max-steps", 1000);
    double seconds = args.number("seconds", 1800);
    int seeds = args.integer("seeds", 5);
    long seed = args.longValue("seed", 1);
    args.done();
    if (chains < 1 || chains > maxRows || minSteps < 1 || maxSteps < minSteps || seeds < 1 || !(seconds > 0)) {
      throw args.usage("need 1 <= --chains <= --max-rows, 1 <= --min-steps <= --max-steps, --seeds >= 1, "
          + "--seconds > 0");
    }
    double capacity = cost.capacity(capacityRows);
    double meanSteps = (minSteps + maxSteps) / 2.0;
    System.err.printf(Locale.ROOT, "tick(r) = %.3f ms + %.3f us r; capacity %,.0f chain-steps/s at %d rows; "
            + "tick at %d rows %.3f ms%n", cost.fixed() * 1e3, cost.perRow() * 1e6, capacity, capacityRows, chains,
        cost.tick(chains) * 1e3);
    for (double load : loads) {
      double rate = load * capacity / (chains * meanSteps);
      double[][] p = new double[2][];
      for (Batching b : Batching.values()) {
        double[] p50 = new double[seeds];
        double[] p99 = new double[seeds];
        int unfinished = 0;
        for (int s = 0; s < seeds; s++) {
          List<Arrival> arrivals = poisson(rate, seconds, chains, minSteps, maxSteps, seed + s);
          Outcome o = simulate(b, cost, maxRows, arrivals, seconds);
          p50[s] = o.percentile(50);
          p99[s] = o.percentile(99);
          unfinished += o.unfinished();
        }
        p[b.ordinal()] = new double[] {Report.median(p50), Report.median(p99)};
        System.out.printf(Locale.ROOT, "model mode=%s load=%s rate_rps=%.3f p50_ms=%.0f p99_ms=%.0f unfinished=%d "
                + "seeds=%d seconds=%.0f%n", b.name().toLowerCase(Locale.ROOT), Report.trim(load), rate,
            1e3 * Report.median(p50), 1e3 * Report.median(p99), unfinished, seeds, seconds);
      }
      System.out.printf(Locale.ROOT, "model load=%s p99_ratio=%.2f p50_ratio=%.2f%n", Report.trim(load),
          p[0][1] / p[1][1], p[0][0] / p[1][0]);
    }
  }
}
