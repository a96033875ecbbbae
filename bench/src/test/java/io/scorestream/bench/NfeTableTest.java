package io.scorestream.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.SamplerPrograms;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.sde.Sde;
import org.junit.jupiter.api.Test;

/** Each sampler of the NFE table spends at most its budget of network calls per chain, and nearly all of it. */
class NfeTableTest {
  @Test
  void everyEntryFitsItsBudgetWithinTwoCalls() {
    SamplerPrograms.Limits limits = new SamplerPrograms.Limits(500, 100_000);
    for (String name : new String[] {"ve", "vp", "subvp"}) {
      Sde sde = Sde.named(name);
      for (NfeTable.Entry e : NfeTable.entries()) {
        for (int budget : new int[] {5, 10, 20, 50, 100, 1000}) {
          SamplerSpec spec = e.forBudget().apply(budget);
          if (spec == null) continue;
          SamplerProgram p = SamplerPrograms.build(spec, sde, limits);
          int calls = p.nominalCalls();
          // ALD spends its budget in whole levels of 10 steps (plus the denoising call): up to 9 calls short.
          int slack = e.name().startsWith("ald") ? 9 : 2;
          assertTrue(calls <= budget && calls >= budget - slack,
              e.name() + " at budget " + budget + " makes " + calls + " calls: " + p.describe());
        }
      }
    }
  }
}
