package io.scorestream.model.score;

import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.MirroringPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;

/**
 * The ND4J workspace configuration of the hot loops: memory reused call after call (workspaces are per thread and
 * per id). The first loop learns the size; a larger batch later spills and the workspace grows. Reused native memory
 * matters on CPU: a GEMM into freshly allocated memory measured 2-4x slower than into reused memory (page faults).
 */
public final class Workspaces {
  private Workspaces() {}

  public static final WorkspaceConfiguration REUSED = WorkspaceConfiguration.builder()
      .initialSize(0)
      .overallocationLimit(0.3)
      .policyAllocation(AllocationPolicy.OVERALLOCATE)
      .policyLearning(LearningPolicy.FIRST_LOOP)
      .policyMirroring(MirroringPolicy.FULL)
      .policySpill(SpillPolicy.REALLOCATE)
      .build();
}
