package io.scorestream.streams.aeron;

import akka.Done;
import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.scorestream.protocol.Completed;
import io.scorestream.protocol.Disconnect;
import io.scorestream.protocol.ErrorCode;
import io.scorestream.protocol.Failed;
import io.scorestream.protocol.Heartbeat;
import io.scorestream.protocol.Preview;
import io.scorestream.protocol.ProtocolCodec;
import io.scorestream.protocol.ProtocolError;
import io.scorestream.protocol.Protocol;
import io.scorestream.protocol.ResultPart;
import io.scorestream.protocol.ServerMessage;
import io.scorestream.protocol.Terminal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.agrona.CloseHelper;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.ManyToOneConcurrentLinkedQueue;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's sending side: drains a queue of outbound messages (from the ingress agent and from the request
 * streams) into each client's FIFO and offers them to the client's own publication, one client after another, so a
 * client whose publication is back-pressured (it stopped reading) only delays itself. A back-pressured message is
 * retried every duty cycle until it is delivered or its client is gone; a request stream waits on its message's
 * future, so its previews conflate upstream (latest wins) while it waits. Results larger than the client's
 * largest message go out as ResultParts, then a Completed. Heartbeats go to idle clients.
 *
 * <p>All state is confined to the agent's thread except the command queue.
 */
final class EgressAgent implements Agent {
  private static final Logger log = LoggerFactory.getLogger(EgressAgent.class);
  /** Past this many queued messages a client gets no more ProtocolErrors (it sends garbage and does not read). */
  private static final int MAX_PENDING_ERRORS = 256;

  sealed interface Command permits AddClient, RemoveClient, Send, Reply {}

  record AddClient(ClientSession session) implements Command {}

  record RemoveClient(ClientSession session, String reason) implements Command {}

  record Send(ClientSession session, Outbound outbound) implements Command {}

  /** A one-off answer on a publication of its own (a refused Connect), closed once sent or at the deadline. */
  record Reply(ExclusivePublication publication, ServerMessage message, long deadlineNs) implements Command {}

  private enum Offer { DELIVERED, RETRY, FAILED }

  private final long heartbeatIntervalNs;
  private final GatewayCounters counters;
  private final ManyToOneConcurrentLinkedQueue<Command> commands = new ManyToOneConcurrentLinkedQueue<>();
  private final List<ClientSession> clients = new ArrayList<>();
  private final List<Reply> replies = new ArrayList<>();
  private final ProtocolCodec codec = new ProtocolCodec();
  private final ExpandableDirectByteBuffer buffer = new ExpandableDirectByteBuffer(64 * 1024);
  private final UnsafeBuffer retryView = new UnsafeBuffer(new byte[0]);
  private long nowNs;
  private long nextHeartbeatCheckNs;

  EgressAgent(long heartbeatIntervalNs, GatewayCounters counters) {
    this.heartbeatIntervalNs = heartbeatIntervalNs;
    this.counters = counters;
  }

  @Override
  public String roleName() {
    return "scorestream-aeron-egress";
  }

  // ---------------------------------------------------------------------------------- any thread

  void addClient(ClientSession s) {
    commands.offer(new AddClient(s));
  }

  void removeClient(ClientSession s, String reason) {
    commands.offer(new RemoveClient(s, reason));
  }

  /** Queues a control message (no one waits for it). */
  void send(ClientSession s, ServerMessage m) {
    if (!s.gone) commands.offer(new Send(s, new Outbound(m, null)));
  }

  /**
   * Queues a request event; the future completes once it was offered successfully, or at once when the client
   * is gone (nothing more is sent to it) or the message was dropped (null: a preview too large to send).
   */
  CompletableFuture<Done> deliver(ClientSession s, ServerMessage m) {
    if (m == null || s.gone) return CompletableFuture.completedFuture(Done.getInstance());
    CompletableFuture<Done> f = new CompletableFuture<>();
    commands.offer(new Send(s, new Outbound(m, f)));
    return f;
  }

