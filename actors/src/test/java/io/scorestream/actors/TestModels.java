package io.scorestream.actors;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.score.GaussianMixture;
import io.scorestream.model.score.ScoreModel;
import io.scorestream.model.sde.Sde;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Score models for tests: the analytic gmm8 oracle, and wrappers that block, throw or poison chosen calls. */
final class TestModels {
  static final GaussianMixture GMM8 = GaussianMixture.named("gmm8");

  private TestModels() {}

  static InitialModel analytic(String sde) {
    return InitialModel.analytic(GMM8, Sde.named(sde));
  }

  /** Intercepts score calls of a model (a test seam; never used outside tests). */
  interface Hook {
    INDArray score(ScoreModel inner, INDArray x, double[] t);
  }

  static ModelRegistry.ModelFactory hooked(ModelRegistry.ModelFactory inner, Hook hook) {
    return () -> {
      ScoreModel m = inner.create();
      return new ScoreModel() {
        @Override public Sde sde() { return m.sde(); }

        @Override public int dim() { return m.dim(); }

        @Override public DataType dataType() { return m.dataType(); }

        @Override public INDArray score(INDArray x, double[] t) { return hook.score(m, x, t); }

        @Override public ScoreJvp scoreJvp(INDArray x, double[] t, INDArray v) { return m.scoreJvp(x, t, v); }

        @Override public String describe() { return "hooked " + m.describe(); }
      };
    };
  }

  static InitialModel hooked(InitialModel base, Hook hook) {
    return new InitialModel(base.description(), base.trainStep(), hooked(base.factory(), hook), base.sde(),
        base.dim(), base.weights());
  }

  /**
   * Blocks the calling (sampler) thread inside chosen network calls, counted from 1 over every model the factory
   * builds, until the test opens that gate: the way to make "while X runs, Y happens" deterministic without time.
   */
  static final class Gate implements Hook {
    private final int[] blockAt;
    private final CountDownLatch[] reached;
    private final CountDownLatch[] released;
    private final AtomicInteger calls = new AtomicInteger();
    /** The thread of the latest call: the sampler's. */
    volatile String thread;

    Gate(int... blockAt) {
      this.blockAt = blockAt.clone();
      this.reached = new CountDownLatch[blockAt.length];
      this.released = new CountDownLatch[blockAt.length];
      for (int i = 0; i < blockAt.length; i++) {
        reached[i] = new CountDownLatch(1);
        released[i] = new CountDownLatch(1);
      }
    }

    @Override
    public INDArray score(ScoreModel inner, INDArray x, double[] t) {
      int n = calls.incrementAndGet();
      thread = Thread.currentThread().getName();
      for (int i = 0; i < blockAt.length; i++) {
        if (n == blockAt[i]) {
          reached[i].countDown();
          try {
            released[i].await(120, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }
      return inner.score(x, t);
    }

    int calls() {
      return calls.get();
    }

    void awaitReached(int i) throws InterruptedException {
      assertTrue(reached[i].await(120, TimeUnit.SECONDS), "gate " + i + " never reached");
    }

    void awaitReached() throws InterruptedException {
      awaitReached(0);
    }

    void open(int i) {
      released[i].countDown();
    }

    void open() {
      for (CountDownLatch l : released) l.countDown();
    }
  }

  /** Throws from network call {@code from} on, at most {@code times} times in all. */
  static final class Fault implements Hook {
    private final int from;
    private final AtomicInteger calls = new AtomicInteger();
    private final AtomicInteger left;

    Fault(int from, int times) {
      this.from = from;
      this.left = new AtomicInteger(times);
    }

    @Override
    public INDArray score(ScoreModel inner, INDArray x, double[] t) {
      if (calls.incrementAndGet() >= from && left.getAndDecrement() > 0) {
        throw new IllegalStateException("injected fault");
      }
      return inner.score(x, t);
    }
  }

  /** Makes the score NaN for rows evaluated at exactly time tStar whose first coordinate is positive. */
  static final class Poison implements Hook {
    private final double tStar;

    Poison(double tStar) {
      this.tStar = tStar;
    }

    @Override
    public INDArray score(ScoreModel inner, INDArray x, double[] t) {
      INDArray s = inner.score(x, t);
      for (int i = 0; i < t.length; i++) {
        if (t[i] == tStar && x.getDouble(i, 0) > 0) s.putScalar(i, 0, Double.NaN);
      }
      return s;
    }
  }
}
