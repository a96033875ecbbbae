package io.scorestream.model.sample;

import io.scorestream.model.sde.NoiseLadders;
import io.scorestream.model.sde.Sde;

/** The {@link ChainCursor}s of the built-in {@link SamplerProgram}s. Package-private state machines. */
final class Cursors {
  private Cursors() {}

  /** A flag as a saved number. */
  static double flag(boolean b) {
    return b ? 1 : 0;
  }

  /** Uniform time grid t_i = 1 + (eps - 1) i / N, i = 0..N. */
  static double gridTime(Sde sde, int i, int n) {
    return 1.0 + (sde.tEps() - 1.0) * i / n;
  }

  /** Predictor-corrector: per step, K corrector ticks at t_i, then one predictor tick; then an optional denoise. */
  static final class Pc extends ChainCursor {
    /**
     * The Langevin corrector's step uses this chain's running mean of ||s||^2 over its earlier ticks (about 50)
     * rather than the current ||s||: a step that depends on the current state breaks the invariance of the Langevin
     * kernel, which with few dimensions (one chain, D = 2) inflates the spread of the samples badly (measured: mode
     * std 0.62 against 0.5 on gmm8 with the current norm, 0.50-0.54 with the running mean).
     */
    static final double SCORE_DECAY = 0.995;
    private final SamplerProgram.PredictorCorrector program;
    private final Sde sde;
    private final int correctorTicks;
    private int stepIndex;
    private int phase; // 0..K-1 corrector, K predictor, and after the last step: the denoise tick
    private boolean finished;
    /** This chain's running mean of (std(t) ||s||)^2 over its previous ticks (NaN before the first). */
    private double scoreSqMean = Double.NaN;

    private final int dim;

    Pc(SamplerProgram.PredictorCorrector program, Sde sde, int dim) {
      this.program = program;
      this.dim = dim;
      this.sde = sde;
      this.correctorTicks = program.correctorTicks();
      this.phase = firstPhase();
    }

    private int firstPhase() {
      return correctorTicks > 0 ? 0 : correctorTicks;
    }

    private boolean denoising() {
      return stepIndex == program.steps();
    }

    @Override
    protected void plan() {
      resetPlan();
      time = gridTime(sde, stepIndex, program.steps());
      if (denoising()) return;
      needsNoise = true;
      needsNorms = program.corrector().needsNorms();
    }

    @Override
    protected void update(double scoreNorm, double noiseNorm, double errorNorm) {
      ticks++;
      if (denoising()) {
        setUpdate(Affine.tweedie(sde.meanCoeff(time), sde.std(time)));
        finished = true;
        return;
      }
      double tNext = gridTime(sde, stepIndex + 1, program.steps());
      // The running mean is of the scale-free (std(t) ||s||)^2, so it does not lag as the noise level falls.
      double std = sde.std(time);
      // It starts at D, its value where the noise dominates (p_t ~ N(0, std^2 I): E ||s||^2 std^2 = D).
      if (Double.isNaN(scoreSqMean)) scoreSqMean = dim;
      double stepNorm = Math.sqrt(scoreSqMean) / std;
      if (!Double.isNaN(scoreNorm)) {
        scoreSqMean = SCORE_DECAY * scoreSqMean + (1 - SCORE_DECAY) * scoreNorm * scoreNorm * std * std;
      }
      if (phase < correctorTicks) {
        setUpdate(program.corrector().coefficients(sde, time, time - tNext, program.snr(), stepNorm, Math.sqrt(dim)));
        phase++;
        if (phase == correctorTicks && program.predictor() == Predictor.NONE) advance();
      } else {
        setUpdate(program.predictor().coefficients(sde, time, tNext));
        advance();
      }
    }

    private void advance() {
      stepIndex++;
      phase = firstPhase();
      if (stepIndex == program.steps() && !program.denoise()) finished = true;
    }

    @Override public boolean done() { return finished; }

