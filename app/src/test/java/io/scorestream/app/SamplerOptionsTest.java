package io.scorestream.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import io.scorestream.actors.Programs;
import io.scorestream.config.ScoreStreamSettings;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.SamplerSpec;
import io.scorestream.model.sde.Sde;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The command line and the node build the same program for the same sampler parameters: the options are parsed
 * into a SamplerSpec and built by the one builder, with the node's default step count, so an offline run and a
 * served request agree field by field (and, with the same seed, chain by chain).
 */
class SamplerOptionsTest {
  private static final ScoreStreamSettings NODE = ScoreStreamSettings.from(ConfigFactory.load());

  private static SamplerProgram cli(Sde sde, String... args) {
    SamplerOptions o = new SamplerOptions();
    new CommandLine(o).parseArgs(args);
    return o.program(sde);
  }

  private static SamplerProgram node(Sde sde, SamplerSpec spec) {
    return Programs.build(spec, sde, NODE.coordinator());
  }

  private record Case(String[] args, SamplerSpec spec) {}

  @Test
  void theSameParametersGiveTheSameProgramOnTheCommandLineAndTheNode() {
    List<Case> cases = List.of(
        new Case(new String[] {}, SamplerSpec.defaults()),
        new Case(new String[] {"--steps", "200"}, SamplerSpec.pc(200)),
        new Case(new String[] {"--sampler", "pc", "--steps", "300", "--predictor", "ancestral", "--corrector",
            "langevin", "--corrector-steps", "2", "--snr", "0.1"}, SamplerSpec.pc(300, "ancestral", "langevin", 2, 0.1)),
        new Case(new String[] {"--sampler", "ode"}, SamplerSpec.fewStep("ode", null)),
        new Case(new String[] {"--sampler", "ode", "--ode-method", "heun", "--steps", "50"}, SamplerSpec.ode("heun", 50)),
        new Case(new String[] {"--sampler", "ode", "--rtol", "1e-4", "--atol", "1e-6"}, SamplerSpec.rk45(1e-4, 1e-6)),
        new Case(new String[] {"--sampler", "ald"}, SamplerSpec.fewStep("ald", null)),
        new Case(new String[] {"--sampler", "ald", "--levels", "10", "--steps", "100", "--step-scale", "0.01"},
            SamplerSpec.ald(10, 100, 0.01)),
        new Case(new String[] {"--sampler", "langevin", "--steps", "40"}, SamplerSpec.fewStep("langevin", 40)),
        new Case(new String[] {"--sampler", "pc", "--no-denoise", "--steps", "10"}, SamplerSpec.pc(10).withDenoise(false)),
        new Case(new String[] {"--sampler", "ddim"}, SamplerSpec.fewStep("ddim", null)),
        new Case(new String[] {"--sampler", "ddim", "--steps", "25", "--eta", "0.5", "--schedule", "logsnr"},
            SamplerSpec.fewStep("ddim", 25).withFewStep(0.5, "logsnr", null)),
        new Case(new String[] {"--sampler", "dpmpp-2m"}, SamplerSpec.fewStep("dpmpp-2m", null)),
        new Case(new String[] {"--sampler", "dpmpp-2m-sde", "--steps", "30", "--eta", "0.8"},
            SamplerSpec.fewStep("dpmpp-2m-sde", 30).withFewStep(0.8, null, null)),
        new Case(new String[] {"--sampler", "edm", "--churn", "10", "--schedule", "uniform", "--no-denoise"},
            SamplerSpec.fewStep("edm", null).withFewStep(null, "uniform", 10.0).withDenoise(false)));
    for (String name : List.of("ve", "vp", "subvp")) {
      Sde sde = Sde.named(name);
      for (Case c : cases) {
        assertEquals(node(sde, c.spec()), cli(sde, c.args()), name + " " + String.join(" ", c.args()));
      }
    }
  }

  @Test
  void annealedLangevinOnAnAnalyticMixtureUsesItsPaperLadderOnBoth() {
    for (String name : List.of("ve", "vp", "subvp")) {
      ModelLoader.Loaded loaded = ModelLoader.load("analytic:ncsn-gmm", name);
      SamplerOptions o = new SamplerOptions();
      new CommandLine(o).parseArgs("--sampler", "ald");
      SamplerProgram cli = o.program(loaded.model().sde(), loaded.aldSigmaRange());
      io.scorestream.actors.InitialModel served = io.scorestream.actors.InitialModel.analytic(
          io.scorestream.model.score.GaussianMixture.named("ncsn-gmm"), loaded.model().sde());
      SamplerProgram node = Programs.build(SamplerSpec.fewStep("ald", null), served.sde(),
          Programs.limits(NODE.coordinator(), served.aldSigmaRange()));
      assertEquals(node, cli, name);
      assertEquals(new SamplerProgram.AnnealedLangevin(20, 1, 10, 100, 0.1, true, true), cli, name);
    }
  }

  @Test
  void leavingOutTheStepsMeansTheNodesDefault() {
    SamplerProgram p = cli(Sde.named("vp"), "--sampler", "pc");
    assertEquals(NODE.coordinator().defaultSteps(), ((SamplerProgram.PredictorCorrector) p).steps());
    SamplerProgram.AnnealedLangevin ald = (SamplerProgram.AnnealedLangevin) cli(Sde.named("ve"), "--sampler", "ald");
    assertEquals(100, ald.stepsPerLevel(), "ald --steps is per level, NCSN's T = 100 by default");
    assertEquals(10, ald.levels());
    SamplerProgram.FewStep edm = (SamplerProgram.FewStep) cli(Sde.named("vp"), "--sampler", "edm");
    assertEquals(18, edm.steps(), "edm: Karras et al.'s 18 steps");
  }
}