  void reply(ExclusivePublication publication, ServerMessage m, long deadlineNs) {
    commands.offer(new Reply(publication, m, deadlineNs));
  }

  // ---------------------------------------------------------------------------------- agent thread

  @Override
  public int doWork() {
    nowNs = System.nanoTime();
    int work = drain();
    // backwards: a client whose publication closed leaves the list while we walk it
    for (int i = clients.size() - 1; i >= 0; i--) work += flush(clients.get(i));
    work += replies();
    if (nowNs - nextHeartbeatCheckNs >= 0) {
      nextHeartbeatCheckNs = nowNs + Math.max(1_000_000, heartbeatIntervalNs / 4);
      work += heartbeats();
    }
    return work;
  }

  @Override
  public void onClose() {
    // The gateway is stopping: tell every client, then release everything anyone waits on.
    drain();
    for (ClientSession s : clients) finish(s, "the gateway is stopping");
    clients.clear();
    for (Reply r : replies) CloseHelper.quietClose(r.publication());
    replies.clear();
    Command c;
    while ((c = commands.poll()) != null) {
      if (c instanceof Send send) send.outbound().complete();
      else if (c instanceof Reply r) CloseHelper.quietClose(r.publication());
    }
  }

  private int drain() {
    int work = 0;
    Command c;
    while ((c = commands.poll()) != null) {
      work++;
      if (c instanceof Send send) {
        ClientSession s = send.session();
        if (s.gone || !s.registered) {
          send.outbound().complete();
        } else if (send.outbound().message instanceof ProtocolError && s.pending.size() >= MAX_PENDING_ERRORS) {
          // dropped: the client floods us with garbage and does not read the answers
        } else {
          s.pending.addLast(send.outbound());
        }
      } else if (c instanceof AddClient add) {
        add.session().registered = true;
        clients.add(add.session());
      } else if (c instanceof RemoveClient remove) {
        if (remove.session().registered) {
          remove.session().registered = false;
          clients.remove(remove.session());
          finish(remove.session(), remove.reason());
        }
      } else if (c instanceof Reply r) {
        replies.add(r);
      }
    }
    return work;
  }

  /** Offers the client's queued messages in order until one is back-pressured. */
  private int flush(ClientSession s) {
    int work = 0;
    Outbound o;
    while ((o = s.pending.peekFirst()) != null) {
      Offer result = offer(s, o);
      if (result == Offer.DELIVERED) {
        s.pending.pollFirst();
        s.lastSentNs = nowNs;
        if (o.message instanceof Preview) counters.previewsSent.incrementAndGet();
        else if (o.message instanceof Terminal) counters.terminalsSent.incrementAndGet();
        o.complete();
        work++;
      } else if (result == Offer.FAILED) {
        // The publication is closed: nothing more can reach this client. The ingress agent drops it.
        s.egressFailed = true;
        for (Outbound p : s.pending) p.complete();
        s.pending.clear();
        s.registered = false;
        clients.remove(s);
        CloseHelper.quietClose(s.publication);
        log.info("{}: egress publication closed, dropping it", s);
        return work + 1;
      } else {
        break;
      }
    }
    return work;
  }

  private Offer offer(ClientSession s, Outbound o) {
    // Once parts went out, the rest (however short) must follow as a tail Completed, never the whole result.
    if (o.message instanceof Completed c && (o.nextChain > 0 || ProtocolCodec.completedLength(c.count(), c.dim(),
        c.modelVersions().length) > s.maxMessageLength)) {
      return offerInParts(s, o, c);
    }
    if (o.encoded != null) {
      retryView.wrap(o.encoded);
      return result(s.publication.offer(retryView, 0, o.encoded.length));
    }
    int length = codec.encode(o.message, buffer, 0);
    if (length > s.maxMessageLength) {
      log.warn("{}: dropping a {}-byte {} (largest message {})", s, length, o.message.getClass().getSimpleName(),
          s.maxMessageLength);
      return Offer.DELIVERED;
    }
    Offer r = result(s.publication.offer(buffer, 0, length));
    if (r == Offer.RETRY) {
      o.encoded = new byte[length];
      buffer.getBytes(0, o.encoded);
    }
    return r;
  }