    @Override public int step() { return Math.min(stepIndex, program.steps()); }

    @Override public int totalSteps() { return program.steps(); }

    @Override
    protected double[] progress() {
      return new double[] {stepIndex, phase, flag(finished), scoreSqMean};
    }

    @Override
    protected void resume(double[] p) {
      stepIndex = (int) p[0];
      phase = (int) p[1];
      finished = p[2] != 0;
      scoreSqMean = p[3];
    }
  }

  /** Fixed-step Euler or Heun on the probability-flow ODE. */
  static final class FixedStepOde extends ChainCursor {
    private final SamplerProgram.ProbabilityFlow program;
    private final Sde sde;
    private final Sde.Reverse ode;
    private final boolean heun;
    private int stepIndex;
    private int stage;
    private boolean finished;

    FixedStepOde(SamplerProgram.ProbabilityFlow program, Sde sde) {
      this.program = program;
      this.sde = sde;
      this.heun = program.method() == SamplerProgram.OdeMethod.HEUN;
      this.ode = sde.reverse(true);
    }

    private double h() {
      return gridTime(sde, stepIndex + 1, program.steps()) - gridTime(sde, stepIndex, program.steps());
    }

    @Override
    protected void plan() {
      resetPlan();
      double t0 = gridTime(sde, stepIndex, program.steps());
      if (stepIndex == program.steps()) {
        time = t0;
        return;
      }
      time = stage == 0 ? t0 : t0 + h();
      if (heun) {
        store = stage;
        p = ode.stateCoeff(time);
        q = ode.scoreCoeff(time);
        if (stage == 1) {
          mix = new double[] {h()};
        }
      }
    }

    @Override
    protected void update(double scoreNorm, double noiseNorm, double errorNorm) {
      ticks++;
      if (stepIndex == program.steps()) {
        setUpdate(Affine.tweedie(sde.meanCoeff(time), sde.std(time)));
        finished = true;
        return;
      }
      double h = h();
      if (!heun) {
        setUpdate(new Affine(1 + h * ode.stateCoeff(time), h * ode.scoreCoeff(time), 0));
        advance();
      } else if (stage == 0) {
        setUpdate(Affine.IDENTITY);
        stage = 1;
      } else {
        setUpdate(Affine.IDENTITY);
        gamma = new double[] {0.5 * h, 0.5 * h};
        stage = 0;
        advance();
      }
    }

    private void advance() {
      stepIndex++;
      if (stepIndex == program.steps() && !program.denoise()) finished = true;
    }

    @Override public boolean done() { return finished; }

    @Override public int step() { return Math.min(stepIndex, program.steps()); }

    @Override public int totalSteps() { return program.steps(); }

    @Override
    protected double[] progress() {
      return new double[] {stepIndex, stage, flag(finished)};
    }

    @Override
    protected void resume(double[] p) {
      stepIndex = (int) p[0];
      stage = (int) p[1];
      finished = p[2] != 0;
    }
  }

  /**
   * Dormand-Prince 5(4) with first-same-as-last (Dormand and Prince 1980; Hairer, Norsett and Wanner, II.4), each
   * chain with its own step size h and error control, so a chain's path does not depend on its batch-mates.
   */
  static final class DormandPrince extends ChainCursor {
    private final SamplerProgram.ProbabilityFlow program;
    private final Sde sde;
    private final Sde.Reverse ode;
    private final double tEnd;
    private double t = 1.0;
    private double h;
    private int stage = -1; // -1: K_0 not yet known
    private int accepted;
    private boolean denoisePending;
    private boolean finished;

    DormandPrince(SamplerProgram.ProbabilityFlow program, Sde sde) {
      this.program = program;
      this.sde = sde;
      this.ode = sde.reverse(true);
      this.tEnd = sde.tEps();
      this.h = -Math.min(0.01, 1.0 - tEnd);
    }

