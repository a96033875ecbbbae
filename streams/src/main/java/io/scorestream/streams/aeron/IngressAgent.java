package io.scorestream.streams.aeron;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.stream.SharedKillSwitch;
import akka.stream.javadsl.Sink;
import io.aeron.Aeron;
import io.aeron.ChannelUri;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.logbuffer.Header;
import io.scorestream.actors.ScoreStream;
import io.scorestream.protocol.Cancel;
import io.scorestream.protocol.ClientMessage;
import io.scorestream.protocol.Connect;
import io.scorestream.protocol.ConnectAck;
import io.scorestream.protocol.ConnectRejected;
import io.scorestream.protocol.Disconnect;
import io.scorestream.protocol.ErrorCode;
import io.scorestream.protocol.Failed;
import io.scorestream.protocol.GenerateRequest;
import io.scorestream.protocol.Heartbeat;
import io.scorestream.protocol.Message;
import io.scorestream.protocol.PreviewEncoding;
import io.scorestream.protocol.Protocol;
import io.scorestream.protocol.ProtocolCodec;
import io.scorestream.protocol.ProtocolError;
import io.scorestream.protocol.ProtocolErrorCode;
import io.scorestream.protocol.ProtocolException;
import io.scorestream.protocol.Rejected;
import io.scorestream.protocol.Status;
import io.scorestream.protocol.StatusRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's receiving side: polls every ingress subscription through its own FragmentAssembler, decodes each
 * message, and acts on it: opens sessions (checking the shared secret), hands requests to the node
 * ({@code api.submit(...)} run into a sink that waits on the egress agent, so previews conflate while a client's
 * publication is back-pressured), cancels, answers status. A malformed frame is answered with a ProtocolError when
 * its sender has a session and changes nothing else. It also enforces liveness: a session silent past the timeout
 * is dropped and its running requests cancelled.
 *
 * <p>Session maps are confined to the agent's thread; request streams run on the actor system's dispatcher.
 */
final class IngressAgent implements Agent {
  private static final Logger log = LoggerFactory.getLogger(IngressAgent.class);
  private static final int FRAGMENT_LIMIT = 32;
  private static final long LIVENESS_CHECK_NS = 10_000_000L;

  private final ScoreStream api;
  private final ActorSystem<?> system;
  private final AeronSettings settings;
  private final NodeInfo node;
  private final Aeron aeron;
  private final List<Subscription> subscriptions;
  private final FragmentAssembler[] assemblers;
  private final EgressAgent egress;
  private final GatewayCounters counters;
  private final SharedKillSwitch killSwitch;
  private final byte[] secret;
  private final long livenessTimeoutNs;
  private final ProtocolCodec codec = new ProtocolCodec();
  private final SecureRandom random = new SecureRandom();
  private final Long2ObjectHashMap<ClientSession> bySession = new Long2ObjectHashMap<>();
  private final Long2ObjectHashMap<ClientSession> byImage = new Long2ObjectHashMap<>();
  private long nowNs;
  private long lastThrottleLogNs = Long.MIN_VALUE / 2;
  private final TokenBucket connectTokens;
  private long nextLivenessCheckNs;

  IngressAgent(ScoreStream api, AeronSettings settings, NodeInfo node, Aeron aeron, List<Subscription> subscriptions,
               EgressAgent egress, GatewayCounters counters, SharedKillSwitch killSwitch) {
    this.api = api;
    this.system = api.system();
    this.settings = settings;
    this.connectTokens = new TokenBucket(settings.connectRate(), settings.connectBurst(), System.nanoTime());
    this.node = node;
    this.aeron = aeron;
    this.subscriptions = List.copyOf(subscriptions);
    this.egress = egress;
    this.counters = counters;
    this.killSwitch = killSwitch;
    this.secret = settings.sharedSecret().getBytes(StandardCharsets.UTF_8);
    this.livenessTimeoutNs = settings.clientLivenessTimeout().toNanos();
    this.assemblers = new FragmentAssembler[subscriptions.size()];
    for (int i = 0; i < assemblers.length; i++) {
      final int channel = i;
      assemblers[i] = new FragmentAssembler((buffer, offset, length, header) ->
          onFragment(channel, buffer, offset, length, header));
    }
  }

  @Override
  public String roleName() {
    return "scorestream-aeron-ingress";
  }

  @Override
  public int doWork() {
    nowNs = System.nanoTime();
    int work = 0;
    for (int i = 0; i < assemblers.length; i++) work += subscriptions.get(i).poll(assemblers[i], FRAGMENT_LIMIT);
    if (nowNs - nextLivenessCheckNs >= 0) {
      nextLivenessCheckNs = nowNs + LIVENESS_CHECK_NS;
      work += checkLiveness();
    }
    return work;
  }

  @Override
  public void onClose() {
    for (ClientSession s : new ArrayList<>(bySession.values())) drop(s, "the gateway is stopping");
  }

