package io.scorestream.model.sde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class SdeTest {
  private static final List<Sde> ALL = List.of(Sde.named("ve"), Sde.named("vp"), Sde.named("subvp"));

  @Test
  void marginalVarianceSolvesTheForwardVarianceOde() {
    // For dx = a x dt + g dw with x(0) = x0 fixed: d/dt Var = 2 a Var + g^2 (VE starts at sigma_min^2).
    for (Sde sde : ALL) {
      double var = sde.std(0) * sde.std(0);
      int n = 200_000;
      for (int i = 0; i < n; i++) {
        double t = (i + 0.5) / n;
        var += (2 * sde.driftCoeff(t) * var + sde.diffusion(t) * sde.diffusion(t)) / n;
      }
      assertEquals(sde.std(1) * sde.std(1), var, 1e-3 * Math.max(1, var), sde.describe());
    }
  }

  @Test
  void meanCoefficientSolvesTheDriftOde() {
    for (Sde sde : ALL) {
      double logm = 0;
      int n = 100_000;
      for (int i = 0; i < n; i++) logm += sde.driftCoeff((i + 0.5) / n) / n;
      assertEquals(sde.meanCoeff(1), Math.exp(logm), 1e-6, sde.describe());
    }
  }

  @Test
  void timeForStdInvertsStd() {
    for (Sde sde : ALL) {
      for (double t : new double[] {0.01, 0.2, 0.5, 0.9, 1.0}) {
        assertEquals(t, sde.timeForStd(sde.std(t)), 1e-9, sde.describe());
      }
    }
  }

  @Test
  void sigmaIsStdOverMeanAndTimeForSigmaInvertsIt() {
    for (Sde sde : ALL) {
      for (double t : new double[] {sde.tEps(), 0.01, 0.2, 0.5, 0.9, 1.0}) {
        double sigma = sde.sigma(t);
        assertEquals(sde.std(t) / sde.meanCoeff(t), sigma, 1e-12 * sigma, sde.describe());
        assertEquals(t, sde.timeForSigma(sigma), 1e-9, sde.describe() + " at " + t);
      }
    }
  }

  @Test
  void theProbabilityFlowOdeTransportsTheMarginalOfGaussianData() {
    // Data N(0, v I) has p_t = N(0, (m^2 v + std^2) I) and score -x / Var_t. Along the ODE dx = [a x + b s] dt,
    // x / sqrt(Var_t) is constant, so d/dt log|x| = a - b / Var_t must equal 1/2 d/dt log Var_t.
    double v = 0.25;
    for (Sde sde : ALL) {
      Sde.Reverse ode = sde.reverse(true);
      for (double t : new double[] {0.1, 0.5, 0.9}) {
        double h = 1e-5;
        double lhs = ode.stateCoeff(t) - ode.scoreCoeff(t) / variance(sde, t, v);
        double rhs = (Math.log(variance(sde, t + h, v)) - Math.log(variance(sde, t - h, v))) / (4 * h);
        assertEquals(rhs, lhs, 1e-5 * Math.abs(rhs), sde.describe() + " at " + t);
        assertEquals(0.0, ode.diffusion(t));
      }
    }
  }

  @Test
  void theReverseSdeHasTwiceTheOdesScoreTermAndTheForwardDiffusion() {
    for (Sde sde : ALL) {
      Sde.Reverse rsde = sde.reverse(false);
      Sde.Reverse ode = sde.reverse(true);
      for (double t : new double[] {0.1, 0.5, 0.9}) {
        double g = sde.diffusion(t);
        assertEquals(-g * g, rsde.scoreCoeff(t), 1e-12 * g * g);
        assertEquals(2 * ode.scoreCoeff(t), rsde.scoreCoeff(t), 1e-12 * g * g);
        assertEquals(g, rsde.diffusion(t));
        assertEquals(sde.driftCoeff(t), rsde.stateCoeff(t));
        double[] d = rsde.discretize(t, 1e-3);
        double[] f = sde.discretize(t, 1e-3);
        assertEquals(1 - f[0], d[0], 1e-15);
        assertEquals(f[1] * f[1], d[1], 1e-15);
        assertEquals(f[1], d[2], 1e-15);
        assertEquals(0.5 * f[1] * f[1], ode.discretize(t, 1e-3)[1], 1e-15);
      }
    }
  }

  @Test
  void theDefaultsAreTheSdesOwn() {
    assertEquals(new Sde.PcDefaults("reverse-diffusion", "langevin", 1, 0.16), Sde.named("ve").pcDefaults());
    assertEquals(new Sde.PcDefaults("euler-maruyama", "none", 0, 0.16), Sde.named("vp").pcDefaults());
    assertEquals(Sde.named("vp").pcDefaults(), Sde.named("subvp").pcDefaults());
    assertEquals(1.0, Sde.named("ve").correctorAlpha(0.5, 1e-3));
    VpSde vp = new VpSde(0.1, 20);
    assertEquals(1 - vp.beta(0.5) * 1e-3, vp.correctorAlpha(0.5, 1e-3), 1e-15);
    for (Sde sde : ALL) {
      double[] r = sde.aldSigmaRange();
      assertEquals(sde.sigma(1.0), r[0], 1e-12 * r[0]);
      assertEquals(Math.max(sde.sigma(sde.tEps()), Sde.ALD_SIGMA_FLOOR), r[1], 1e-15);
    }
  }

  private static double variance(Sde sde, double t, double v) {
    double m = sde.meanCoeff(t);
    double s = sde.std(t);
    return m * m * v + s * s;
  }

  @Test
  void discretisationsMatchTheirPapers() {
    VeSde ve = new VeSde(0.01, 50);
    double[] fg = ve.discretize(0.5, 0.01);
    assertEquals(0, fg[0]);
    assertEquals(Math.sqrt(ve.sigma(0.5) * ve.sigma(0.5) - ve.sigma(0.49) * ve.sigma(0.49)), fg[1], 1e-12);
    VpSde vp = new VpSde(0.1, 20);
    double[] d = vp.discretize(0.5, 0.001);
    double beta = vp.beta(0.5) * 0.001;
    assertEquals(Math.sqrt(1 - beta) - 1, d[0], 1e-12);
    assertEquals(Math.sqrt(beta), d[1], 1e-12);
  }

  @Test
  void laddersAreGeometricAndLinear() {
    double[] s = NoiseLadders.geometricSigmas(20, 1, 10);
    assertEquals(20, s[0], 1e-12);
    assertEquals(1, s[9], 1e-12);
    assertEquals(s[1] / s[0], s[9] / s[8], 1e-12);
    double[] b = NoiseLadders.linearBetas(1e-4, 0.02, 1000);
    assertEquals(1e-4, b[0], 1e-15);
    assertEquals(0.02, b[999], 1e-15);
    double[] ab = NoiseLadders.alphaBars(b);
    assertEquals(4.04e-5, ab[999], 1e-5); // DDPM: alpha-bar_T ~ 4e-5
  }

  @Test
  void priorLogDensityIsTheGaussian() {
    Sde vp = Sde.named("vp");
    var x = org.nd4j.linalg.factory.Nd4j.createFromArray(new double[][] {{0, 0}, {1, 2}});
    double[] lp = vp.priorLogProb(x);
    assertEquals(-Math.log(2 * Math.PI), lp[0], 1e-12);
    assertEquals(-Math.log(2 * Math.PI) - 2.5, lp[1], 1e-12);
  }

  @Test
  void badParametersAndNamesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new VeSde(1, 0.5));
    assertThrows(IllegalArgumentException.class, () -> new VpSde(-1, 20));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sde.named("ode"));
    assertEquals("unknown SDE 'ode' (expected ve, vp or subvp)", e.getMessage());
  }
}
