package io.scorestream.protocol.client;

import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.Header;
import io.scorestream.protocol.Accepted;
import io.scorestream.protocol.Cancel;
import io.scorestream.protocol.ClientMessage;
import io.scorestream.protocol.Connect;
import io.scorestream.protocol.ConnectAck;
import io.scorestream.protocol.ConnectRejected;
import io.scorestream.protocol.Disconnect;
import io.scorestream.protocol.GenerateRequest;
import io.scorestream.protocol.Heartbeat;
import io.scorestream.protocol.Message;
import io.scorestream.protocol.Preview;
import io.scorestream.protocol.ProtocolCodec;
import io.scorestream.protocol.ProtocolError;
import io.scorestream.protocol.ProtocolException;
import io.scorestream.protocol.RequestEvent;
import io.scorestream.protocol.ResultPart;
import io.scorestream.protocol.Status;
import io.scorestream.protocol.StatusRequest;
import io.scorestream.protocol.Terminal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.ManyToOneConcurrentLinkedQueue;

/**
 * The client's I/O, on its one polling thread: sends what the caller threads queued (Connect, requests, cancels,
 * status requests, heartbeats) on the ingress publication, retrying back-pressured offers on the next duty cycle,
 * and reads the egress subscription through one FragmentAssembler (results span many frames), handing each event
 * to its request's handle. All state but the command queue and the connect future is confined to that thread.
 */
final class ClientAgent implements Agent {
  private enum State { CONNECTING, CONNECTED, CLOSED }

  /** What caller threads ask of the polling thread. */
  sealed interface Command permits Submit, CancelRequest, AskStatus, Close {}

  record Submit(RequestHandle handle) implements Command {}

  record CancelRequest(long requestId) implements Command {}

  record AskStatus(long correlationId, CompletableFuture<Status> future) implements Command {}

  record Close(CompletableFuture<Void> done) implements Command {}

  private record PendingStatus(CompletableFuture<Status> future, long deadlineNs) {}

  private final ClientContext ctx;
  private final ExclusivePublication ingress;
  private final Subscription egress;
  private final Connect connect;
  private final ProtocolCodec codec = new ProtocolCodec();
  private final ExpandableDirectByteBuffer buffer = new ExpandableDirectByteBuffer(1024);
  private final FragmentAssembler assembler = new FragmentAssembler(this::onFragment);
  private final ManyToOneConcurrentLinkedQueue<Command> commands = new ManyToOneConcurrentLinkedQueue<>();
  private final ArrayDeque<ClientMessage> outbox = new ArrayDeque<>();
  private final Long2ObjectHashMap<RequestHandle> requests = new Long2ObjectHashMap<>();
  private final Map<Long, PendingStatus> statuses = new HashMap<>();
  private final CompletableFuture<ConnectAck> connected = new CompletableFuture<>();

  private State state = State.CONNECTING;
  private long sessionId;
  private long heartbeatIntervalNs;
  private long connectDeadlineNs;
  private long lastSentNs;
  private long lastReceivedNs;
  private long nowNs;
  /** Length of outbox.peekFirst() already encoded in buffer, or -1. */
  private int headLength = -1;
  private volatile boolean closed;
  private ClientException closeCause;

  ClientAgent(ClientContext ctx, ExclusivePublication ingress, Subscription egress, Connect connect) {
    this.ctx = ctx;
    this.ingress = ingress;
    this.egress = egress;
    this.connect = connect;
    this.heartbeatIntervalNs = ctx.heartbeatIntervalNs();
  }

  CompletableFuture<ConnectAck> connected() {
    return connected;
  }

  /** Queues a command from any thread; false when the agent has closed. */
  boolean enqueue(Command c) {
    if (closed) return false;
    commands.offer(c);
    return true;
  }

  @Override
  public String roleName() {
    return "scorestream-client-" + ctx.clientName();
  }

  @Override
  public void onStart() {
    nowNs = System.nanoTime();
    connectDeadlineNs = nowNs + ctx.connectTimeoutNs();
    lastReceivedNs = nowNs;
    outbox.add(connect);
  }

  @Override
  public int doWork() {
    nowNs = System.nanoTime();
    int work = drainCommands();
    work += egress.poll(assembler, ctx.fragmentLimit());
    work += flush();
    work += checkTimers();
    return work;
  }

  @Override
  public void onClose() {
    shutdown(new ClientException("the client closed"));
  }

  private int drainCommands() {
    int work = 0;
    Command c;
    while ((c = commands.poll()) != null) {
      work++;
      if (c instanceof Submit s) {
        RequestHandle h = s.handle();
        if (state != State.CONNECTED) {
          h.fail(notConnected());
        } else if (requests.containsKey(h.requestId())) {
          h.fail(new ClientException("request id " + h.requestId() + " is already running"));
        } else {
          requests.put(h.requestId(), h);
          GenerateRequest r = h.request();
          outbox.add(r.withIds(sessionId, r.requestId()));
        }
      } else if (c instanceof CancelRequest x) {
        if (state == State.CONNECTED && requests.containsKey(x.requestId())) {
          outbox.add(new Cancel(sessionId, x.requestId()));
        }
      } else if (c instanceof AskStatus a) {
        if (state != State.CONNECTED) {
          a.future().completeExceptionally(notConnected());
        } else {
          statuses.put(a.correlationId(), new PendingStatus(a.future(), nowNs + ctx.responseTimeoutNs()));
          outbox.add(new StatusRequest(sessionId, a.correlationId()));
        }
      } else if (c instanceof Close close) {
        if (state == State.CONNECTED) {
          // Best effort, one try: the server would drop us after its liveness timeout anyway.
          int length = codec.encode(new Disconnect(sessionId, "client closed"), buffer, 0);
          ingress.offer(buffer, 0, length);
          headLength = -1;
        }
        shutdown(new ClientException("the client closed"));
        close.done().complete(null);
      }
    }
    return work;
  }

