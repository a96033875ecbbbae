package io.scorestream.model.score;

import org.nd4j.linalg.factory.Nd4j;

/**
 * The CPU threads one ND4J caller may use: libnd4j's own (element-wise ops) and the BLAS library's (GEMMs), whose
 * count is separate (OMP_NUM_THREADS at start-up). Process-wide.
 */
public final class ComputeThreads {
  private ComputeThreads() {}

  /** Limits both libnd4j and the BLAS library to n threads per call (n >= 1). */
  public static void limit(int n) {
    if (n < 1) throw new IllegalArgumentException("compute threads must be >= 1, got " + n);
    Nd4j.getEnvironment().setMaxThreads(n);
    Nd4j.getEnvironment().setMaxMasterThreads(n);
    Nd4j.factory().blas().setMaxThreads(n);
  }
}
