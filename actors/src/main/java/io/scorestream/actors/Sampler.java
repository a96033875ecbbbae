package io.scorestream.actors;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.PreRestart;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import io.scorestream.config.Batching;
import io.scorestream.config.Preemption;
import io.scorestream.config.SamplerDevice;
import io.scorestream.config.SamplerSettings;
import io.scorestream.model.noise.RowKeys;
import io.scorestream.model.sample.ChainBatch;
import io.scorestream.model.sample.ChainCursor;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.score.ScoreModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One device's sampler: it owns a {@link ChainBatch} whose rows are chains of many requests, each at its own step
 * and noise level, and advances all of them with one network call per tick (Song et al. 2021, algorithm 1 and the
 * probability-flow ODE, per row). Ticks are messages the sampler sends itself while it has rows, so everything else
 * it receives (new chains, cancellations, new weights) is handled between two ticks: at a step boundary.
 *
 * <ul>
 *   <li>New chains ({@link Enqueue}) wait in a pending queue and join at the next tick ({@code continuous}) or when
 *       the batch is empty ({@code static}); the batch never exceeds {@code max-batch-rows}.</li>
 *   <li>After a slice's first tick, and then every {@code previewEvery} steps, it sends the slice's Tweedie
 *       estimates of x0 to its session: a client sees a first preview one tick after its chains join.</li>
 *   <li>Finished chains leave at once; when all chains of a slice are done the samples go to the session with every
 *       model version the slice used. A chain whose state turns NaN or infinite fails its request alone.</li>
 *   <li>{@link SwapWeights} replaces the model between ticks; running chains continue with the new weights.</li>
 *   <li>If a tick throws, the sampler is restarted by its supervisor with an empty batch; before that it hands every
 *       slice it held back to the coordinator, which retries them from their seeds or fails their requests.</li>
 * </ul>
 *
 * <p>Runs on a pinned dispatcher (one thread per sampler): ND4J workspaces and device affinity are per thread. The
 * batch, the model and all arrays are confined to that thread; messages out carry copies.
 */
public final class Sampler extends AbstractBehavior<Sampler.Command> {

  public sealed interface Command
      permits Enqueue, Cancel, Attach, Drain, Release, SwapWeights, GetStatus, Tick, CoordinatorGone {}

  /**
   * Chains [firstChain, firstChain + count) of a request. Chain i draws its prior and noise from the key (seed, i),
   * so a slice computes the same chains wherever it runs and whoever shares its batch.
   *
   * @param previewEvery a preview every this many steps, 0 for none
   * @param session      receives previews, samples and failures
   * @param conditioning the request's labels, guidance and mask (labels are cycled by the global chain index)
   * @param priority     the request's priority: a waiting slice joins the batch before those of lower priority
   */
  public record ChainSlice(String requestId, int firstChain, int count, long seed, SamplerProgram program,
                           int previewEvery, ActorRef<RequestSession.Command> session,
                           io.scorestream.model.sample.Conditioning conditioning, int priority,
                           SliceProgress progress) {
    /** A slice that starts from its chains' priors. */
    public ChainSlice(String requestId, int firstChain, int count, long seed, SamplerProgram program,
                      int previewEvery, ActorRef<RequestSession.Command> session,
                      io.scorestream.model.sample.Conditioning conditioning, int priority) {
      this(requestId, firstChain, count, seed, program, previewEvery, session, conditioning, priority, null);
    }

    public ChainSlice(String requestId, int firstChain, int count, long seed, SamplerProgram program,
                      int previewEvery, ActorRef<RequestSession.Command> session,
                      io.scorestream.model.sample.Conditioning conditioning) {
      this(requestId, firstChain, count, seed, program, previewEvery, session, conditioning, 0);
    }

    public ChainSlice(String requestId, int firstChain, int count, long seed, SamplerProgram program,
                      int previewEvery, ActorRef<RequestSession.Command> session) {
      this(requestId, firstChain, count, seed, program, previewEvery, session,
          io.scorestream.model.sample.Conditioning.NONE);
    }

    public ChainSlice {
      if (conditioning == null) conditioning = io.scorestream.model.sample.Conditioning.NONE;
      if (count < 1) throw new IllegalArgumentException("a slice needs at least one chain, got " + count);
      if (firstChain < 0) throw new IllegalArgumentException("first chain must be >= 0, got " + firstChain);
      if (previewEvery < 0) throw new IllegalArgumentException("preview period must be >= 0, got " + previewEvery);
      if (progress != null && progress.chains() != count) {
        throw new IllegalArgumentException("progress of " + progress.chains() + " chains for a slice of " + count);
      }
    }

    /** This slice resuming from progress (null: from its priors). */
    public ChainSlice withProgress(SliceProgress p) {
      return new ChainSlice(requestId, firstChain, count, seed, program, previewEvery, session, conditioning, priority,
          p);
    }

    /** Its chains [firstChain + offset, firstChain + offset + n), with their part of the progress. */
    public ChainSlice part(int offset, int n) {
      if (offset == 0 && n == count) return this;
      return new ChainSlice(requestId, firstChain + offset, n, seed, program, previewEvery, session, conditioning,
          priority, progress == null ? null : progress.part(offset, n));
    }
  }