  private void onFragment(int channel, DirectBuffer buffer, int offset, int length, Header header) {
    long imageKey = ((long) channel << 32) | (header.sessionId() & 0xFFFF_FFFFL);
    if (length > settings.maxMessageLength()) {
      malformed(imageKey, ProtocolErrorCode.TOO_LARGE, "a frame of " + length + " bytes, the limit is "
          + settings.maxMessageLength());
      return;
    }
    Message m;
    try {
      m = codec.decode(buffer, offset, length);
    } catch (ProtocolException e) {
      malformed(imageKey, e.code(), e.getMessage());
      return;
    }
    if (m instanceof Connect c) {
      onConnect(imageKey, c);
      return;
    }
    if (!(m instanceof ClientMessage cm)) {
      unexpected(imageKey, ProtocolErrorCode.UNEXPECTED, m.getClass().getSimpleName() + " is not a client message");
      return;
    }
    long sessionId = sessionIdOf(cm);
    ClientSession s = bySession.get(sessionId);
    if (s == null || s.imageKey != imageKey) {
      unexpected(imageKey, ProtocolErrorCode.UNKNOWN_SESSION, "no session " + Long.toHexString(sessionId)
          + " on this publication");
      return;
    }
    s.lastSeenNs = nowNs;
    if (m instanceof GenerateRequest r) {
      onGenerate(s, r);
    } else if (m instanceof Cancel x) {
      String nodeId = s.requests.get(x.requestId());
      if (nodeId != null) api.cancel(nodeId);
    } else if (m instanceof StatusRequest q) {
      onStatus(s, q);
    } else if (m instanceof Disconnect) {
      counters.disconnects.incrementAndGet();
      drop(s, "the client disconnected");
    }
    // Heartbeat: lastSeenNs is all it is for.
  }

  private static long sessionIdOf(ClientMessage m) {
    if (m instanceof Heartbeat h) return h.sessionId();
    if (m instanceof GenerateRequest r) return r.sessionId();
    if (m instanceof Cancel c) return c.sessionId();
    if (m instanceof StatusRequest s) return s.sessionId();
    if (m instanceof Disconnect d) return d.sessionId();
    return 0;
  }

  private void onConnect(long imageKey, Connect c) {
    if (!connectTokens.take(nowNs)) {
      // Answering would open the very publication a flood is made to exhaust: drop, count, log at most once a second.
      long n = counters.connectsThrottled.incrementAndGet();
      if (nowNs - lastThrottleLogNs >= 1_000_000_000L) {
        lastThrottleLogNs = nowNs;
        log.warn("Connect flood: {} Connects dropped so far past connect-rate {}/s (burst {})", n,
            settings.connectRate(), settings.connectBurst());
      }
      return;
    }
    boolean secretOk = MessageDigest.isEqual(secret, c.secret().getBytes(StandardCharsets.UTF_8));
    ExclusivePublication publication;
    try {
      // Checked here first, so a garbled channel does not even reach the driver.
      ChannelUri uri = ChannelUri.parse(c.egressChannel());
      if (!uri.isIpc() && !uri.isUdp()) throw new IllegalArgumentException("media must be ipc or udp");
      publication = aeron.addExclusivePublication(c.egressChannel(), c.egressStreamId());
    } catch (RuntimeException e) {
      // Nowhere to answer: the channel is malformed or the driver refused it.
      counters.connectsRejected.incrementAndGet();
      log.info("refused a Connect from {}: egress {} stream {}: {}", c.clientName(), c.egressChannel(),
          c.egressStreamId(), e.getMessage());
      return;
    }
    ErrorCode refusal = null;
    String why = null;
    ClientSession previous = byImage.get(imageKey);
    if (!secretOk) {
      refusal = ErrorCode.UNAUTHENTICATED;
      why = "wrong shared secret";
    } else if (bySession.size() >= settings.maxClients() && previous == null) {
      refusal = ErrorCode.OVERLOADED;
      why = "the gateway has " + bySession.size() + " clients, its max-clients";
    }
    if (refusal != null) {
      counters.connectsRejected.incrementAndGet();
      log.info("refused a Connect from {}: {}", c.clientName(), why);
      egress.reply(publication, new ConnectRejected(c.correlationId(), refusal, why), nowNs + livenessTimeoutNs);
      return;
    }
    if (previous != null) drop(previous, "replaced by a new Connect on the same publication");
    long sessionId;
    do {
      sessionId = random.nextLong();
    } while (sessionId == 0 || bySession.containsKey(sessionId));
    ClientSession s = new ClientSession(sessionId, imageKey, c.clientName(), publication,
        settings.maxMessageLength(), nowNs);
    bySession.put(sessionId, s);
    byImage.put(imageKey, s);
    counters.connects.incrementAndGet();
    counters.clients.set(bySession.size());
    egress.addClient(s);
    egress.send(s, new ConnectAck(c.correlationId(), sessionId, settings.heartbeatInterval().toNanos(),
        livenessTimeoutNs, s.maxMessageLength, node.dim(), node.sde()));
    log.info("{} connected, egress {} stream {}", s, c.egressChannel(), c.egressStreamId());
  }

