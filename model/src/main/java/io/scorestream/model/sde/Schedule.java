package io.scorestream.model.sde;

import java.util.Locale;

/**
 * Time-step schedules: where a sampler with n steps evaluates the score, as the pure function t_i = time(sde, i, n)
 * from t_0 = 1 down to t_n = eps. The interior points differ:
 * <ul>
 *   <li>{@link #UNIFORM}: uniform in t (score_sde, DDIM's uniform skip);</li>
 *   <li>{@link #KARRAS}: uniform in sigma^(1/rho) with rho = 7 (Karras et al. 2022, eq. 5), sigma = std / m;</li>
 *   <li>{@link #LOGSNR}: uniform in log-SNR = -2 log sigma (Lu et al. 2022, DPM-Solver's "logSNR" skip), so sigma is
 *       geometric.</li>
 * </ul>
 * Computed on demand (no per-chain arrays); the end points are exact.
 */
public enum Schedule {
  UNIFORM("uniform") {
    @Override
    double interior(Sde sde, double f) {
      return 1.0 + (sde.tEps() - 1.0) * f;
    }
  },
  KARRAS("karras") {
    @Override
    double interior(Sde sde, double f) {
      double hi = Math.pow(sde.sigma(1.0), 1 / RHO);
      double lo = Math.pow(sde.sigma(sde.tEps()), 1 / RHO);
      return sde.timeForSigma(Math.pow(hi + f * (lo - hi), RHO));
    }
  },
  LOGSNR("logsnr") {
    @Override
    double interior(Sde sde, double f) {
      double hi = Math.log(sde.sigma(1.0));
      double lo = Math.log(sde.sigma(sde.tEps()));
      return sde.timeForSigma(Math.exp(hi + f * (lo - hi)));
    }
  };

  /** Karras et al.'s rho: 7 balances the truncation error across the steps (their section 3). */
  public static final double RHO = 7.0;

  private final String label;

  Schedule(String label) {
    this.label = label;
  }

  /** The time at the fraction f in (0, 1) of the schedule. */
  abstract double interior(Sde sde, double f);

  /** t_i of an n-step schedule: t_0 = 1, t_n = eps. */
  public double time(Sde sde, int i, int n) {
    if (n < 1 || i < 0 || i > n) throw new IllegalArgumentException("need 0 <= i <= n, n >= 1; got " + i + ", " + n);
    if (i == 0) return 1.0;
    if (i == n) return sde.tEps();
    return interior(sde, (double) i / n);
  }

  public String label() {
    return label;
  }

  public static Schedule named(String name) {
    for (Schedule s : values()) {
      if (s.label.equals(name.trim().toLowerCase(Locale.ROOT))) return s;
    }
    throw new IllegalArgumentException("unknown schedule '" + name + "' (expected uniform, karras or logsnr)");
  }
}