    @Override
    protected void plan() {
      resetPlan();
      if (denoisePending) {
        time = t;
        return;
      }
      int s = Math.max(stage, 0);
      time = stage < 0 ? t : t + DormandPrinceTableau.C[s] * h;
      store = s;
      p = ode.stateCoeff(time);
      q = ode.scoreCoeff(time);
      if (s > 0) {
        mix = new double[s];
        for (int j = 0; j < s; j++) mix[j] = h * DormandPrinceTableau.A[s][j];
      }
      if (s == 6) {
        errorWeights = new double[REGISTERS];
        for (int j = 0; j < REGISTERS; j++) errorWeights[j] = h * DormandPrinceTableau.E[j];
        rtol = program.rtol();
        atol = program.atol();
      }
    }

    @Override
    protected void update(double scoreNorm, double noiseNorm, double errorNorm) {
      ticks++;
      setUpdate(Affine.IDENTITY);
      if (denoisePending) {
        setUpdate(Affine.tweedie(sde.meanCoeff(time), sde.std(time)));
        finished = true;
        return;
      }
      if (stage < 0) {
        stage = 1;
        return;
      }
      if (stage < 6) {
        stage++;
        return;
      }
      // A non-finite error means the state itself blew up: take the step so that the batch flags the chain.
      boolean accept = errorNorm <= 1.0 || !Double.isFinite(errorNorm);
      double hNext = DormandPrinceTableau.nextStep(h, errorNorm, accept);
      if (accept) {
        a = 0;
        au = 1;
        fsal = true;
        t += h;
        accepted++;
        if (t - tEnd <= 1e-12) {
          t = tEnd;
          if (program.denoise()) denoisePending = true;
          else finished = true;
        }
      }
      h = Math.max(hNext, tEnd - t);
      stage = 1;
    }

    @Override public boolean done() { return finished; }

    @Override public int step() { return accepted; }

    @Override public int totalSteps() { return Math.max(accepted + 1, program.steps()); }

    @Override
    protected double[] progress() {
      return new double[] {t, h, stage, accepted, flag(denoisePending), flag(finished)};
    }

    @Override
    protected void resume(double[] p) {
      t = p[0];
      h = p[1];
      stage = (int) p[2];
      accepted = (int) p[3];
      denoisePending = p[4] != 0;
      finished = p[5] != 0;
    }
  }

  /** Annealed Langevin dynamics over a geometric sigma ladder, in the VE variable y = x / m (see the program). */
  static final class Ald extends ChainCursor {
    private final SamplerProgram.AnnealedLangevin program;
    private final Sde sde;
    private final double[] sigmas;
    private final double[] times;
    private final double[] means;
    private int level;
    private int inner;
    private boolean finished;

    Ald(SamplerProgram.AnnealedLangevin program, Sde sde) {
      this.program = program;
      this.sde = sde;
      this.sigmas = NoiseLadders.geometricSigmas(program.sigmaMax(), program.sigmaMin(), program.levels());
      this.times = new double[sigmas.length];
      this.means = new double[sigmas.length];
      for (int i = 0; i < sigmas.length; i++) {
        times[i] = Math.min(1.0, Math.max(sde.tEps(), sde.timeForSigma(sigmas[i])));
        means[i] = sde.meanCoeff(times[i]);
      }
    }

    @Override
    protected void plan() {
      resetPlan();
      if (level == sigmas.length) {
        time = times[sigmas.length - 1];
        return;
      }
      time = times[level];
      needsNoise = true;
    }

    @Override
    protected void update(double scoreNorm, double noiseNorm, double errorNorm) {
      ticks++;
      if (level == sigmas.length) {
        setUpdate(Affine.tweedie(sde.meanCoeff(time), sde.std(time)));
        finished = true;
        return;
      }
      double sigmaL = sigmas[sigmas.length - 1];
      double alpha = program.stepScale() * sigmas[level] * sigmas[level] / (sigmaL * sigmaL);
      double m = means[level];
      boolean lastOfLevel = inner + 1 == program.stepsPerLevel();
      double r = lastOfLevel && level + 1 < sigmas.length ? means[level + 1] / m : 1.0;
      setUpdate(new Affine(r, r * alpha * m * m, r * m * Math.sqrt(2 * alpha)));
      if (++inner == program.stepsPerLevel()) {
        inner = 0;
        level++;
        if (level == sigmas.length && !program.denoise()) finished = true;
      }
    }