  private void onGenerate(ClientSession s, GenerateRequest r) {
    long requestId = r.requestId();
    if (!r.sde().isEmpty() && !node.matches(r.model(), r.sde())) {
      egress.send(s, new Rejected(s.sessionId, requestId, ErrorCode.INVALID_ARGUMENT, "the node serves "
          + (r.model().isEmpty() ? "" : "model " + r.model() + " with ") + "the " + node.sdeOf(r.model())
          + " SDE, not " + Protocol.truncate(r.sde()), 0));
      return;
    }
    String nodeId = "aeron-" + Long.toHexString(s.sessionId) + "-" + Long.toUnsignedString(requestId);
    if (s.requests.putIfAbsent(requestId, nodeId) != null) {
      egress.send(s, new Rejected(s.sessionId, requestId, ErrorCode.INVALID_ARGUMENT, "request id " + requestId
          + " is already running in this session", 0));
      return;
    }
    counters.requests.incrementAndGet();
    PreviewEncoding encoding = r.previewEncoding();
    long sessionId = s.sessionId;
    int maxLength = s.maxMessageLength;
    api.submit(EventMapper.toNode(r, nodeId))
        .via(killSwitch.flow())
        .mapAsync(1, e -> egress.deliver(s, EventMapper.toWire(sessionId, requestId, e, encoding, maxLength)))
        .runWith(Sink.<Done>ignore(), system)
        .whenComplete((done, failure) -> {
          s.requests.remove(requestId, nodeId);
          if (failure != null && !s.gone && !(failure instanceof GatewayStopping)) {
            log.warn("{}: request {} failed in the gateway: {}", s, requestId, failure.toString());
            egress.send(s, new Failed(sessionId, requestId, ErrorCode.INTERNAL,
                Protocol.truncate("the gateway failed: " + failure)));
          }
        });
  }

  private void onStatus(ClientSession s, StatusRequest q) {
    api.status().thenCombine(api.versions(), (st, versions) -> new Status(s.sessionId, q.correlationId(),
            st.queuedRequests(), st.activeRequests(), st.activeChains(),
            (int) st.samplers().stream().filter(v -> v.alive()).count(), st.chainSteps(), st.accepted(),
            st.rejected(), st.ended(), versions.current().map(v -> v.version()).orElse(0L)))
        .whenComplete((status, failure) -> {
          if (status != null) egress.send(s, status);
          else log.warn("{}: status failed: {}", s, String.valueOf(failure));
        });
  }

  private int checkLiveness() {
    List<ClientSession> dead = null;
    for (ClientSession s : bySession.values()) {
      if (nowNs - s.lastSeenNs > livenessTimeoutNs || s.egressFailed) {
        if (dead == null) dead = new ArrayList<>();
        dead.add(s);
      }
    }
    if (dead == null) return 0;
    for (ClientSession s : dead) {
      counters.clientsDropped.incrementAndGet();
      String reason = s.egressFailed ? "its egress publication closed"
          : "silent for " + (nowNs - s.lastSeenNs) / 1_000_000 + " ms, past the liveness timeout";
      log.info("dropping {}: {}", s, reason);
      drop(s, reason);
    }
    return dead.size();
  }

  /** Forgets the session, cancels its running requests and lets the egress agent say goodbye. */
  private void drop(ClientSession s, String reason) {
    bySession.remove(s.sessionId);
    if (byImage.get(s.imageKey) == s) byImage.remove(s.imageKey);
    s.gone = true;
    int cancelled = 0;
    for (String nodeId : s.requests.values()) {
      api.cancel(nodeId);
      cancelled++;
    }
    counters.cancelledOnDrop.addAndGet(cancelled);
    counters.clients.set(bySession.size());
    egress.removeClient(s, reason);
  }

  private void malformed(long imageKey, ProtocolErrorCode code, String message) {
    counters.malformedFrames.incrementAndGet();
    answer(imageKey, code, message);
  }

  private void unexpected(long imageKey, ProtocolErrorCode code, String message) {
    counters.unexpectedFrames.incrementAndGet();
    answer(imageKey, code, message);
  }

  private void answer(long imageKey, ProtocolErrorCode code, String message) {
    ClientSession s = byImage.get(imageKey);
    if (s != null) egress.send(s, new ProtocolError(s.sessionId, code, Protocol.truncate(message)));
  }

  /** The failure of request streams aborted because the gateway is stopping. */
  static final class GatewayStopping extends RuntimeException {
    private static final long serialVersionUID = 1L;

    GatewayStopping() {
      super("the gateway is stopping", null, false, false);
    }
  }
}