  /** Offers queued messages in order until one is back-pressured. */
  private int flush() {
    int work = 0;
    while (!outbox.isEmpty() && state != State.CLOSED) {
      if (headLength < 0) headLength = codec.encode(outbox.peekFirst(), buffer, 0);
      long result = ingress.offer(buffer, 0, headLength);
      if (result > 0) {
        outbox.pollFirst();
        headLength = -1;
        lastSentNs = nowNs;
        work++;
      } else if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED) {
        shutdown(new ClientException("the ingress publication closed (" + result + ")"));
      } else {
        break; // NOT_CONNECTED, BACK_PRESSURED, ADMIN_ACTION: try again next duty cycle
      }
    }
    return work;
  }

  private int checkTimers() {
    if (state == State.CONNECTING) {
      if (nowNs - connectDeadlineNs > 0) {
        String why = ingress.isConnected() ? "no ConnectAck" : "the ingress " + ctx.ingressChannel() + " stream "
            + ctx.ingressStreamId() + " has no subscriber";
        shutdown(new ClientException("connect timed out: " + why, new TimeoutException()));
        return 1;
      }
      return 0;
    }
    if (state != State.CONNECTED) return 0;
    int work = 0;
    if (nowNs - lastReceivedNs > ctx.serverTimeoutNs()) {
      shutdown(new ClientException("the server was silent for " + (nowNs - lastReceivedNs) / 1_000_000 + " ms"));
      return 1;
    }
    if (nowNs - lastSentNs >= heartbeatIntervalNs && outbox.isEmpty()) {
      outbox.add(new Heartbeat(sessionId, nowNs));
      work++;
    }
    if (!statuses.isEmpty()) {
      List<Long> expired = null;
      for (Map.Entry<Long, PendingStatus> e : statuses.entrySet()) {
        if (nowNs - e.getValue().deadlineNs() > 0) {
          if (expired == null) expired = new ArrayList<>();
          expired.add(e.getKey());
        }
      }
      if (expired != null) {
        for (long id : expired) {
          statuses.remove(id).future().completeExceptionally(new ClientException("no Status within "
              + ctx.responseTimeoutNs() / 1_000_000 + " ms", new TimeoutException()));
        }
        work++;
      }
    }
    return work;
  }

  private void onFragment(DirectBuffer buf, int offset, int length, Header header) {
    Message m;
    try {
      m = codec.decode(buf, offset, length);
    } catch (ProtocolException e) {
      ctx.errorHandler().onError(e);
      return;
    }
    if (m instanceof ConnectAck a) {
      if (state == State.CONNECTING && a.correlationId() == connect.correlationId()) {
        sessionId = a.sessionId();
        if (a.heartbeatIntervalNs() > 0) heartbeatIntervalNs = Math.min(heartbeatIntervalNs, a.heartbeatIntervalNs());
        lastReceivedNs = nowNs;
        state = State.CONNECTED;
        connected.complete(a);
      }
      return;
    }
    if (m instanceof ConnectRejected r) {
      if (state == State.CONNECTING && r.correlationId() == connect.correlationId()) {
        shutdown(new ClientException(r.code(), r.message(), null));
      }
      return;
    }
    if (state != State.CONNECTED) return;
    if (m instanceof RequestEvent e) {
      if (e.sessionId() != sessionId) return; // another session's egress on a shared stream
      lastReceivedNs = nowNs;
      RequestHandle h = requests.get(e.requestId());
      if (h == null) return;
      if (e instanceof Preview p) {
        h.onPreview(p, nowNs);
      } else if (e instanceof Accepted a) {
        h.onAccepted(a, nowNs);
      } else if (e instanceof ResultPart part) {
        h.onPart(part);
      } else if (e instanceof Terminal t) {
        requests.remove(e.requestId());
        h.onTerminal(t, nowNs);
      }
    } else if (m instanceof Heartbeat hb) {
      if (hb.sessionId() == sessionId) lastReceivedNs = nowNs;
    } else if (m instanceof Status s) {
      if (s.sessionId() != sessionId) return;
      lastReceivedNs = nowNs;
      PendingStatus p = statuses.remove(s.correlationId());
      if (p != null) p.future().complete(s);
    } else if (m instanceof Disconnect d) {
      if (d.sessionId() == sessionId) shutdown(new ClientException("the server disconnected: " + d.reason()));
    } else if (m instanceof ProtocolError pe) {
      if (pe.sessionId() == sessionId || pe.sessionId() == 0) {
        ctx.errorHandler().onError(new ClientException("the server refused a frame: " + pe.code() + " "
            + pe.message()));
      }
    }
  }

  private ClientException notConnected() {
    return closeCause != null ? closeCause : new ClientException("not connected");
  }

  /** Fails everything pending with cause; idempotent. Commands queued later are failed as they are drained. */
  private void shutdown(ClientException cause) {
    if (state == State.CLOSED) return;
    state = State.CLOSED;
    closeCause = cause;
    closed = true;
    connected.completeExceptionally(cause);
    for (RequestHandle h : requests.values()) h.fail(cause);
    requests.clear();
    for (PendingStatus p : statuses.values()) p.future().completeExceptionally(cause);
    statuses.clear();
    outbox.clear();
    Command c;
    while ((c = commands.poll()) != null) {
      if (c instanceof Submit s) s.handle().fail(cause);
      else if (c instanceof AskStatus a) a.future().completeExceptionally(cause);
      else if (c instanceof Close close) close.done().complete(null);
    }
  }

  boolean isConnected() {
    return !closed && connected.isDone() && !connected.isCompletedExceptionally();
  }
}