  /**
   * A started slice saved at a step boundary: per chain either its state (still running: value, registers, cursor;
   * {@link ChainBatch.ChainState}) or its final sample (finished), with the model versions the slice has used, its
   * finished chains' network calls and where its previews stand. A slice enqueued with its progress continues where
   * it stopped, on this sampler or any other, and ends bit-identical to a slice that never moved (the noise is keyed
   * by seed, chain and the chain's own tick count, which the cursor carries).
   */
  public record SliceProgress(List<ChainBatch.ChainState> states, List<double[]> results, List<Long> versions,
                              long calls, boolean previewed, int nextPreview) {
    public SliceProgress {
      if (states.size() != results.size()) {
        throw new IllegalArgumentException(states.size() + " chain states for " + results.size() + " results");
      }
      for (int i = 0; i < states.size(); i++) {
        if ((states.get(i) == null) == (results.get(i) == null)) {
          throw new IllegalArgumentException("chain " + i + " needs exactly one of a state and a result");
        }
      }
      // Copies that keep their nulls (a finished chain has no state, a running one no result).
      states = java.util.Collections.unmodifiableList(new ArrayList<>(states));
      results = java.util.Collections.unmodifiableList(new ArrayList<>(results));
      versions = List.copyOf(versions);
    }

    public int chains() {
      return states.size();
    }

    /** Chains still running (the rows the slice takes when it resumes). */
    public int running() {
      int n = 0;
      for (ChainBatch.ChainState st : states) if (st != null) n++;
      return n;
    }

    /** The numbers it carries, for sizing messages. */
    public long values() {
      long n = 0;
      for (int i = 0; i < states.size(); i++) {
        ChainBatch.ChainState st = states.get(i);
        n += st == null ? results.get(i).length
            : st.x().length + st.cursor().length + (st.registers() == null ? 0 : st.registers().length);
      }
      return n;
    }

    /** Chains [offset, offset + n); the finished ones' calls stay with the part that starts at 0. */
    public SliceProgress part(int offset, int n) {
      return new SliceProgress(states.subList(offset, offset + n), results.subList(offset, offset + n), versions,
          offset == 0 ? calls : 0, previewed, nextPreview);
    }
  }

  /**
   * Adds a slice; it joins the batch at the next step boundary that has room for it. Its ends are reported to
   * coordinator (which must have attached this sampler; null: the sampler's first coordinator).
   */
  public record Enqueue(ChainSlice slice, ActorRef<Coordinator.Command> coordinator)
      implements Command, ClusterMessage {
    public Enqueue(ChainSlice slice) {
      this(slice, null);
    }
  }

  /**
   * Removes every chain of the request that coordinator routed (null: whoever routed it), running or pending, before
   * the next tick. Request ids are unique per coordinator, not across a cluster's gateways.
   */
  public record Cancel(String requestId, ActorRef<Coordinator.Command> coordinator)
      implements Command, ClusterMessage {
    public Cancel(String requestId) {
      this(requestId, null);
    }

    boolean covers(String id, ActorRef<Coordinator.Command> origin) {
      return requestId.equals(id) && (coordinator == null || coordinator.equals(origin));
    }
  }

  /**
   * A coordinator that found this sampler through the receptionist (a cluster node's, this node's included): the
   * sampler registers with it under slotId, reports its load to it, and drops its chains if it goes away.
   */
  public record Attach(ActorRef<Coordinator.Command> coordinator, int slotId) implements Command, ClusterMessage {}

  /**
   * The member is leaving the cluster: the sampler stops taking chains (it leaves the receptionist, tells its
   * coordinators it is leaving) and hands every slice back to the coordinator that routed it, which routes it to
   * another sampler from its seed (not counted as a retry: same samples); then replyTo gets Done.
   */
  public record Drain(ActorRef<akka.Done> replyTo) implements Command {}

  /**
   * Rebalancing: chains [firstChain, firstChain + count) of a slice that coordinator routed here go back to it with
   * their states at the next step boundary (SlicesAborted, not a retry), for another sampler to continue; the rest of
   * that slice stays here and resumes at once. Ignored if no such slice is here any more, or if it is nearly done
   * (fewer than 20 steps, or a tenth of its steps, left).
   */
  public record Release(String requestId, int firstChain, int count, ActorRef<Coordinator.Command> coordinator)
      implements Command, ClusterMessage {}

  /** Serves this model version from the next tick on (ignored if not newer than the current one). */
  public record SwapWeights(ModelRegistry.ModelVersion version) implements Command {}

  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  /**
   * A sampler's state and counters (counters survive restarts).
   *
   * @param modelVersion      the served version, 0 before the first
   * @param rows              chains in the batch
   * @param pendingChains     chains waiting to join
   * @param ticks             network calls made
   * @param chainSteps        rows advanced, summed over ticks
   * @param lastDistinctLevels distinct noise levels in the last tick's batch
   * @param maxDistinctLevels the most distinct noise levels any tick's batch held
   * @param previews          preview events sent
   * @param restarts          supervision restarts
   * @param busyNanos         time spent in ticks (network call and batch update), summed
   * @param preemptions       running slices set aside (with their state) for a slice of higher priority
   * @param released          chains handed back with their states for rebalancing
   */
  public record Status(int samplerId, String device, long modelVersion, Batching batching, int rows,
                       int runningSlices, int pendingChains, long ticks, long chainSteps, int lastDistinctLevels,
                       int maxDistinctLevels, long previews, int restarts, long busyNanos, long preemptions,
                       long released) {}

  /** The self-sent step; only the sampler sends it. */
  private enum Tick implements Command { INSTANCE }

  /** An attached coordinator stopped, or its node left the cluster. */
  private record CoordinatorGone(ActorRef<Coordinator.Command> coordinator) implements Command {}

  /** The key under which the samplers of the named model register with the receptionist in a cluster. */
  public static ServiceKey<Command> serviceKey(String model) {
    return ServiceKey.create(Command.class, "scorestream-sampler-" + model);
  }

  /** What outlives a restart: the newest model version and the counters. Confined to the sampler's thread. */
  private static final class Durable {
    /** The coordinators this sampler reports to, with the slot id each knows it by. */
    final Map<ActorRef<Coordinator.Command>, Integer> coordinators = new LinkedHashMap<>();
    /** The receptionist key it registered under (cluster mode), and whether it has been drained. */
    ServiceKey<Command> key;
    boolean draining;
    ModelRegistry.ModelVersion latest;
    int restarts;
    long ticks;
    long chainSteps;
    int lastDistinct;
    int maxDistinct;
    long previews;
    long tickNanos;
    long busyNanos;
    long preemptions;
    long released;
  }

  /** A slice in the batch: where its rows' tags start, its gathered samples and preview state. */
  private static final class Running {
    final ChainSlice slice;
    final ActorRef<Coordinator.Command> origin;
    final long tagBase;
    /** Final samples of the finished chains; handed over whole to the session when the slice completes. */
    final double[] samples;
    final boolean[] finished;
    final List<Long> versions = new ArrayList<>(2);
    int live;
    long calls;
    int minStep;
    int totalSteps;
    int nextPreview;
    boolean due;
    boolean emit;
    /** Whether a preview went out: the first one follows the slice's first tick, the next every previewEvery steps. */
    boolean previewed;
    String failure;

