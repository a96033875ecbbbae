package io.scorestream.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scorestream.model.sde.Sde;
import org.junit.jupiter.api.Test;

/**
 * The importance-sampled times of the likelihood-weighted loss follow p(t) = g^2 / std^2 / Z on [eps, 1]: for VP
 * its CDF has the closed form log(expm1(B(t))) up to constants, B(t) = integral of beta (Song et al. 2021).
 */
class ImportanceTimesTest {

  private static double bigB(double t) {
    return 0.1 * t + 0.5 * (20.0 - 0.1) * t * t;
  }

  private static double vpCdf(double t, double eps) {
    double lo = Math.log(Math.expm1(bigB(eps)));
    return (Math.log(Math.expm1(bigB(t))) - lo) / (Math.log(Math.expm1(bigB(1))) - lo);
  }

  @Test
  void vpTimesInvertTheClosedFormCdf() {
    Sde vp = Sde.named("vp");
    for (double eps : new double[] {1e-5, 1e-3}) {
      ImportanceTimes times = new ImportanceTimes(vp, eps);
      assertEquals(eps, times.time(0), eps * 1e-9);
      for (double u = 0.01; u < 1; u += 0.07) {
        double t = times.time(u);
        assertTrue(t >= eps && t <= 1, "t " + t);
        assertEquals(u, vpCdf(t, eps), 2e-4, "u " + u + " eps " + eps);
      }
      // The density grows like 1 / t near 0: a fifth of the mass lies below 1e-3 when eps = 1e-5.
      if (eps == 1e-5) assertEquals(0.196, vpCdf(1e-3, eps), 0.01);
    }
  }

  @Test
  void veTimesAreUniform() {
    // For VE, std = sigma(t) and g^2 = d sigma^2 / dt, so g^2 / std^2 = 2 log(sigma_max / sigma_min): uniform.
    ImportanceTimes times = new ImportanceTimes(Sde.named("ve"), 1e-5);
    for (double u = 0.1; u < 1; u += 0.2) assertEquals(1e-5 + (1 - 1e-5) * u, times.time(u), 1e-6);
  }

  @Test
  void theConfigRefusesImportanceSamplingWithoutTheLikelihoodWeighting() {
    assertThrows(IllegalArgumentException.class, () -> new TrainConfig(Objective.DSM, false, 64, 1e-3, 0, 1, 0.999,
        0, 100, false, true, 0, true, 1e-5));
    assertThrows(IllegalArgumentException.class, () -> new TrainConfig(Objective.DSM, true, 64, 1e-3, 0, 1, 0.999,
        0, 100, false, true, 0, false, 1.0));
    TrainConfig c = new TrainConfig(Objective.DSM, true, 64, 1e-3, 0, 1, 0.999, 0, 100, false, true, 0, true, 1e-5);
    assertEquals(1e-5, c.minTime(Sde.named("vp")));
    assertEquals(1e-3, c.withTimeSampling(false, false, 0).minTime(Sde.named("vp")));
  }
}