    @Override public boolean done() { return finished; }

    @Override public int step() { return level * program.stepsPerLevel() + inner; }

    @Override public int totalSteps() { return program.levels() * program.stepsPerLevel(); }

    @Override
    protected double[] progress() {
      return new double[] {level, inner, flag(finished)};
    }

    @Override
    protected void resume(double[] p) {
      level = (int) p[0];
      inner = (int) p[1];
      finished = p[2] != 0;
    }
  }

  /** Plain Langevin dynamics at one noise level. */
  static final class FixedLangevin extends ChainCursor {
    private final SamplerProgram.Langevin program;
    private int stepIndex;

    FixedLangevin(SamplerProgram.Langevin program, Sde sde) {
      this.program = program;
    }

    @Override
    protected void plan() {
      resetPlan();
      time = program.t();
      needsNoise = true;
    }

    @Override
    protected void update(double scoreNorm, double noiseNorm, double errorNorm) {
      ticks++;
      double eps = program.stepSize();
      setUpdate(new Affine(1, eps, Math.sqrt(2 * eps)));
      stepIndex++;
    }

    @Override public boolean done() { return stepIndex == program.steps(); }

    @Override public int step() { return stepIndex; }

    @Override public int totalSteps() { return program.steps(); }

    @Override
    protected double[] progress() {
      return new double[] {stepIndex};
    }

    @Override
    protected void resume(double[] p) {
      stepIndex = (int) p[0];
    }
  }

  /** The shared clock of the few-step solvers: t_i of the program's schedule and the VE quantities there. */
  private abstract static class FewStepCursor extends ChainCursor {
    final SamplerProgram.FewStep program;
    final Sde sde;
    /** The step about to be taken (N: the final denoising tick). */
    int stepIndex;
    boolean finished;

    FewStepCursor(SamplerProgram.FewStep program, Sde sde) {
      this.program = program;
      this.sde = sde;
    }

    final double timeAt(int i) {
      return program.schedule().time(sde, i, program.steps());
    }

    final boolean denoising() {
      return stepIndex == program.steps();
    }

    /** Takes the final Tweedie step D = (x + std^2 s) / m at the current time. */
    final void denoise() {
      setUpdate(Affine.tweedie(sde.meanCoeff(time), sde.std(time)));
      finished = true;
    }

    final void advance() {
      stepIndex++;
      if (denoising() && !program.denoise()) finished = true;
    }

    @Override public final boolean done() { return finished; }

    @Override public final int step() { return Math.min(stepIndex, program.steps()); }

    @Override public final int totalSteps() { return program.steps(); }

    @Override
    protected final double[] progress() {
      double[] extra = solverProgress();
      double[] out = java.util.Arrays.copyOf(new double[] {stepIndex, flag(finished)}, 2 + extra.length);
      System.arraycopy(extra, 0, out, 2, extra.length);
      return out;
    }

    @Override
    protected final void resume(double[] p) {
      stepIndex = (int) p[0];
      finished = p[1] != 0;
      resumeSolver(java.util.Arrays.copyOfRange(p, 2, p.length));
    }

    /** The solver's own state beyond the clock (none by default). */
    double[] solverProgress() {
      return new double[0];
    }

    void resumeSolver(double[] p) {}
  }

