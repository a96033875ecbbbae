package io.scorestream.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.scorestream.protocol.Connect;
import io.scorestream.protocol.ConnectAck;
import io.scorestream.protocol.Message;
import io.scorestream.protocol.ProtocolCodec;
import io.scorestream.protocol.ProtocolException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A hand-driven protocol client for tests that misbehave on purpose (send garbage, stop reading): an exclusive
 * ingress publication and an egress subscription on a driver, polled only when the test says so. One thread.
 */
final class RawAeronClient implements AutoCloseable {
  static final long HANG_GUARD_NS = TimeUnit.SECONDS.toNanos(60);

  final Aeron aeron;
  final ExclusivePublication ingress;
  final Subscription egress;
  final int egressStreamId;
  private final ProtocolCodec codec = new ProtocolCodec();
  private final ExpandableDirectByteBuffer buffer = new ExpandableDirectByteBuffer(1024);
  private final List<Message> received = new ArrayList<>();
  private final FragmentAssembler assembler = new FragmentAssembler(this::onFragment);
  long sessionId;
  int undecodable;

  RawAeronClient(String driverDirectory, int ingressStreamId, int egressStreamId) {
    this.aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driverDirectory));
    this.egressStreamId = egressStreamId;
    this.egress = aeron.addSubscription("aeron:ipc", egressStreamId);
    this.ingress = aeron.addExclusivePublication("aeron:ipc", ingressStreamId);
  }

  /** Connects and returns the session id. */
  long connect(String secret) throws InterruptedException {
    send(new Connect(1, "aeron:ipc", egressStreamId, secret, "raw"));
    long deadline = System.nanoTime() + HANG_GUARD_NS;
    while (true) {
      poll();
      for (Message m : received) {
        if (m instanceof ConnectAck a) {
          sessionId = a.sessionId();
          received.clear();
          return sessionId;
        }
      }
      assertTrue(System.nanoTime() < deadline, "hang guard: ConnectAck");
      Thread.sleep(1);
    }
  }

  void send(Message m) throws InterruptedException {
    int length = codec.encode(m, buffer, 0);
    sendRaw(buffer, 0, length);
  }

  void sendRaw(byte[] frame) throws InterruptedException {
    sendRaw(new UnsafeBuffer(frame), 0, frame.length);
  }

  private void sendRaw(DirectBuffer b, int offset, int length) throws InterruptedException {
    long deadline = System.nanoTime() + HANG_GUARD_NS;
    while (ingress.offer(b, offset, length) < 0) {
      assertTrue(System.nanoTime() < deadline, "hang guard: offer");
      poll();
      Thread.sleep(1);
    }
  }

  byte[] encode(Message m) {
    int length = codec.encode(m, buffer, 0);
    byte[] f = new byte[length];
    buffer.getBytes(0, f);
    return f;
  }

  int poll() {
    return egress.poll(assembler, 256);
  }

  /** Everything decoded from the egress so far. */
  List<Message> received() {
    return received;
  }

  private void onFragment(DirectBuffer b, int offset, int length, io.aeron.logbuffer.Header header) {
    try {
      received.add(codec.decode(b, offset, length));
    } catch (ProtocolException e) {
      undecodable++;
    }
  }

  @Override
  public void close() {
    CloseHelper.quietCloseAll(ingress, egress, aeron);
  }
}
