package io.scorestream.app;

import java.io.PrintStream;

/** A line redrawn in place on a terminal, or printed as a new line each time elsewhere (logs, tests). */
final class StatusLine {
  private final PrintStream out;
  private final boolean terminal = System.console() != null;
  private int lastWidth;

  StatusLine(PrintStream out) {
    this.out = out;
  }

  synchronized void draw(String text) {
    if (terminal) {
      out.print("\r" + text + " ".repeat(Math.max(0, lastWidth - text.length())));
      lastWidth = text.length();
    } else {
      out.println(text);
    }
    out.flush();
  }

  /** A line of its own: on a terminal it replaces the status line, which the next draw puts back. */
  synchronized void message(String text) {
    if (terminal) {
      out.print("\r" + text + " ".repeat(Math.max(0, lastWidth - text.length())) + "\n");
      lastWidth = 0;
    } else {
      out.println(text);
    }
    out.flush();
  }

  synchronized void end() {
    if (terminal) out.println();
    out.flush();
  }
}