  /** Sends the rows of a large result as ResultParts, resuming where a back-pressured offer left off. */
  private Offer offerInParts(ClientSession s, Outbound o, Completed c) {
    int dim = c.dim();
    long[] versions = c.modelVersions();
    int rows = (int) ((s.maxMessageLength - ProtocolCodec.completedLength(0, dim, versions.length))
        / ((long) dim * Double.BYTES));
    if (rows < 1) {
      Failed f = new Failed(c.sessionId(), c.requestId(), ErrorCode.TOO_LARGE, "one sample of " + dim
          + " values exceeds the largest message of " + s.maxMessageLength + " bytes");
      return result(s.publication.offer(buffer, 0, codec.encode(f, buffer, 0)));
    }
    if (o.samples == null) o.samples = c.samples();
    while (c.count() - o.nextChain > rows) {
      double[] part = Arrays.copyOfRange(o.samples, o.nextChain * dim, (o.nextChain + rows) * dim);
      int length = codec.encode(new ResultPart(c.sessionId(), c.requestId(), o.nextChain, dim, part), buffer, 0);
      Offer r = result(s.publication.offer(buffer, 0, length));
      if (r != Offer.DELIVERED) return r;
      counters.resultParts.incrementAndGet();
      o.nextChain += rows;
    }
    double[] last = Arrays.copyOfRange(o.samples, o.nextChain * dim, c.count() * dim);
    Completed tail = new Completed(c.sessionId(), c.requestId(), c.count(), dim, o.nextChain, last, versions,
        c.networkCalls(), c.latencyNs());
    return result(s.publication.offer(buffer, 0, codec.encode(tail, buffer, 0)));
  }

  private static Offer result(long position) {
    if (position > 0) return Offer.DELIVERED;
    if (position == Publication.CLOSED || position == Publication.MAX_POSITION_EXCEEDED) return Offer.FAILED;
    return Offer.RETRY; // NOT_CONNECTED, BACK_PRESSURED, ADMIN_ACTION
  }

  private int replies() {
    int work = 0;
    for (Iterator<Reply> it = replies.iterator(); it.hasNext(); ) {
      Reply r = it.next();
      int length = codec.encode(r.message(), buffer, 0);
      Offer o = result(r.publication().offer(buffer, 0, length));
      if (o != Offer.RETRY || nowNs - r.deadlineNs() > 0) {
        CloseHelper.quietClose(r.publication());
        it.remove();
        work++;
      }
    }
    return work;
  }

  private int heartbeats() {
    int work = 0;
    for (int i = 0, n = clients.size(); i < n; i++) {
      ClientSession s = clients.get(i);
      if (s.pending.isEmpty() && nowNs - s.lastSentNs >= heartbeatIntervalNs && s.publication.isConnected()) {
        int length = codec.encode(new Heartbeat(s.sessionId, nowNs), buffer, 0);
        if (s.publication.offer(buffer, 0, length) > 0) {
          s.lastSentNs = nowNs;
          work++;
        }
      }
    }
    return work;
  }

  /** Says goodbye (one try), releases whatever waits on the client, closes its publication. */
  private void finish(ClientSession s, String reason) {
    if (s.publication.isConnected()) {
      int length = codec.encode(new Disconnect(s.sessionId, Protocol.truncate(reason)), buffer, 0);
      s.publication.offer(buffer, 0, length);
    }
    for (Outbound p : s.pending) p.complete();
    s.pending.clear();
    CloseHelper.quietClose(s.publication);
  }
}
