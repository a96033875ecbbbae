package io.scorestream.protocol.client;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import io.scorestream.protocol.Connect;
import io.scorestream.protocol.ConnectAck;
import io.scorestream.protocol.GenerateRequest;
import io.scorestream.protocol.Status;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;

/**
 * The Java client of a scorestream node's Aeron gateway. {@link #connect()} opens a session (Connect, then
 * ConnectAck or a {@link ClientException} carrying the server's code); {@link #submit} sends a request and returns
 * its {@link RequestHandle}; events reach the request's {@link RequestListener} on the client's one polling thread
 * (an Agrona agent under an {@link AgentRunner}), which also heartbeats. {@link #close()} says goodbye and releases
 * the thread, the Aeron client and the embedded driver if there is one.
 *
 * <p>Thread-safe: any thread may submit, cancel, ask for status or close.
 *
 * <pre>{@code
 * try (ScoreStreamClient client = ScoreStreamClient.connect(new ClientContext().aeronDirectoryName(dir))) {
 *   RequestHandle h = client.submit(GenerateRequest.of(64, 42, SamplerParams.pc(200)), listener);
 *   Terminal t = h.outcome().get();
 * }
 * }</pre>
 */
public final class ScoreStreamClient implements AutoCloseable {
  private final ClientContext ctx;
  private final AtomicLong nextRequestId = new AtomicLong();
  private final AtomicLong nextCorrelationId = new AtomicLong(ThreadLocalRandom.current().nextLong() & 0xFFFF_FFFFL);
  private EmbeddedDriver driver;
  private Aeron aeron;
  private ClientAgent agent;
  private AgentRunner runner;
  private ConnectAck ack;
  private String egressChannel;
  private volatile boolean closed;

  /** A client with these options, not yet connected. */
  public ScoreStreamClient(ClientContext ctx) {
    this.ctx = ctx.conclude();
  }

  /** A new client, connected. */
  public static ScoreStreamClient connect(ClientContext ctx) {
    return new ScoreStreamClient(ctx).connect();
  }

  /**
   * Starts the transport and the polling thread and opens the session; blocks until ConnectAck.
   *
   * @throws ClientException when the server refuses (with its code), or nothing answers within the connect timeout
   */
  public synchronized ScoreStreamClient connect() {
    if (closed) throw new ClientException("the client is closed");
    if (agent != null) throw new IllegalStateException("already connected");
    try {
      String dir = ctx.aeronDirectoryName();
      if (ctx.embeddedDriver()) {
        driver = EmbeddedDriver.launch(dir, ctx.errorHandler());
        dir = driver.directory();
      }
      Aeron.Context actx = new Aeron.Context().errorHandler(ctx.errorHandler());
      if (dir != null) actx.aeronDirectoryName(dir);
      aeron = Aeron.connect(actx);
      Subscription egress = aeron.addSubscription(ctx.egressChannel(), ctx.egressStreamId());
      egressChannel = resolve(egress);
      ExclusivePublication ingress = aeron.addExclusivePublication(ctx.ingressChannel(), ctx.ingressStreamId());
      Connect connect = new Connect(nextCorrelationId.incrementAndGet(), egressChannel, ctx.egressStreamId(),
          ctx.secret(), ctx.clientName());
      agent = new ClientAgent(ctx, ingress, egress, connect);
      runner = new AgentRunner(ctx.idleStrategy(), ctx.errorHandler(), null, agent);
      AgentRunner.startOnThread(runner);
      ack = agent.connected().get(ctx.connectTimeoutNs() + TimeUnit.SECONDS.toNanos(5), TimeUnit.NANOSECONDS);
      return this;
    } catch (ExecutionException e) {
      close();
      throw e.getCause() instanceof ClientException ce ? ce : new ClientException("connect failed", e.getCause());
    } catch (TimeoutException e) {
      close();
      throw new ClientException("connect timed out", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw new ClientException("interrupted while connecting", e);
    } catch (RuntimeException e) {
      close();
      throw e instanceof ClientException ce ? ce : new ClientException("connect failed: " + e, e);
    }
  }

  /** The egress channel, port resolved: what the server publishes to. */
  private String resolve(Subscription egress) throws InterruptedException {
    long deadline = System.nanoTime() + ctx.connectTimeoutNs();
    while (true) {
      String resolved = egress.tryResolveChannelEndpointPort();
      if (resolved != null) return resolved;
      if (System.nanoTime() - deadline > 0) throw new ClientException("egress " + ctx.egressChannel() + " did not bind");
      Thread.sleep(1);
    }
  }

  /** The server's answer to Connect: session id, heartbeat and liveness, node SDE and dimension. */
  public ConnectAck connectAck() {
    return ack;
  }

  /** The session id, 0 before {@link #connect()}. */
  public long sessionId() {
    return ack == null ? 0 : ack.sessionId();
  }

  /** The egress channel as sent to the server (ephemeral port resolved). */
  public String egressChannel() {
    return egressChannel;
  }

  /** Whether the session is open (connected, not closed, not lost). */
  public boolean isConnected() {
    return !closed && agent != null && agent.isConnected();
  }

  /**
   * Sends the request. A request id of 0 is replaced by the client's next id; the session id is filled in.
   * Events go to listener on the polling thread; the handle's future completes with the terminal event.
   */
  public RequestHandle submit(GenerateRequest request, RequestListener listener) {
    long id = request.requestId() != 0 ? request.requestId() : nextRequestId.incrementAndGet();
    GenerateRequest r = request.withIds(sessionId(), id);
    RequestHandle h = new RequestHandle(this, r, listener == null ? RequestListener.NONE : listener,
        ctx.errorHandler(), System.nanoTime());
    if (closed || agent == null || !agent.enqueue(new ClientAgent.Submit(h))) {
      h.fail(new ClientException(agent == null ? "not connected" : "the client is closed"));
    }
    return h;
  }

  /** The node's status. */
  public CompletableFuture<Status> status() {
    CompletableFuture<Status> f = new CompletableFuture<>();
    if (closed || agent == null
        || !agent.enqueue(new ClientAgent.AskStatus(nextCorrelationId.incrementAndGet(), f))) {
      f.completeExceptionally(new ClientException("not connected"));
    }
    return f;
  }

  void cancel(RequestHandle h) {
    if (!closed && agent != null) agent.enqueue(new ClientAgent.CancelRequest(h.requestId()));
  }

  /** Sends Disconnect (best effort), fails pending requests with a ClientException, releases everything. */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    if (agent != null && runner != null) {
      CompletableFuture<Void> done = new CompletableFuture<>();
      if (agent.enqueue(new ClientAgent.Close(done))) {
        try {
          done.get(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
          // the runner's onClose fails what is left
        }
      }
    }
    CloseHelper.quietClose(runner);
    CloseHelper.quietClose(aeron);
    CloseHelper.quietClose(driver);
  }
}