    Running(ChainSlice slice, ActorRef<Coordinator.Command> origin, long tagBase, int dim, long version) {
      this.slice = slice;
      this.origin = origin;
      this.tagBase = tagBase;
      this.samples = new double[slice.count() * dim];
      this.finished = new boolean[slice.count()];
      this.live = slice.count();
      this.nextPreview = slice.previewEvery();
      SliceProgress p = slice.progress();
      if (p != null) {
        // Resumed: its finished chains' samples, its versions (this one appended if it differs), calls and previews.
        for (int c = 0; c < finished.length; c++) {
          double[] x = p.results().get(c);
          if (x == null) continue;
          System.arraycopy(x, 0, samples, c * dim, dim);
          finished[c] = true;
          live--;
        }
        versions.addAll(p.versions());
        calls = p.calls();
        previewed = p.previewed();
        nextPreview = p.nextPreview();
      }
      if (versions.isEmpty() || versions.get(versions.size() - 1) != version) versions.add(version);
    }

    boolean owns(long tag) {
      return tag >= tagBase && tag < tagBase + slice.count();
    }
  }

  /** A slice waiting to join, with the coordinator that routed it. */
  private record Queued(ChainSlice slice, ActorRef<Coordinator.Command> origin) {}

  /** A sampler with a fixed first model (it still accepts {@link SwapWeights} sent to it). */
  public static Behavior<Command> create(SamplerSettings settings, int samplerId, SamplerDevice device,
                                         ActorRef<Coordinator.Command> coordinator,
                                         ModelRegistry.ModelVersion initial) {
    return create(settings, samplerId, device, coordinator, initial, null);
  }

  /** A sampler that subscribes to the registry and serves its current version. */
  public static Behavior<Command> create(SamplerSettings settings, int samplerId, SamplerDevice device,
                                         ActorRef<Coordinator.Command> coordinator,
                                         ActorRef<ModelRegistry.Command> registry) {
    return create(settings, samplerId, device, coordinator, null, registry);
  }

  /**
   * A cluster's sampler: it registers under key with the receptionist and serves every coordinator that attaches
   * it ({@link Attach}), on this node or another; where names it in the coordinators' views (e.g. its node).
   */
  public static Behavior<Command> create(SamplerSettings settings, int samplerId, SamplerDevice device, String where,
                                         ServiceKey<Command> key, ActorRef<ModelRegistry.Command> registry) {
    return create(settings, samplerId, device, device + "@" + where, null, key, null, registry);
  }

  private static Behavior<Command> create(SamplerSettings settings, int samplerId, SamplerDevice device,
                                          ActorRef<Coordinator.Command> coordinator,
                                          ModelRegistry.ModelVersion initial,
                                          ActorRef<ModelRegistry.Command> registry) {
    return create(settings, samplerId, device, device.toString(), coordinator, null, initial, registry);
  }

  private static Behavior<Command> create(SamplerSettings settings, int samplerId, SamplerDevice device,
                                          String label, ActorRef<Coordinator.Command> coordinator,
                                          ServiceKey<Command> key, ModelRegistry.ModelVersion initial,
                                          ActorRef<ModelRegistry.Command> registry) {
    // The outer setup runs once per spawned actor; the supervised inner one again after every restart.
    return Behaviors.setup(outer -> {
      Durable durable = new Durable();
      durable.latest = initial;
      if (coordinator != null) durable.coordinators.put(coordinator, samplerId);
      durable.key = key;
      if (key != null) outer.getSystem().receptionist().tell(Receptionist.register(key, outer.getSelf()));
      return Behaviors.supervise(Behaviors.<Command>setup(
              ctx -> new Sampler(ctx, settings, samplerId, device, label, registry, durable)))
          .onFailure(Exception.class,
              SupervisorStrategy.restart().withLimit(settings.maxRestarts(), settings.restartWindow()));
    });
  }

  private final SamplerSettings settings;
  private final int samplerId;
  private final SamplerDevice device;
  /** The device, and in a cluster the node, as coordinators show it. */
  private final String label;
  private final Durable durable;
  /** Slices waiting to join, highest priority first, in arrival order within a priority. */
  private final java.util.LinkedList<Queued> pending = new java.util.LinkedList<>();
  private final TreeMap<Long, Running> byTag = new TreeMap<>();
  private final Map<String, List<Running>> byRequest = new HashMap<>();
  private VersionedModel model;
  private ChainBatch batch;
  private int pendingChains;
  private Running[] rowOwner = new Running[0];
  private boolean ownersDirty;
  private long nextTag;
  private boolean tickScheduled;
  private boolean versionChanged;
  private int ticksSinceReport;
  private long lastCheckpointNanos = System.nanoTime();
  private String failure;

