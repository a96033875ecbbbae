package io.scorestream.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code --name value} arguments of a benchmark's main class, with typed getters and defaults. Unknown or unused
 * names fail with the list of known ones, so a typo never silently measures the default. Not thread-safe.
 */
final class BenchArgs {
  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)?");

  private final String program;
  private final Map<String, String> values = new LinkedHashMap<>();
  private final Set<String> known = new HashSet<>();

  BenchArgs(String program, String[] args) {
    this.program = program;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) throw usage("unexpected argument '" + a + "'");
      String name = a.substring(2);
      String value;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
        value = args[++i];
      } else {
        value = "true";                                      // a flag
      }
      values.put(name, value);
    }
  }

  String string(String name, String fallback) {
    known.add(name);
    return values.getOrDefault(name, fallback);
  }

  int integer(String name, int fallback) {
    String v = string(name, null);
    try {
      return v == null ? fallback : Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw usage("--" + name + " needs an integer, got '" + v + "'");
    }
  }

  long longValue(String name, long fallback) {
    String v = string(name, null);
    try {
      return v == null ? fallback : Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw usage("--" + name + " needs an integer, got '" + v + "'");
    }
  }

  double number(String name, double fallback) {
    String v = string(name, null);
    try {
      return v == null ? fallback : Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      throw usage("--" + name + " needs a number, got '" + v + "'");
    }
  }

  boolean flag(String name) {
    return Boolean.parseBoolean(string(name, "false"));
  }

  /** 500ms, 30s, 2m, 1h; a bare number is seconds. */
  Duration duration(String name, String fallback) {
    String v = string(name, fallback).trim().toLowerCase(Locale.ROOT);
    Matcher m = DURATION.matcher(v);
    if (!m.matches()) throw usage("--" + name + " needs a duration such as 500ms, 30s or 2m, got '" + v + "'");
    double amount = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    double nanos = amount * switch (unit) {
      case "ms" -> 1e6;
      case "s" -> 1e9;
      case "m" -> 60e9;
      default -> 3600e9;
    };
    return Duration.ofNanos(Math.round(nanos));
  }

  /** A comma-separated list. */
  List<String> list(String name, String fallback) {
    List<String> out = new ArrayList<>();
    for (String s : string(name, fallback).split(",")) if (!s.isBlank()) out.add(s.trim().toLowerCase(Locale.ROOT));
    return out;
  }

  List<Double> numbers(String name, String fallback) {
    List<Double> out = new ArrayList<>();
    for (String s : list(name, fallback)) {
      try {
        out.add(Double.parseDouble(s));
      } catch (NumberFormatException e) {
        throw usage("--" + name + " needs comma-separated numbers, got '" + s + "'");
      }
    }
    return out;
  }

  /** Call after reading every argument: fails on names the benchmark does not know. */
  void done() {
    for (String name : values.keySet()) {
      if (!known.contains(name)) throw usage("unknown option --" + name);
    }
  }

  /** The body of a benchmark's main: exit status 0, 2 with one line for bad arguments, 1 for any other failure. */
  static void run(Body body) {
    int status;
    // Logging starts on this thread before Akka and ND4J start it concurrently (SLF4J would warn about replays).
    org.slf4j.LoggerFactory.getLogger(BenchArgs.class);
    try {
      body.run();
      status = 0;
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      status = 2;
    } catch (Exception e) {
      e.printStackTrace();
      status = 1;
    }
    // ND4J and Akka may leave non-daemon threads behind; the measurement is over.
    System.exit(status);
  }

  /** A benchmark's main body. */
  @FunctionalInterface
  interface Body {
    void run() throws Exception;
  }

  IllegalArgumentException usage(String problem) {
    return new IllegalArgumentException(program + ": " + problem + " (options: "
        + known.stream().sorted().map(k -> "--" + k).reduce((a, b) -> a + " " + b).orElse("none") + ")");
  }
}
