package io.scorestream.streams.aeron;

import akka.stream.KillSwitches;
import akka.stream.SharedKillSwitch;
import io.aeron.Aeron;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.scorestream.actors.ScoreStream;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Aeron gateway of a node: clients speak the SBE protocol of io.scorestream.protocol (e.g. through
 * {@code ScoreStreamClient}) on one or more ingress channels; each gets its events on its own egress publication.
 * It runs an embedded media driver (SHARED threading, backing-off idle, so it leaves the cores to the samplers) or
 * uses an external one, and two Agrona agents, each on its own thread under an {@link AgentRunner}: an
 * {@link IngressAgent} that decodes and acts, and an {@link EgressAgent} that sends.
 *
 * <p>{@link #start} returns a running gateway; {@link #close()} tells every client (Disconnect), cancels their
 * running requests, stops the agents and the driver, and deletes the driver's directory. Thread-safe.
 */
public final class AeronGateway implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AeronGateway.class);

  private final AeronSettings settings;
  private final MediaDriver driver;
  private final Aeron aeron;
  private final String driverDirectory;
  private final List<String> ingressChannels;
  private final GatewayCounters counters;
  private final SharedKillSwitch killSwitch;
  private final AgentRunner ingressRunner;
  private final AgentRunner egressRunner;
  private boolean closed;

  private AeronGateway(AeronSettings settings, MediaDriver driver, Aeron aeron,
                       String driverDirectory, List<String> ingressChannels, GatewayCounters counters,
                       SharedKillSwitch killSwitch, AgentRunner ingressRunner, AgentRunner egressRunner) {
    this.settings = settings;
    this.driver = driver;
    this.aeron = aeron;
    this.driverDirectory = driverDirectory;
    this.ingressChannels = List.copyOf(ingressChannels);
    this.counters = counters;
    this.killSwitch = killSwitch;
    this.ingressRunner = ingressRunner;
    this.egressRunner = egressRunner;
  }

  /**
   * Starts the gateway in front of api: the driver (when embedded), the subscriptions (UDP endpoints with port 0
   * are bound to a free port, see {@link #ingressChannels()}), and the agents.
   *
   * @throws IllegalStateException when the driver, a subscription or the agents could not start
   */
  public static AeronGateway start(ScoreStream api, AeronSettings settings) {
    NodeInfo node = nodeInfo(api);
    ErrorHandler errors = t -> log.warn("aeron gateway: {}", t.toString(), t);
    MediaDriver driver = null;
    Aeron aeron = null;
    AgentRunner ingressRunner = null;
    AgentRunner egressRunner = null;
    try {
      String dir = settings.driverDirectory();
      if (settings.embeddedDriver()) {
        if (dir.isEmpty()) {
          dir = new File(System.getProperty("java.io.tmpdir"), "scorestream-aeron-" + UUID.randomUUID()).getPath();
        }
        driver = MediaDriver.launch(new MediaDriver.Context()
            .aeronDirectoryName(dir)
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(idle(settings))
            .ipcTermBufferLength(settings.termLength())
            .publicationTermBufferLength(settings.termLength())
            .termBufferSparseFile(true)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .errorHandler(errors));
        dir = driver.aeronDirectoryName();
      }
      aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(dir).errorHandler(errors));
      List<Subscription> subscriptions = new ArrayList<>();
      List<String> channels = new ArrayList<>();
      for (String channel : settings.ingressChannels()) {
        Subscription s = aeron.addSubscription(channel, settings.ingressStreamId());
        subscriptions.add(s);
        channels.add(resolve(s));
      }
      GatewayCounters counters = new GatewayCounters();
      SharedKillSwitch killSwitch = KillSwitches.shared("aeron-gateway");
      EgressAgent egress = new EgressAgent(settings.heartbeatInterval().toNanos(), counters);
      IngressAgent ingress = new IngressAgent(api, settings, node, aeron, subscriptions, egress, counters,
          killSwitch);
      egressRunner = new AgentRunner(idle(settings), errors, null, egress);
      ingressRunner = new AgentRunner(idle(settings), errors, null, ingress);
      AgentRunner.startOnThread(egressRunner);
      AgentRunner.startOnThread(ingressRunner);
      log.info("aeron gateway: driver {}, ingress {} stream {}, node {} dim {}", dir, channels,
          settings.ingressStreamId(), node.sde(), node.dim());
      return new AeronGateway(settings, driver, aeron, dir, channels, counters, killSwitch, ingressRunner,
          egressRunner);
    } catch (RuntimeException | InterruptedException e) {
      if (e instanceof InterruptedException) Thread.currentThread().interrupt();
      CloseHelper.quietCloseAll(ingressRunner, egressRunner, aeron, driver);
      throw new IllegalStateException("the Aeron gateway did not start: " + e.getMessage(), e);
    }
  }

  /** The media driver's directory: clients on this host connect their Aeron client to it for aeron:ipc. */
  public String driverDirectory() {
    return driverDirectory;
  }

  /** The ingress channels, UDP ports resolved (a configured port 0 becomes the bound one). */
  public List<String> ingressChannels() {
    return ingressChannels;
  }

  public int ingressStreamId() {
    return settings.ingressStreamId();
  }

  public AeronSettings settings() {
    return settings;
  }

  /** Counters since start. */
  public GatewayStats stats() {
    return counters.snapshot();
  }

  /** Disconnects every client (their running requests are cancelled), stops the agents and the driver. */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    // The ingress agent drops every session on close (cancelling their requests), then the request streams stop,
    // then the egress agent says goodbye to each client and releases what is left.
    CloseHelper.quietClose(ingressRunner);
    killSwitch.abort(new IngressAgent.GatewayStopping());
    CloseHelper.quietClose(egressRunner);
    CloseHelper.quietClose(aeron);
    CloseHelper.quietClose(driver);
    log.info("aeron gateway stopped: {}", counters.snapshot());
  }

  private static IdleStrategy idle(AeronSettings settings) {
    return new BackoffIdleStrategy(10, 10, 1_000, settings.idleMaxPark().toNanos());
  }

  private static String resolve(Subscription s) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    String resolved;
    while ((resolved = s.tryResolveChannelEndpointPort()) == null) {
      if (System.nanoTime() - deadline > 0) throw new IllegalStateException(s.channel() + " did not bind");
      Thread.sleep(1);
    }
    return resolved;
  }

  /** The node's SDE (ve | vp | subvp) and data dimension, as the facade knows them. */
  private static NodeInfo nodeInfo(ScoreStream api) {
    java.util.Map<String, String> sdes = new java.util.HashMap<>();
    for (io.scorestream.actors.ScoreStreamNode.ServedModel m : api.models()) {
      sdes.put(m.name(), m.sde().kind().name().toLowerCase(Locale.ROOT));
    }
    return new NodeInfo(api.sde().kind().name().toLowerCase(Locale.ROOT), api.dim(), sdes);
  }

}