  /** The VE-clock quantities of one step from t to tNext that the one-call solvers read: m, std, sigma = std / m. */
  record Step(double m, double sd, double sigma, double mNext, double sigmaNext) {
    static Step of(Sde sde, double t, double tNext) {
      return new Step(sde.meanCoeff(t), sde.std(t), sde.sigma(t), sde.meanCoeff(tNext), sde.sigma(tNext));
    }
  }

  /** A solver with one network call a step: each tick takes the step from t_i to t_(i+1), or the final denoise. */
  private abstract static class OneCallCursor extends FewStepCursor {
    OneCallCursor(SamplerProgram.FewStep program, Sde sde) {
      super(program, sde);
    }

    /** Writes the update of the step (setUpdate, and registers through gamma). */
    abstract void take(Step step);

    @Override
    protected final void update(double scoreNorm, double noiseNorm, double errorNorm) {
      ticks++;
      if (denoising()) {
        denoise();
        return;
      }
      take(Step.of(sde, time, timeAt(stepIndex + 1)));
      advance();
    }
  }

  /** DDIM with eta (see {@link SamplerProgram.Solver#DDIM}): one call a step. */
  static final class Ddim extends OneCallCursor {
    Ddim(SamplerProgram.FewStep program, Sde sde) {
      super(program, sde);
    }

    @Override
    protected void plan() {
      resetPlan();
      time = timeAt(stepIndex);
      needsNoise = !denoising() && program.eta() > 0;
    }