  private Sampler(ActorContext<Command> ctx, SamplerSettings settings, int samplerId, SamplerDevice device,
                  String label, ActorRef<ModelRegistry.Command> registry, Durable durable) {
    super(ctx);
    this.settings = settings;
    this.samplerId = samplerId;
    this.device = device;
    this.label = label;
    this.durable = durable;
    if (device.kind() == SamplerDevice.Kind.GPU) {
      // Binds this (pinned) thread to the device: every array the sampler allocates lives there.
      Nd4j.getAffinityManager().unsafeSetDevice(device.index());
    }
    if (durable.latest != null) install(durable.latest);
    if (registry != null) {
      registry.tell(new ModelRegistry.Subscribe(ctx.messageAdapter(ModelRegistry.ModelVersion.class,
          SwapWeights::new)));
    }
    if (!durable.draining) {
      durable.coordinators.forEach((c, slot) -> c.tell(new Coordinator.RegisterSampler(slot, label, ctx.getSelf(),
          settings.maxBatchRows(), preempts(settings))));
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Enqueue.class, this::onEnqueue)
        .onMessage(Cancel.class, this::onCancel)
        .onMessage(Attach.class, this::onAttach)
        .onMessage(Drain.class, this::onDrain)
        .onMessage(Release.class, this::onRelease)
        .onMessage(CoordinatorGone.class, this::onCoordinatorGone)
        .onMessage(SwapWeights.class, this::onSwapWeights)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onSignal(PreRestart.class, signal -> onPreRestart())
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  // ---- Messages ----

  private Behavior<Command> onEnqueue(Enqueue e) {
    ChainSlice s = e.slice();
    ActorRef<Coordinator.Command> origin = e.coordinator() != null ? e.coordinator()
        : durable.coordinators.keySet().stream().findFirst().orElse(null);
    if (origin == null || !durable.coordinators.containsKey(origin)) {
      // Only an attached coordinator routes here; a stray slice fails loudly instead of running unaccounted.
      s.session().tell(new RequestSession.SliceFailed(s.requestId(), s.firstChain(), s.count(), ErrorCode.INTERNAL,
          "sampler " + label + " was not attached by the coordinator that routed this slice"));
      return this;
    }
    if (durable.draining) {
      // Routed before the coordinator heard that this sampler is leaving: back at once, to run elsewhere.
      origin.tell(new Coordinator.SlicesAborted(durable.coordinators.get(origin),
          List.of(new Coordinator.AbortedSlice(s, false)), "sampler " + label + " is leaving"));
      return this;
    }
    if (rowsOf(s) > settings.maxBatchRows()) {
      // The coordinator never routes such a slice; refuse it loudly rather than let it wait forever.
      s.session().tell(new RequestSession.SliceFailed(s.requestId(), s.firstChain(), s.count(), ErrorCode.INTERNAL,
          "slice of " + s.count() + " chains exceeds max-batch-rows " + settings.maxBatchRows()));
      origin.tell(new Coordinator.SliceEnded(durable.coordinators.get(origin), s.requestId(), s.firstChain(),
          s.count()));
      return this;
    }
    enqueue(new Queued(s, origin));
    scheduleTick();
    return this;
  }

  private Behavior<Command> onAttach(Attach a) {
    if (durable.draining) return this;
    if (durable.coordinators.putIfAbsent(a.coordinator(), a.slotId()) == null) {
      getContext().watchWith(a.coordinator(), new CoordinatorGone(a.coordinator()));
    } else {
      // Attached again: that coordinator saw this sampler terminated and has routed its slices elsewhere.
      int dropped = dropSlicesOf(a.coordinator());
      if (dropped > 0) {
        getContext().getLog().warn("sampler {}: attached again by {}; dropped its {} written-off slices", label,
            a.coordinator(), dropped);
      }
    }
    a.coordinator().tell(new Coordinator.RegisterSampler(durable.coordinators.get(a.coordinator()), label,
        getContext().getSelf(), settings.maxBatchRows(), preempts(settings)));
    reportLoad();
    return this;
  }

  private Behavior<Command> onDrain(Drain d) {
    if (!durable.draining) {
      durable.draining = true;
      if (durable.key != null) {
        getContext().getSystem().receptionist().tell(Receptionist.deregister(durable.key, getContext().getSelf()));
      }
      durable.coordinators.forEach((c, slot) -> c.tell(new Coordinator.SamplerLeaving(slot)));
      // Each running slice goes back with its chains' states and continues elsewhere where it stopped: not a retry.
      handBack("sampler " + label + " is leaving", false, true);
      if (batch != null) batch.remove(tag -> true);
      rowOwner = new Running[0];
      ownersDirty = false;
    }
    d.replyTo().tell(akka.Done.done());
    return this;
  }

  /** Whether this sampler sets lower-priority chains aside for higher ones (what the coordinator may count on). */
  private static boolean preempts(SamplerSettings settings) {
    return settings.batching() == Batching.CONTINUOUS && settings.preemption() != Preemption.OFF;
  }

  private Behavior<Command> onRelease(Release m) {
    // With static batching the rest of the slice could only resume once the whole batch has finished.
    if (settings.batching() == Batching.STATIC) return this;
    ActorRef<Coordinator.Command> origin = m.coordinator();
    ChainSlice saved = null;
    for (Running r : byRequest.getOrDefault(m.requestId(), List.of())) {
      if (r.origin.equals(origin) && contains(r.slice, m) && r.failure == null && r.live > 0) {
        // Nearly done: moving it would save less than it costs.
        if (r.totalSteps > 0 && r.totalSteps - r.minStep < Math.max(MIN_STEPS_TO_MOVE, r.totalSteps / 10)) {
          return this;
        }
        saved = r.slice.withProgress(progressOf(r, batch.export(r::owns)));
        forget(r);
        break;
      }
    }
    if (saved == null) {
      for (Iterator<Queued> it = pending.iterator(); it.hasNext() && saved == null; ) {
        Queued q = it.next();
        if (q.origin().equals(origin) && contains(q.slice(), m)) {
          it.remove();
          pendingChains -= q.slice().count();
          saved = q.slice();
        }
      }
    }
    if (saved == null) return this;
    int offset = m.firstChain() - saved.firstChain();
    int after = saved.count() - offset - m.count();
    // The rest of the slice stays, in parts that match the coordinator's record of what runs here.
    if (offset > 0) enqueue(new Queued(saved.part(0, offset), origin));
    if (after > 0) enqueue(new Queued(saved.part(offset + m.count(), after), origin));
    List<Coordinator.AbortedSlice> out = List.of(new Coordinator.AbortedSlice(saved.part(offset, m.count()), false));
    for (List<Coordinator.AbortedSlice> part : inMessages(out)) {
      origin.tell(new Coordinator.SlicesAborted(slotAt(origin), part, "rebalancing from sampler " + label));
    }
    durable.released += m.count();
    scheduleTick();
    reportLoad();
    return this;
  }

  /** A running slice with fewer steps left than this (or a tenth of its steps) is not released. */
  static final int MIN_STEPS_TO_MOVE = 20;

  private static boolean contains(ChainSlice s, Release m) {
    return s.requestId().equals(m.requestId()) && m.firstChain() >= s.firstChain()
        && m.firstChain() + m.count() <= s.firstChain() + s.count();
  }

  /** Drops the chains of a coordinator that is gone: their sessions went with it, no one waits for them. */
  private Behavior<Command> onCoordinatorGone(CoordinatorGone g) {
    ActorRef<Coordinator.Command> gone = g.coordinator();
    if (durable.coordinators.remove(gone) == null) return this;
    int dropped = dropSlicesOf(gone);
    getContext().getLog().warn("sampler {}: coordinator {} is gone; dropped its {} slices", label, gone, dropped);
    reportLoad();
    return this;
  }

  /** Removes, without reporting them, every slice routed by the coordinator; how many. */
  private int dropSlicesOf(ActorRef<Coordinator.Command> gone) {
    int dropped = 0;
    for (Iterator<Queued> it = pending.iterator(); it.hasNext(); ) {
      Queued q = it.next();
      if (q.origin().equals(gone)) {
        it.remove();
        pendingChains -= q.slice().count();
        dropped++;
      }
    }
    List<Running> running = byTag.values().stream().filter(r -> r.origin.equals(gone)).toList();
    if (!running.isEmpty()) {
      batch.remove(tag -> ownerOf(tag).origin.equals(gone));
      for (Running r : running) forget(r);
      dropped += running.size();
    }
    return dropped;
  }

  private Behavior<Command> onCancel(Cancel c) {
    for (Iterator<Queued> it = pending.iterator(); it.hasNext(); ) {
      Queued q = it.next();
      ChainSlice s = q.slice();
      if (c.covers(s.requestId(), q.origin())) {
        it.remove();
        pendingChains -= s.count();
        q.origin().tell(new Coordinator.SliceEnded(slotAt(q.origin()), s.requestId(), s.firstChain(), s.count()));
      }
    }
    List<Running> running = byRequest.getOrDefault(c.requestId(), List.of()).stream()
        .filter(r -> c.covers(r.slice.requestId(), r.origin)).toList();
    if (!running.isEmpty()) {
      batch.remove(tag -> running.contains(ownerOf(tag)));
      for (Running r : running) end(r);
    }
    reportLoad();
    return this;
  }

  private Behavior<Command> onSwapWeights(SwapWeights s) {
    ModelRegistry.ModelVersion v = s.version();
    if (model != null && v.version() <= model.version()) return this;
    if (model == null) {
      install(v);
    } else {
      ScoreModel next;
      try {
        next = v.factory().create();
      } catch (RuntimeException e) {
        getContext().getLog().error("sampler {}: cannot build model version {}: {}", samplerId, v.version(), e.toString());
        return this;
      }
      String why = model.incompatibility(next);
      if (why != null) {
        getContext().getLog().error("sampler {}: refusing model version {}: {}", samplerId, v.version(), why);
        next.close();
        return this;
      }
      model.swap(next, v.version());
      // Recorded at the next tick, so a version replaced before any tick used it is not named.
      versionChanged = true;
    }
    durable.latest = v;
    scheduleTick();
    return this;
  }

  private Behavior<Command> onGetStatus(GetStatus g) {
    g.replyTo().tell(new Status(samplerId, device.toString(), model == null ? 0 : model.version(),
        settings.batching(), batch == null ? 0 : batch.size(), byTag.size(), pendingChains, durable.ticks,
        durable.chainSteps, durable.lastDistinct, durable.maxDistinct, durable.previews, durable.restarts,
        durable.busyNanos, durable.preemptions, durable.released));
    return this;
  }

  private Behavior<Command> onTick() {
    tickScheduled = false;
    try {
      step();
    } catch (RuntimeException e) {
      // Remembered for onPreRestart: the slices handed back carry the reason.
      failure = "sampler " + samplerId + " (" + device + ") failed at tick " + (durable.ticks + 1) + ": " + e;
      throw e;
    }
    return this;
  }

  private Behavior<Command> onPreRestart() {
    durable.restarts++;
    handBack(failure != null ? failure : "sampler " + samplerId + " restarted", true, false);
    closeModel();
    return this;
  }

  private Behavior<Command> onPostStop() {
    handBack(failure != null ? failure : "sampler " + samplerId + " stopped", true, false);
    closeModel();
    return this;
  }

  /** Frees the served model's native memory (the next incarnation builds its own from the durable version). */
  private void closeModel() {
    if (model != null) model.close();
    model = null;
  }

  // ---- The step ----

  /** Admits, ticks, previews and retires: one step boundary to the next. */
  private void step() {
    if (model == null) return;
    admit();
    if (batch.size() == 0) {
      reportLoad();
      return;
    }
    if (ownersDirty) rebuildOwners();
    if (versionChanged) {
      for (Running r : byTag.values()) {
        if (r.versions.get(r.versions.size() - 1) != model.version()) r.versions.add(model.version());
      }
      versionChanged = false;
    }
    boolean previews = previewsDue();
    batch.wantPreviews(previews);
    long start = System.nanoTime();
    ChainBatch.TickReport report = batch.tick();
    long took = System.nanoTime() - start;
    durable.tickNanos = durable.tickNanos == 0 ? took : (7 * durable.tickNanos + took) / 8;
    durable.busyNanos += took;
    durable.ticks++;
    durable.chainSteps += report.rows();
    durable.lastDistinct = report.distinctLevels();
    durable.maxDistinct = Math.max(durable.maxDistinct, report.distinctLevels());
    trackSteps();
    if (previews) emitPreviews();
    retire();
    if (checkpointDue()) checkpoint();
    scheduleTick();
    if (++ticksSinceReport >= settings.loadReportEveryTicks() || batch.size() == 0) reportLoad();
  }

  /**
   * Moves waiting slices into the batch in queue order while they fit, making room for higher priorities (continuous
   * batching; {@code sampler.preemption}): exclusive sets aside every running slice of lower priority than the head
   * and admits none while higher ones run; room sets aside only what the head needs, lowest priority first, latest
   * admitted first within a priority. Slices set aside wait with their states and resume, bit-identically.
   */
  private void admit() {
    if (settings.batching() == Batching.STATIC && batch.size() > 0) return;
    boolean preempts = settings.batching() == Batching.CONTINUOUS && settings.preemption() != Preemption.OFF;
    boolean exclusive = preempts && settings.preemption() == Preemption.EXCLUSIVE;
    boolean admitted = false;
    while (!pending.isEmpty()) {
      Queued q = pending.peekFirst();
      int priority = q.slice().priority();
      if (exclusive) {
        int top = byTag.values().stream().mapToInt(r -> r.slice.priority()).max().orElse(Integer.MIN_VALUE);
        // Waiting slices are ordered by priority: if the head is below what runs, so is everything behind it.
        if (priority < top) break;
        if (priority > top && !byTag.isEmpty()) {
          setAside(byTag.values().stream().filter(r -> r.slice.priority() < priority && r.live > 0).toList(),
              priority);
        }
      }
      int rows = rowsOf(q.slice());
      if (batch.size() + rows > settings.maxBatchRows() && !(preempts && preemptFor(priority, rows))) break;
      pending.pollFirst();
      pendingChains -= q.slice().count();
      join(q);
      admitted = true;
    }
    if (admitted) {
      ownersDirty = true;
      reportLoad();
    }
  }

  /** Puts a slice's chains into the batch: from their priors, or from their saved states. */
  private void join(Queued q) {
    ChainSlice s = q.slice();
    long tagBase = nextTag;
    nextTag += s.count();
    SliceProgress p = s.progress();
    if (p == null) {
      batch.addFromPrior(RowKeys.of(s.seed(), s.firstChain(), s.count()), s.program(), tagBase, s.conditioning());
    } else {
      int n = p.running();
      long[] seeds = new long[n];
      long[] chains = new long[n];
      long[] tags = new long[n];
      List<ChainBatch.ChainState> states = new ArrayList<>(n);
      for (int c = 0, k = 0; c < s.count(); c++) {
        ChainBatch.ChainState st = p.states().get(c);
        if (st == null) continue;
        seeds[k] = s.seed();
        chains[k] = s.firstChain() + c;
        tags[k++] = tagBase + c;
        states.add(st);
      }
      try {
        if (n > 0) batch.resume(new RowKeys(seeds, chains), s.program(), tags, s.conditioning(), states);
      } catch (RuntimeException e) {
        // A state this model cannot continue (another shape or program): the slice fails loudly, nothing else.
        s.session().tell(new RequestSession.SliceFailed(s.requestId(), s.firstChain(), s.count(), ErrorCode.INTERNAL,
            "sampler " + label + " cannot resume this slice's chains: " + e.getMessage()));
        q.origin().tell(new Coordinator.SliceEnded(slotAt(q.origin()), s.requestId(), s.firstChain(), s.count()));
        return;
      }
    }
    Running r = new Running(s, q.origin(), tagBase, model.dim(), model.version());
    byTag.put(tagBase, r);
    byRequest.computeIfAbsent(s.requestId(), k -> new ArrayList<>()).add(r);
    if (r.live == 0) complete(r);
  }

  /** Whether setting aside running slices of priority below the given one frees rows rows; if so, does it. */
  private boolean preemptFor(int priority, int rows) {
    List<Running> victims = byTag.values().stream()
        .filter(r -> r.slice.priority() < priority && r.failure == null && r.live > 0)
        .sorted(java.util.Comparator.comparingInt((Running r) -> r.slice.priority())
            .thenComparing(r -> -r.tagBase))
        .toList();
    int free = settings.maxBatchRows() - batch.size();
    List<Running> chosen = new ArrayList<>();
    for (Running r : victims) {
      if (free >= rows) break;
      chosen.add(r);
      free += r.live;
    }
    if (free < rows) return false;
    setAside(chosen, priority);
    return true;
  }

  /** Takes the running slices out of the batch with their states and queues them to resume. */
  private void setAside(List<Running> slices, int forPriority) {
    if (slices.isEmpty()) return;
    Set<Running> chosen = new java.util.HashSet<>(slices);
    Map<Long, ChainBatch.ChainState> states = batch.export(tag -> chosen.contains(ownerOf(tag)));
    for (Running r : slices) {
      forget(r);
      enqueue(new Queued(r.slice.withProgress(progressOf(r, states)), r.origin));
      durable.preemptions++;
    }
    ownersDirty = true;
    getContext().getLog().debug("sampler {}: set aside {} slices for a slice of priority {}", label, slices.size(),
        forPriority);
  }

  private boolean checkpointDue() {
    long every = settings.checkpointEvery().toNanos();
    return durable.key != null && every > 0 && System.nanoTime() - lastCheckpointNanos >= every;
  }

  /**
   * Sends each coordinator the progress of the slices it routed here, running ones saved at this step boundary and
   * set-aside ones as they wait (cluster mode): if this member is lost, they resume from it elsewhere. A slice whose
   * progress holds more than max-message-values numbers goes in parts of whole chains, as hand-backs do; only a
   * single chain larger than that is left out (it would restart from its seed).
   */
  private void checkpoint() {
    lastCheckpointNanos = System.nanoTime();
    Map<Long, ChainBatch.ChainState> states = batch.save(tag -> true);
    Map<ActorRef<Coordinator.Command>, List<ChainSlice>> out = new LinkedHashMap<>();
    for (Running r : byTag.values()) {
      if (r.live > 0 && r.failure == null) {
        out.computeIfAbsent(r.origin, k -> new ArrayList<>()).add(r.slice.withProgress(progressOf(r, states)));
      }
    }
    for (Queued q : pending) {
      if (q.slice().progress() != null) out.computeIfAbsent(q.origin(), k -> new ArrayList<>()).add(q.slice());
    }
    out.forEach((c, slices) -> {
      List<ChainSlice> fitting = slices.stream()
          .flatMap(s -> pieces(s, settings.maxMessageValues()).stream())
          .filter(s -> savedValues(s) <= settings.maxMessageValues())
          .toList();
      for (List<ChainSlice> message : grouped(fitting, Sampler::savedValues)) {
        c.tell(new Coordinator.SliceCheckpoints(slotAt(c), message));
      }
    });
  }

  /** The rows a slice takes in the batch: its running chains. */
  private static int rowsOf(ChainSlice s) {
    return s.progress() == null ? s.count() : s.progress().running();
  }

  /** r's progress, its running chains' states taken from states (exported from the batch by tag). */
  private SliceProgress progressOf(Running r, Map<Long, ChainBatch.ChainState> states) {
    int dim = model.dim();
    List<ChainBatch.ChainState> st = new ArrayList<>(r.finished.length);
    List<double[]> results = new ArrayList<>(r.finished.length);
    for (int c = 0; c < r.finished.length; c++) {
      if (r.finished[c]) {
        st.add(null);
        results.add(Arrays.copyOfRange(r.samples, c * dim, (c + 1) * dim));
      } else {
        ChainBatch.ChainState chain = states.get(r.tagBase + c);
        if (chain == null) throw new IllegalStateException("chain " + (r.slice.firstChain() + c) + " of request "
            + r.slice.requestId() + " is not in the batch");
        st.add(chain);
        results.add(null);
      }
    }
    return new SliceProgress(st, results, r.versions, r.calls, r.previewed, r.nextPreview);
  }

  private boolean previewsDue() {
    boolean any = false;
    for (Running r : byTag.values()) {
      // A step takes one or more ticks; asking one tick early costs one Tweedie estimate at most.
      r.due = r.slice.previewEvery() > 0 && (!r.previewed || r.minStep + 1 >= r.nextPreview);
      any |= r.due;
    }
    return any;
  }

  private void trackSteps() {
    for (Running r : byTag.values()) {
      r.minStep = Integer.MAX_VALUE;
      r.totalSteps = 0;
    }
    for (int i = 0; i < rowOwner.length; i++) {
      ChainCursor c = batch.cursor(i);
      Running r = rowOwner[i];
      r.minStep = Math.min(r.minStep, c.step());
      r.totalSteps = Math.max(r.totalSteps, c.totalSteps());
    }
  }

  private void emitPreviews() {
    double[] x0 = batch.denoised();
    if (x0 == null) return;
    boolean any = false;
    for (Running r : byTag.values()) {
      r.emit = r.due && (!r.previewed || r.minStep >= r.nextPreview);
      any |= r.emit;
    }
    if (!any) return;
    // The one copy of a preview: each emitting slice's rows gathered into a fresh array that the session, the
    // event and the gateways then share (Samples), its finished chains holding their final samples.
    int dim = model.dim();
    Map<Running, double[]> gathered = new HashMap<>();
    for (Running r : byTag.values()) {
      if (!r.emit) continue;
      double[] v = new double[r.slice.count() * dim];
      for (int c = 0; c < r.finished.length; c++) {
        if (r.finished[c]) System.arraycopy(r.samples, c * dim, v, c * dim, dim);
      }
      gathered.put(r, v);
    }
    for (int i = 0; i < rowOwner.length; i++) {
      double[] v = gathered.get(rowOwner[i]);
      if (v != null) System.arraycopy(x0, i * dim, v, (int) (batch.tag(i) - rowOwner[i].tagBase) * dim, dim);
    }
    long[] shape = model.shape();
    for (Running r : byTag.values()) {
      if (!r.emit) continue;
      ChainSlice s = r.slice;
      double[] v = gathered.get(r);
      for (int[] c : messages(s.count(), dim)) {
        s.session().tell(new RequestSession.SlicePreview(s.requestId(), s.firstChain() + c[0], c[1], r.minStep,
            r.totalSteps, Samples.adopt(shape, c[1], part(v, c, dim))));
      }
      r.nextPreview = (r.minStep / s.previewEvery() + 1) * s.previewEvery();
      r.previewed = true;
      durable.previews++;
    }
  }

  private void retire() {
    List<ChainBatch.Finished> finished = batch.retire();
    if (finished.isEmpty()) return;
    ownersDirty = true;
    int dim = model.dim();
    Set<Running> touched = new LinkedHashSet<>();
    for (ChainBatch.Finished f : finished) {
      Running r = ownerOf(f.tag());
      int chain = (int) (f.tag() - r.tagBase);
      r.live--;
      r.calls += f.ticks();
      touched.add(r);
      if (f.failed()) {
        if (r.failure == null) r.failure = "chain " + (r.slice.firstChain() + chain) + ": " + f.failure();
      } else {
        System.arraycopy(f.x(), 0, r.samples, chain * dim, dim);
        r.finished[chain] = true;
      }
    }
    for (Running r : touched) {
      ChainSlice s = r.slice;
      if (r.failure != null) {
        // The request has failed: its other chains here stop now; the coordinator stops those elsewhere.
        if (r.live > 0) batch.remove(r::owns);
        s.session().tell(new RequestSession.SliceFailed(s.requestId(), s.firstChain(), s.count(),
            ErrorCode.NON_FINITE, r.failure));
        end(r);
      } else if (r.live == 0) {
        complete(r);
      }
    }
  }

  /** The slice's chains are all done: its samples go to the session, handed over, not copied (unless in parts). */
  private void complete(Running r) {
    ChainSlice s = r.slice;
    int dim = model.dim();
    long calls = r.calls;
    for (int[] c : messages(s.count(), dim)) {
      s.session().tell(new RequestSession.SliceCompleted(s.requestId(), s.firstChain() + c[0], c[1],
          Samples.adopt(model.shape(), c[1], part(r.samples, c, dim)), r.versions, calls));
      calls = 0;
    }
    end(r);
  }

  // ---- Bookkeeping ----

  /**
   * Puts q behind every waiting slice of higher priority, and of its own priority unless q has started and that one
   * has not (a set-aside slice goes before fresh ones of its priority); ahead of the rest. Counts its chains as
   * pending.
   */
  private void enqueue(Queued q) {
    int priority = q.slice().priority();
    boolean started = q.slice().progress() != null;
    java.util.ListIterator<Queued> it = pending.listIterator(pending.size());
    while (it.hasPrevious()) {
      ChainSlice ahead = it.previous().slice();
      if (ahead.priority() > priority || ahead.priority() == priority && (ahead.progress() != null || !started)) {
        it.next();
        break;
      }
    }
    it.add(q);
    pendingChains += q.slice().count();
  }

  /**
   * The messages a slice of count chains of dimension dim goes to its session in: {first, count} ranges of whole
   * chains of at most max-message-values values each (one range, the whole slice, when it fits).
   */
  private List<int[]> messages(int count, int dim) {
    int per = Math.max(1, settings.maxMessageValues() / dim);
    if (count <= per) return List.of(new int[] {0, count});
    List<int[]> out = new ArrayList<>();
    for (int k = 0; k < count; k += per) out.add(new int[] {k, Math.min(per, count - k)});
    return out;
  }

  /** The range's rows of values: values itself when the range is the whole slice. */
  private static double[] part(double[] values, int[] range, int dim) {
    if (range[0] == 0 && (long) range[1] * dim == values.length) return values;
    return java.util.Arrays.copyOfRange(values, range[0] * dim, (range[0] + range[1]) * dim);
  }

  private void install(ModelRegistry.ModelVersion v) {
    model = new VersionedModel(v.factory().create(), v.version());
    batch = new ChainBatch(model);
  }

  private Running ownerOf(long tag) {
    return byTag.floorEntry(tag).getValue();
  }

  private void rebuildOwners() {
    int rows = batch.size();
    rowOwner = new Running[rows];
    for (int i = 0; i < rows; i++) rowOwner[i] = ownerOf(batch.tag(i));
    ownersDirty = false;
  }

  /** The slice has left the batch (done, failed or cancelled): forget it and give its rows back. */
  private void end(Running r) {
    forget(r);
    r.origin.tell(new Coordinator.SliceEnded(slotAt(r.origin), r.slice.requestId(), r.slice.firstChain(),
        r.slice.count()));
  }

  private void forget(Running r) {
    byTag.remove(r.tagBase);
    List<Running> same = byRequest.get(r.slice.requestId());
    if (same != null) {
      same.remove(r);
      if (same.isEmpty()) byRequest.remove(r.slice.requestId());
    }
    ownersDirty = true;
  }

  /** The slot id the coordinator knows this sampler by (this sampler's own id if it is no longer attached). */
  private int slotAt(ActorRef<Coordinator.Command> c) {
    return durable.coordinators.getOrDefault(c, samplerId);
  }

  private void scheduleTick() {
    if (!tickScheduled && model != null && (batch.size() > 0 || !pending.isEmpty())) {
      tickScheduled = true;
      getContext().getSelf().tell(Tick.INSTANCE);
    }
  }

  private void reportLoad() {
    ticksSinceReport = 0;
    int rows = batch == null ? 0 : batch.size();
    durable.coordinators.forEach((c, slot) -> c.tell(new Coordinator.SamplerLoad(slot, rows, pendingChains,
        durable.ticks, durable.chainSteps, durable.tickNanos, durable.maxDistinct)));
  }

  /**
   * Gives every slice this incarnation holds back to the coordinator that routed it: on restart or stop from their
   * seeds, a started slice counting toward its request's retries; on a drain (withState) with their chains' states,
   * none counting. Messages hold at most max-message-values numbers of saved state (a large slice goes in parts).
   */
  private void handBack(String reason, boolean startedCounts, boolean withState) {
    Map<ActorRef<Coordinator.Command>, List<Coordinator.AbortedSlice>> out = new LinkedHashMap<>();
    Map<Long, ChainBatch.ChainState> states = withState && batch != null ? batch.export(tag -> true) : Map.of();
    for (Running r : byTag.values()) {
      ChainSlice s = withState ? r.slice.withProgress(progressOf(r, states)) : r.slice.withProgress(null);
      out.computeIfAbsent(r.origin, k -> new ArrayList<>()).add(new Coordinator.AbortedSlice(s, startedCounts));
    }
    for (Queued q : pending) {
      out.computeIfAbsent(q.origin(), k -> new ArrayList<>()).add(new Coordinator.AbortedSlice(q.slice(), false));
    }
    byTag.clear();
    byRequest.clear();
    pending.clear();
    pendingChains = 0;
    out.forEach((c, slices) -> {
      getContext().getLog().warn("{}; handing {} slices back{}", reason, slices.size(),
          withState ? " with their chains' states" : "");
      for (List<Coordinator.AbortedSlice> part : inMessages(slices)) {
        c.tell(new Coordinator.SlicesAborted(slotAt(c), part, reason));
      }
    });
  }

  /** Aborted slices grouped into messages of at most max-message-values saved numbers, big slices split by chains. */
  private List<List<Coordinator.AbortedSlice>> inMessages(List<Coordinator.AbortedSlice> slices) {
    List<Coordinator.AbortedSlice> parts = new ArrayList<>();
    for (Coordinator.AbortedSlice a : slices) {
      for (ChainSlice piece : pieces(a.slice(), settings.maxMessageValues())) {
        parts.add(new Coordinator.AbortedSlice(piece, a.started()));
      }
    }
    return grouped(parts, a -> savedValues(a.slice()));
  }

  /** The items in order, grouped into messages whose sizes add up to at most max-message-values (one item at least). */
  private <T> List<List<T>> grouped(List<T> items, java.util.function.ToLongFunction<T> size) {
    long limit = settings.maxMessageValues();
    List<List<T>> out = new ArrayList<>();
    List<T> current = new ArrayList<>();
    long total = 0;
    for (T item : items) {
      long v = size.applyAsLong(item);
      if (!current.isEmpty() && total + v > limit) {
        out.add(current);
        current = new ArrayList<>();
        total = 0;
      }
      current.add(item);
      total += v;
    }
    if (!current.isEmpty()) out.add(current);
    return out;
  }

  /** The numbers of saved state a slice carries (0 from its seeds). */
  private static long savedValues(ChainSlice s) {
    return s.progress() == null ? 0 : s.progress().values();
  }

  /** The slice in parts of whole chains whose saved state holds at most limit numbers each (one chain at least). */
  private static List<ChainSlice> pieces(ChainSlice s, long limit) {
    SliceProgress p = s.progress();
    if (p == null || p.values() <= limit) return List.of(s);
    List<ChainSlice> out = new ArrayList<>();
    int from = 0;
    long size = 0;
    for (int c = 0; c < s.count(); c++) {
      long v = p.part(c, 1).values();
      if (c > from && size + v > limit) {
        out.add(s.part(from, c - from));
        from = c;
        size = 0;
      }
      size += v;
    }
    out.add(s.part(from, s.count() - from));
    return out;
  }
}
