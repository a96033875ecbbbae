package io.scorestream.model.train;

import java.util.Locale;

/** The training objectives for a noise-conditional score network. */
public enum Objective {
  /**
   * Continuous-time denoising score matching over the SDE (Song et al. 2021, eq. 7):
   * E_t lambda(t) E ||s(x_t, t) + z / std(t)||^2, lambda = std^2 (default) or g(t)^2 (likelihood weighting,
   * Song et al. 2021b).
   */
  DSM("dsm"),
  /** Discrete NCSN denoising score matching over a geometric sigma ladder, lambda(sigma) = sigma^2 (Song and Ermon 2019, eq. 6). VE only. */
  SMLD("smld"),
  /** DDPM's simple loss ||eps_theta(x_t, t) - eps||^2 over discrete times i / N (Ho et al. 2020, eq. 14). VP and sub-VP only. */
  DDPM("ddpm"),
  /**
   * Sliced score matching on perturbed data (Song et al. 2019): E[v^T (ds/dx) v + 1/2 (v^T s)^2], or the
   * variance-reduced E[v^T (ds/dx) v + 1/2 ||s||^2], v Gaussian or Rademacher.
   */
  SSM("ssm"),
  /** Exact score matching (Hyvarinen 2005): E[tr(ds/dx) + 1/2 ||s||^2] on perturbed data; D <= 16 only. */
  ESM("esm");

  /** Exact score matching builds D Jacobian-vector products per step; above this it is refused. */
  public static final int ESM_MAX_DIM = 16;

  private final String label;

  Objective(String label) {
    this.label = label;
  }

  public String label() { return label; }

  public static Objective named(String name) {
    for (Objective o : values()) {
      if (o.label.equals(name.toLowerCase(Locale.ROOT))) return o;
    }
    throw new IllegalArgumentException("unknown loss '" + name + "' (expected dsm, smld, ddpm, ssm or esm)");
  }
}