    @Override
    void take(Step st) {
      double sigma = st.sigma();
      double sigmaNext = st.sigmaNext();
      double eta = program.eta();
      double up = Math.min(sigmaNext,
          eta * Math.sqrt(Math.max(sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext), 0) / (sigma * sigma)));
      double down = Math.sqrt(Math.max(sigmaNext * sigmaNext - up * up, 0));
      // x' = m' [(x + sd^2 s) / m - sigma_down sd s] + m' sigma_up z, since (x / m - D) / sigma = -sd s.
      setUpdate(new Affine(st.mNext() / st.m(), st.mNext() * st.sd() * (sigma - down), st.mNext() * up));
    }
  }

  /**
   * DPM-Solver++(2M) and its SDE variant (see {@link SamplerProgram.Solver#DPMPP_2M}): one call a step; the
   * denoiser of each step is kept in register (step mod 2) for the next.
   */
  static final class DpmSolver extends OneCallCursor {
    private final double eta;
    private double hPrev = Double.NaN;

    DpmSolver(SamplerProgram.FewStep program, Sde sde) {
      super(program, sde);
      this.eta = program.solver() == SamplerProgram.Solver.DPMPP_2M_SDE ? program.eta() : 0.0;
    }

    @Override
    protected void plan() {
      resetPlan();
      time = timeAt(stepIndex);
      if (denoising()) return;
      // K_(i mod 2) = D = (x + std^2 s) / m
      double m = sde.meanCoeff(time);
      double sd = sde.std(time);
      store = stepIndex % 2;
      p = 1 / m;
      q = sd * sd / m;
      needsNoise = eta > 0;
    }

    @Override
    void take(Step st) {
      double sd = st.sd();
      double sigma = st.sigma();
      double mNext = st.mNext();
      double sigmaNext = st.sigmaNext();
      double h = Math.log(sigma / sigmaNext);          // lambda' - lambda, lambda = -log sigma
      double etaH = eta * h;
      double e = -Math.expm1(-h - etaH);               // 1 - e^(-(1 + eta) h)
      double decay = sigmaNext / sigma * Math.exp(-etaH);
      double w = e;
      double wPrev = 0;
      if (!Double.isNaN(hPrev)) {
        double r = hPrev / h;
        w = e * (1 + 0.5 / r);
        wPrev = -0.5 * e / r;
      }
      double k = mNext / st.m();
      setUpdate(new Affine(k * (decay + w), k * w * sd * sd,
          eta > 0 ? mNext * sigmaNext * Math.sqrt(-Math.expm1(-2 * etaH)) : 0));
      if (wPrev != 0) {
        gamma = new double[2];
        gamma[(stepIndex + 1) % 2] = mNext * wPrev;
      }
      hPrev = h;
    }

    @Override
    double[] solverProgress() {
      return new double[] {hPrev};
    }

    @Override
    void resumeSolver(double[] p) {
      hPrev = p[0];
    }
  }

  /**
   * EDM's Heun sampler with churn (see {@link SamplerProgram.Solver#EDM_HEUN}): two calls a step. Stage 0 evaluates
   * at the step's start t-hat and keeps K_0 = (r - 1) x + m' (sigma' - sigma-hat) d with r = m' / m-hat, so that
   * stage 1's input x + K_0 is the Euler step's end m' (x / m-hat + (sigma' - sigma-hat) d); stage 1 applies the
   * trapezoidal rule and, when the next step churns, its noise.
   */
  static final class EdmHeun extends FewStepCursor {
    private final double churnGamma;
    private int stage;
    /** The start time of the current step: t_i, or t-hat_i after churn. */
    private double start = 1.0;
    private double nextStart;
    private boolean churnNext;

    EdmHeun(SamplerProgram.FewStep program, Sde sde) {
      super(program, sde);
      this.churnGamma = Math.min(program.churn() / program.steps(), Math.sqrt(2) - 1);
    }

    @Override
    protected void plan() {
      resetPlan();
      if (denoising()) {
        time = timeAt(stepIndex);
        return;
      }
      double tNext = timeAt(stepIndex + 1);
      double mNext = sde.meanCoeff(tNext);
      double sigmaNext = sde.sigma(tNext);
      if (stage == 0) {
        time = start;
        double r = mNext / sde.meanCoeff(start);
        store = 0;
        p = r - 1;
        q = -mNext * (sigmaNext - sde.sigma(start)) * sde.std(start);   // m' (sigma' - sigma-hat) d, d = -std s
      } else {
        time = tNext;
        mix = new double[] {1.0};
        churnNext = churnGamma > 0 && stepIndex + 1 < program.steps();
        nextStart = tNext;
        if (churnNext) {
          double hat = Math.min(sigmaNext * (1 + churnGamma), sde.sigma(1.0));
          nextStart = Math.min(1.0, sde.timeForSigma(hat));
          churnNext = nextStart > tNext;
          if (!churnNext) nextStart = tNext;
        }
        needsNoise = churnNext;
      }
    }

    @Override
    protected void update(double scoreNorm, double noiseNorm, double errorNorm) {
      ticks++;
      if (denoising()) {
        denoise();
        return;
      }
      if (stage == 0) {
        setUpdate(Affine.IDENTITY);
        stage = 1;
        return;
      }
      double tNext = time;
      double mNext = sde.meanCoeff(tNext);
      double sigmaNext = sde.sigma(tNext);
      double r = mNext / sde.meanCoeff(start);
      double delta = sigmaNext - sde.sigma(start);
      // x' = (r + 1) / 2 x + K_0 / 2 - m' delta std' s / 2, then to the next step's t-hat with its churn noise.
      double k = churnNext ? sde.meanCoeff(nextStart) / mNext : 1.0;
      double noise = 0;
      if (churnNext) {
        double hat = sde.sigma(nextStart);
        noise = sde.meanCoeff(nextStart) * Math.sqrt(Math.max(hat * hat - sigmaNext * sigmaNext, 0));
      }
      setUpdate(new Affine(k * 0.5 * (r + 1), -k * 0.5 * mNext * delta * sde.std(tNext), noise));
      gamma = new double[] {k * 0.5};
      start = nextStart;
      stage = 0;
      advance();
    }

    @Override
    double[] solverProgress() {
      return new double[] {stage, start, nextStart, flag(churnNext)};
    }

    @Override
    void resumeSolver(double[] p) {
      stage = (int) p[0];
      start = p[1];
      nextStart = p[2];
      churnNext = p[3] != 0;
    }
  }
}
