package io.scorestream.app;

import io.scorestream.model.train.CheckpointException;
import java.io.IOException;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code scorestream} command line. Bad input (unknown names, non-positive counts, malformed data, a missing or
 * corrupt checkpoint, an unwritable output) ends with one line naming the problem and exit status 2.
 */
@Command(name = "scorestream", mixinStandardHelpOptions = true, version = "scorestream 0.1.0",
    description = "Trains score-based generative models and samples from them.",
    subcommands = {ServeCommand.class, ClientCommand.class, TrainCommand.class, TrainClassifierCommand.class, SampleCommand.class, EvalCommand.class, BenchCommand.class, DemoCommand.class})
public final class ScoreStreamCli implements Runnable {
  /** Exit status for bad input. */
  public static final int BAD_INPUT = 2;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns its exit status (for tests). */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new ScoreStreamCli());
    cli.setParameterExceptionHandler((ex, a) -> {
      System.err.println("error: " + ex.getMessage());
      return BAD_INPUT;
    });
    cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      if (ex instanceof IllegalArgumentException || ex instanceof CheckpointException
          || ex instanceof UncheckedIOException || ex instanceof IOException) {
        System.err.println("error: " + ex.getMessage());
        return BAD_INPUT;
      }
      if (ex instanceof IllegalStateException) {
        System.err.println("error: " + ex.getMessage());
        return 1;
      }
      throw ex;
    });
    return cli.execute(args);
  }
}
