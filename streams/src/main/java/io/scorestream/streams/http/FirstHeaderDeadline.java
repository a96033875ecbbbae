package io.scorestream.streams.http;

import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.stream.stage.TimerGraphStageLogic;
import akka.util.ByteString;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * The inbound bytes of one HTTP connection, failed (so the connection is closed) unless the first request's header
 * block, everything up to the first empty line ({@code CRLF CRLF}), has arrived within a deadline from the moment
 * the connection was accepted. Past that point it passes bytes through untouched. An idle connection that never
 * sends a request and a slow sender that trickles its header byte by byte ("slowloris") then hold a connection slot
 * for at most the deadline, while Akka HTTP's idle timeout would keep the trickler open indefinitely.
 */
final class FirstHeaderDeadline extends GraphStage<FlowShape<ByteString, ByteString>> {
  private final Inlet<ByteString> in = Inlet.create("FirstHeaderDeadline.in");
  private final Outlet<ByteString> out = Outlet.create("FirstHeaderDeadline.out");
  private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);
  private final Duration deadline;
  private final Runnable onTimeout;

  /** @param onTimeout called once when a connection is closed for missing the deadline (for the metrics) */
  FirstHeaderDeadline(Duration deadline, Runnable onTimeout) {
    this.deadline = deadline;
    this.onTimeout = onTimeout;
  }

  @Override
  public FlowShape<ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new TimerGraphStageLogic(shape) {
      /** How many bytes of CR LF CR LF the stream currently ends with (0..3); 4 once the header is complete. */
      private int matched;

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            ByteString chunk = grab(in);
            if (matched < 4) {
              for (int i = 0; i < chunk.length() && matched < 4; i++) matched = advance(matched, chunk.apply(i));
              if (matched == 4) cancelTimer("deadline");
            }
            push(out, chunk);
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            pull(in);
          }
        });
      }

      @Override
      public void preStart() {
        scheduleOnce("deadline", deadline);
      }

      @Override
      public void onTimer(Object key) {
        onTimeout.run();
        failStage(new TimeoutException("no complete request header within " + deadline));
      }
    };
  }

  /** The CRLFCRLF matcher's next state after byte b (a KMP automaton over "\r\n\r\n"). */
  static int advance(int matched, byte b) {
    boolean even = matched % 2 == 0;
    if (b == (even ? '\r' : '\n')) return matched + 1;
    return b == '\r' ? 1 : 0;
  }
}
