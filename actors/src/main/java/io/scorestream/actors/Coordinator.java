package io.scorestream.actors;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import io.scorestream.config.CoordinatorSettings;
import io.scorestream.model.sample.SamplerProgram;
import io.scorestream.model.sample.SamplerPrograms;
import io.scorestream.model.sde.Sde;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The node's coordinator: validates requests (typed errors, nothing changed on refusal), admits them into a bounded
 * queue (past the bound: OVERLOADED with a retry-after hint, at once), builds each request's sampler program,
 * routes its chains in slices to the samplers with free rows (least-loaded first; requests of at least
 * {@code split-min-chains} chains are spread over several samplers), reports queue position and ETA, enforces
 * deadlines and cancellations, and retries the chains of a failed sampler from their seeds.
 *
 * <p>Capacity is counted in chains: a sampler is never routed more than its {@code max-batch-rows}; the rest of a
 * request waits at its place in the queue and is routed as slices end. A slice keeps its chain indices, so its noise
 * (keyed by seed and chain index) is the same on any sampler. State is confined to the actor.
 */
public final class Coordinator extends AbstractBehavior<Coordinator.Command> {

  public sealed interface Command
      permits Submit, Cancel, RegisterSampler, SamplerLoad, SliceEnded, SlicesAborted, SliceCheckpoints, SamplerLeaving,
          RequestEnded,
          GetStatus,
          DeadlineExpired, SamplerTerminated, SamplersListed, Rediscover, Rebalance {}

  /** A new request; the answer (Admitted or Terminate with a rejection) goes to its session. */
  public record Submit(GenerateRequest request, ActorRef<RequestSession.Command> session) implements Command {}

  /** Cancels a request: it ends with Cancelled and its rows are freed at each sampler's next step boundary. */
  public record Cancel(String requestId, String reason) implements Command {}

  /**
   * A sampler (re)starting: it may be routed up to maxRows chains; preempts: whether it sets lower-priority chains
   * aside for higher ones (then the coordinator counts those rows as room for a higher-priority request).
   */
  public record RegisterSampler(int samplerId, String device, ActorRef<Sampler.Command> sampler, int maxRows,
                                boolean preempts) implements Command, ClusterMessage {
    public RegisterSampler(int samplerId, String device, ActorRef<Sampler.Command> sampler, int maxRows) {
      this(samplerId, device, sampler, maxRows, true);
    }
  }

  /** A sampler's load report: rows, queued chains, and its counters (ticks, rows advanced, mean tick time). */
  public record SamplerLoad(int samplerId, int rows, int pendingChains, long ticks, long chainSteps, long tickNanos,
                            int maxDistinctLevels) implements Command, ClusterMessage {}

  /** A slice left its sampler (finished, failed or cancelled): its rows are free again. */
  public record SliceEnded(int samplerId, String requestId, int firstChain, int count)
      implements Command, ClusterMessage {}

  /**
   * A slice a sampler gave back: started, whether its chains had begun and must restart from their seeds (then the
   * request's retry counts); a leaving sampler's slices come with their progress and continue where they stopped.
   */
  public record AbortedSlice(Sampler.ChainSlice slice, boolean started) {}

  /** Slices a sampler gave back when it failed (before its restart) or stopped. */
  public record SlicesAborted(int samplerId, List<AbortedSlice> slices, String reason)
      implements Command, ClusterMessage {
    public SlicesAborted {
      slices = List.copyOf(slices);
    }
  }

  /**
   * The progress of slices a sampler runs (cluster mode, every {@code sampler.checkpoint-every}): the coordinator
   * keeps the latest of each routed slice, and if the sampler is lost the slice resumes from it on another sampler.
   */
  public record SliceCheckpoints(int samplerId, List<Sampler.ChainSlice> slices) implements Command, ClusterMessage {
    public SliceCheckpoints {
      slices = List.copyOf(slices);
    }
  }

  /** A sampler is leaving (its member is leaving the cluster): nothing more is routed to it; its slices come back. */
  public record SamplerLeaving(int samplerId) implements Command, ClusterMessage {}

  /** A request's session reached a terminal event on its own (completed, or failed in a sampler). */
  public record RequestEnded(String requestId) implements Command {}

  public record GetStatus(ActorRef<NodeStatus> replyTo) implements Command {}

  /**
   * The coordinator's view of the node.
   *
   * @param queuedRequests requests waiting for rows
   * @param activeRequests accepted requests not yet ended
   * @param chainsRebalanced chains this coordinator moved from a loaded sampler to a less loaded one
   */
  public record NodeStatus(int queuedRequests, int activeRequests, long accepted, long rejected, long ended,
                           List<SamplerView> samplers, long chainsRebalanced) {
    public NodeStatus {
      samplers = List.copyOf(samplers);
    }

    /** Rows in use over all samplers, as last reported. */
    public int activeChains() {
      return samplers.stream().mapToInt(SamplerView::rows).sum();
    }

    /** Rows advanced over all samplers, as last reported (difference two statuses for chain-steps/s). */
    public long chainSteps() {
      return samplers.stream().mapToLong(SamplerView::chainSteps).sum();
    }
  }

  /**
   * One sampler as the coordinator sees it.
   *
   * @param assignedChains chains routed to it and not yet ended
   * @param rows           rows in its batch (last report)
   * @param chainSteps     rows advanced, summed over its ticks (its rate is the node's chain-steps/s)
   * @param tickNanos      its recent mean tick time
   */
  public record SamplerView(int samplerId, String device, boolean alive, int maxRows, int assignedChains, int rows,
                            int pendingChains, long ticks, long chainSteps, long tickNanos, int maxDistinctLevels) {}

  private record DeadlineExpired(String requestId) implements Command {}

  private record SamplerTerminated(int samplerId) implements Command {}

  /** The receptionist's current samplers of this coordinator's model (cluster mode). */
  private record SamplersListed(Receptionist.Listing listing) implements Command {}

  /** Asks the receptionist again (cluster mode): attaches samplers seen terminated that are still listed. */
  private enum Rediscover implements Command { INSTANCE }

  /** Looks for a sampler to move chains from (every {@code rebalance-every}). */
  private enum Rebalance implements Command { INSTANCE }

  /** How often a cluster coordinator asks the receptionist for its samplers besides its subscription. */
  static final Duration REDISCOVER_EVERY = Duration.ofSeconds(5);

  /** A sampler slot: capacity accounting and the last load report. */
  private static final class Slot {
    final int id;
    /** Cluster mode: other coordinators route to it too, so its reported rows and queue count against its room. */
    final boolean shared;
    String device;
    ActorRef<Sampler.Command> ref;
    int maxRows;
    boolean preempts = true;
    int assigned;
    boolean alive = true;
    /** Said it is leaving: slices lost on it are restarted without counting as a retry. */
    boolean leaving;
    int rows;
    int pendingChains;
    long ticks;
    long chainSteps;
    long tickNanos;
    int maxDistinct;

    Slot(int id, boolean shared) {
      this.id = id;
      this.shared = shared;
    }

    /** This coordinator's chains on the sampler when it last reported (cluster mode). */
    int assignedAtReport;

    int free() {
      return room(0);
    }

    /**
     * The chains a request may be routed here beyond what runs: free rows, plus the rows of this coordinator's
     * chains of lower priority (preemptible), which the sampler sets aside for it.
     */
    int room(int preemptible) {
      if (!alive) return 0;
      // Other coordinators' chains: what the sampler held at its last report beyond this coordinator's own then.
      int others = shared ? Math.max(0, rows + pendingChains - assignedAtReport) : 0;
      return Math.max(0, maxRows - (assigned - preemptible) - others);
    }
  }

  /**
   * Chains of a request to route again, with their saved progress (null: from their seeds), and the slot they were
   * moved away from for rebalancing (-1: none), which they avoid while others have room.
   */
  private static final class Retry {
    int first;
    int count;
    Sampler.SliceProgress progress;
    final int avoid;

    Retry(int first, int count, Sampler.SliceProgress progress, int avoid) {
      this.first = first;
      this.count = count;
      this.progress = progress;
      this.avoid = avoid;
    }
  }

  /** A checkpointed part of a routed slice: count chains from its key, as saved. */
  private record Part(int count, Sampler.SliceProgress progress) {}

  /** An accepted request. */
  private static final class Req {
    final GenerateRequest request;
    final SamplerProgram program;
    final int previewEvery;
    final ActorRef<RequestSession.Command> session;
    /** Routed slices by first chain: {sampler, count}. */
    final TreeMap<Integer, int[]> running = new TreeMap<>();
    /** Chains to route again (a sampler failed or left), before the fresh ones. */
    final ArrayDeque<Retry> retry = new ArrayDeque<>();
    /**
     * The latest checkpoints of routed slices (cluster mode), by the slice's first chain: parts of it by their first
     * chain (a sampler checkpoints a large slice in parts; each part's chains resume from it alone).
     */
    final Map<Integer, TreeMap<Integer, Part>> checkpoints = new HashMap<>();
    int nextChain;
    int attempts;
    boolean queued;

    Req(GenerateRequest request, SamplerProgram program, int previewEvery, ActorRef<RequestSession.Command> session) {
      this.request = request;
      this.program = program;
      this.previewEvery = previewEvery;
      this.session = session;
    }

    String id() {
      return request.requestId();
    }

    /** Its chains [first, first + count) as a slice, resuming from progress (null: from their seeds). */
    /** Keeps chains [first, first + count) of the slice routed at start as saved in progress, over older parts. */
    void checkpoint(int start, int first, int count, Sampler.SliceProgress progress) {
      TreeMap<Integer, Part> parts = checkpoints.computeIfAbsent(start, k -> new TreeMap<>());
      parts.entrySet().removeIf(e -> e.getKey() < first + count && e.getKey() + e.getValue().count() > first);
      parts.put(first, new Part(count, progress));
    }

    /**
     * The slices that continue chains [start, start + count), routed at start: the checkpointed parts from their
     * progress, the chains between them from their seeds (the same samples either way).
     */
    List<Sampler.ChainSlice> resumed(int start, int count) {
      TreeMap<Integer, Part> parts = checkpoints.remove(start);
      List<Sampler.ChainSlice> out = new ArrayList<>();
      int next = start;
      if (parts != null) {
        for (Map.Entry<Integer, Part> e : parts.entrySet()) {
          int first = e.getKey();
          int n = e.getValue().count();
          if (first < next || first + n > start + count) continue;
          if (first > next) out.add(slice(next, first - next, null));
          out.add(slice(first, n, e.getValue().progress()));
          next = first + n;
        }
      }
      if (next < start + count) out.add(slice(next, start + count - next, null));
      return out;
    }

    Sampler.ChainSlice slice(int first, int count, Sampler.SliceProgress progress) {
      return new Sampler.ChainSlice(id(), first, count, request.seed(), program, previewEvery, session,
          request.conditioning(), request.priority(), progress);
    }

    int unrouted() {
      int n = request.count() - nextChain;
      for (Retry r : retry) n += r.count;
      return n;
    }
  }

  public static Behavior<Command> create(CoordinatorSettings settings, Sde sde, int dim) {
    return create(settings, sde, dim, null);
  }

  /** A coordinator whose annealed Langevin requests default to the served model's ladder (null: the SDE's). */
  public static Behavior<Command> create(CoordinatorSettings settings, Sde sde, int dim, double[] aldSigmaRange) {
    return create(settings, sde, dim, aldSigmaRange, 0);
  }

  /** A coordinator for a model conditioned on the given number of classes (0: unconditional). */
  public static Behavior<Command> create(CoordinatorSettings settings, Sde sde, int dim, double[] aldSigmaRange,
                                         int classes) {
    return create(settings, sde, dim, aldSigmaRange, classes, null);
  }

  /**
   * A cluster's coordinator: it subscribes to the samplers registered under key with the receptionist, on any node,
   * attaches each one it has not seen ({@link Sampler.Attach}) and routes to all of them by load; a sampler whose
   * node is lost is seen terminated, and its chains are routed again from their seeds. A null key: samplers
   * register themselves (one node).
   */
  public static Behavior<Command> create(CoordinatorSettings settings, Sde sde, int dim, double[] aldSigmaRange,
                                         int classes, ServiceKey<Sampler.Command> key) {
    SamplerPrograms.Limits limits = Programs.limits(settings, aldSigmaRange);
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      if (key != null) {
        ctx.getSystem().receptionist().tell(Receptionist.subscribe(key,
            ctx.messageAdapter(Receptionist.Listing.class, SamplersListed::new)));
        timers.startTimerWithFixedDelay(Rediscover.INSTANCE, REDISCOVER_EVERY);
      }
      if (!settings.rebalanceEvery().isZero()) {
        timers.startTimerWithFixedDelay(Rebalance.INSTANCE, settings.rebalanceEvery());
      }
      return new Coordinator(ctx, timers, settings, limits, sde, dim, classes, key);
    }));
  }

  private final TimerScheduler<Command> timers;
  private final CoordinatorSettings settings;
  private final SamplerPrograms.Limits limits;
  private final Sde sde;
  private final int dim;
  private final int classes;
  private final TreeMap<Integer, Slot> slots = new TreeMap<>();
  /**
   * Cluster mode: the receptionist's key of this model's samplers, the slot id of every sampler ever attached, and
   * the ones attached and not seen terminated since. A remote watch can report a sampler terminated spuriously (a
   * node that restarted on the same address, watched before this node saw it join): one still listed is attached
   * again under its slot id.
   */
  private final ServiceKey<Sampler.Command> samplerKey;
  private final Map<ActorRef<Sampler.Command>, Integer> slotIds = new HashMap<>();
  private final Set<ActorRef<Sampler.Command>> attached = new java.util.HashSet<>();
  private final Map<String, Req> active = new HashMap<>();
  /**
   * Requests waiting for rows: restarted ones first, then by priority (higher first), in arrival order within a
   * priority.
   */
  private final java.util.LinkedList<Req> waiting = new java.util.LinkedList<>();
  private long accepted;
  private long rejected;
  private long ended;
  private long rebalanced;
  /**
   * The chains asked back for rebalancing, one range at a time: they may come back in several parts, and a sampler
   * may decline (the slice ended, or is nearly done); dropped after a few rounds.
   */
  private Move moving;

  private static final class Move {
    final String requestId;
    final int first;
    final int count;
    final int from;
    int left;
    int rounds = 3;

    Move(String requestId, int first, int count, int from) {
      this.requestId = requestId;
      this.first = first;
      this.count = count;
      this.from = from;
      this.left = count;
    }

    boolean covers(String id, int chain) {
      return requestId.equals(id) && chain >= first && chain < first + count;
    }
  }

  private Coordinator(ActorContext<Command> ctx, TimerScheduler<Command> timers, CoordinatorSettings settings,
                      SamplerPrograms.Limits limits, Sde sde, int dim, int classes,
                      ServiceKey<Sampler.Command> samplerKey) {
    super(ctx);
    this.samplerKey = samplerKey;
    this.classes = classes;
    this.timers = timers;
    this.settings = settings;
    this.limits = limits;
    this.sde = sde;
    this.dim = dim;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Submit.class, this::onSubmit)
        .onMessage(Cancel.class, this::onCancel)
        .onMessage(RegisterSampler.class, this::onRegisterSampler)
        .onMessage(SamplerLoad.class, this::onSamplerLoad)
        .onMessage(SliceEnded.class, this::onSliceEnded)
        .onMessage(SlicesAborted.class, this::onSlicesAborted)
        .onMessage(SliceCheckpoints.class, this::onSliceCheckpoints)
        .onMessage(SamplerLeaving.class, this::onSamplerLeaving)
        .onMessage(RequestEnded.class, this::onRequestEnded)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onMessage(DeadlineExpired.class, this::onDeadlineExpired)
        .onMessage(SamplerTerminated.class, this::onSamplerTerminated)
        .onMessage(SamplersListed.class, this::onSamplersListed)
        .onMessageEquals(Rediscover.INSTANCE, this::onRediscover)
        .onMessageEquals(Rebalance.INSTANCE, this::onRebalance)
        .build();
  }

  // ---- Admission ----

  private Behavior<Command> onSubmit(Submit s) {
    GenerateRequest r = s.request();
    String id = r.requestId();
    if (id == null || id.isBlank()) return reject(s, ErrorCode.INVALID_ARGUMENT, "requestId is required", null);
    if (active.containsKey(id)) {
      return reject(s, ErrorCode.INVALID_ARGUMENT, "a request with id '" + id + "' is already running", null);
    }
    if (r.count() < 1 || r.count() > settings.maxChainsPerRequest()) {
      return reject(s, ErrorCode.INVALID_ARGUMENT, "count must be in [1, " + settings.maxChainsPerRequest()
          + "], got " + r.count(), null);
    }
    if (r.previewEvery() < GenerateRequest.DEFAULT_PREVIEW) {
      return reject(s, ErrorCode.INVALID_ARGUMENT, "previewEvery must be >= 0 (or " + GenerateRequest.DEFAULT_PREVIEW
          + " for the default), got " + r.previewEvery(), null);
    }
    Duration deadline = r.deadline() == null ? settings.defaultDeadline() : r.deadline();
    if (deadline.isZero() || deadline.isNegative() || deadline.compareTo(settings.maxDeadline()) > 0) {
      return reject(s, ErrorCode.INVALID_ARGUMENT, "deadline must be in (0, " + settings.maxDeadline() + "], got "
          + deadline, null);
    }
    SamplerProgram program;
    try {
      program = Programs.build(r.sampler(), sde, limits);
    } catch (ScoreStreamException e) {
      return reject(s, e.code(), e.detail(), null);
    }
    String badConditioning = checkConditioning(r.conditioning());
    if (badConditioning != null) return reject(s, ErrorCode.INVALID_ARGUMENT, badConditioning, null);
    if (!slots.isEmpty() && slots.values().stream().noneMatch(x -> x.alive)) {
      return reject(s, ErrorCode.UNAVAILABLE, "no sampler is running", null);
    }
    boolean routableNow = waiting.isEmpty() && freeRows() >= r.count();
    if (!routableNow && waiting.size() >= settings.queueBound()) {
      return reject(s, ErrorCode.OVERLOADED, waiting.size() + " requests are waiting (queue-bound "
          + settings.queueBound() + ")", retryAfter());
    }
    int previewEvery = r.previewEvery() == GenerateRequest.DEFAULT_PREVIEW ? settings.defaultPreviewEvery()
        : r.previewEvery();
    Req req = new Req(r, program, previewEvery, s.session());
    active.put(id, req);
    accepted++;
    enqueue(req);
    req.queued = true;
    timers.startSingleTimer(id, new DeadlineExpired(id), deadline);
    dispatch();
    int position = positionOf(req);
    s.session().tell(new RequestSession.Admitted(new SampleEvent.Accepted(id, r.count(), position, eta(req))));
    return this;
  }

  /** Why the served model cannot honour c, or null. */
  private String checkConditioning(io.scorestream.model.sample.Conditioning c) {
    if (c.labels() != null) {
      for (int y : c.labels()) {
        if (y == io.scorestream.model.score.ScoreModel.NULL_LABEL) continue;
        if (classes == 0) return "labels are not taken: the served model is not class-conditional (got " + y + ")";
        if (y < 0 || y >= classes) {
          return "labels must be in [0, " + classes + ") or -1 (none) for the served model, got " + y;
        }
      }
    }
    if (c.mask() != null && c.mask().length != dim) {
      return "inpainting mask of " + c.mask().length + " pixels for samples of " + dim;
    }
    return null;
  }

  private Behavior<Command> reject(Submit s, ErrorCode code, String message, Duration retryAfter) {
    rejected++;
    s.session().tell(new RequestSession.Terminate(new SampleEvent.Rejected(s.request().requestId(), code, message,
        retryAfter)));
    return this;
  }

  // ---- Routing ----

  /** Routes queued requests in order while samplers have free rows. */
  private void dispatch() {
    while (!waiting.isEmpty()) {
      Req r = waiting.peekFirst();
      if (!route(r)) return;
      waiting.pollFirst();
      r.queued = false;
    }
  }

  /** Routes as much of r as fits; true when all of it is routed. */
  private boolean route(Req r) {
    while (!r.retry.isEmpty()) {
      Retry range = r.retry.peekFirst();
      int done = routeRange(r, range.first, range.count, range.progress, range.avoid);
      if (done < range.count) {
        if (range.progress != null) range.progress = range.progress.part(done, range.count - done);
        range.first += done;
        range.count -= done;
        return false;
      }
      r.retry.pollFirst();
    }
    int left = r.request.count() - r.nextChain;
    if (left > 0) {
      int done = routeRange(r, r.nextChain, left, null, -1);
      r.nextChain += done;
      if (done < left) return false;
    }
    return true;
  }

  /**
   * Routes chains [first, first + count) (with their saved progress, or null) as far as capacity allows; returns
   * how many were routed. A request counts as room its free rows and the rows of lower-priority chains of this
   * coordinator's, which the sampler preempts for it.
   */
  private int routeRange(Req r, int first, int count, Sampler.SliceProgress progress, int avoid) {
    int routed = 0;
    Map<Integer, Integer> room = new HashMap<>();
    // Routing r itself does not change what is preemptible for it: counted once.
    Map<Integer, Integer> preemptible = new HashMap<>();
    for (Slot s : slots.values()) preemptible.put(s.id, preemptible(s, r.request.priority()));
    while (routed < count) {
      int remaining = count - routed;
      room.clear();
      List<Slot> free = new ArrayList<>();
      for (Slot s : slots.values()) {
        int k = s.room(preemptible.get(s.id));
        room.put(s.id, k);
        if (k > 0) free.add(s);
      }
      // Chains moved away for rebalancing go elsewhere if they can.
      if (free.size() > 1) free.removeIf(s -> s.id == avoid);
      if (free.isEmpty()) break;
      free.sort(Comparator.comparingInt((Slot s) -> s.assigned).thenComparingInt(s -> s.id));
      if (remaining >= settings.splitMinChains() && free.size() > 1) {
        // Spread the chains over the samplers with room, least loaded first: each batch grows less.
        int share = (remaining + free.size() - 1) / free.size();
        for (Slot s : free) {
          int k = Math.min(Math.min(share, room.get(s.id)), count - routed);
          if (k <= 0) continue;
          send(r, s, first + routed, k, progress == null ? null : progress.part(routed, k));
          routed += k;
        }
      } else {
        Slot target = null;
        for (Slot s : free) {
          if (room.get(s.id) >= remaining) {
            target = s;
            break;
          }
        }
        if (target == null) target = free.stream().max(Comparator.comparingInt(s -> room.get(s.id))).orElseThrow();
        int k = Math.min(remaining, room.get(target.id));
        send(r, target, first + routed, k, progress == null ? null : progress.part(routed, k));
        routed += k;
      }
    }
    return routed;
  }

  /** The chains on s of this coordinator's requests of priority below the given one (0 when there are none). */
  private int preemptible(Slot s, int priority) {
    if (!s.preempts) return 0;
    int n = 0;
    for (Req q : active.values()) {
      if (q.request.priority() >= priority) continue;
      for (int[] where : q.running.values()) if (where[0] == s.id) n += where[1];
    }
    return n;
  }

  private void send(Req r, Slot s, int first, int count, Sampler.SliceProgress progress) {
    s.assigned += count;
    r.running.put(first, new int[] {s.id, count});
    s.ref.tell(new Sampler.Enqueue(r.slice(first, count, progress), getContext().getSelf()));
  }

  /** Puts a new request behind every waiting request of its priority or higher (and every restarted one). */
  private void enqueue(Req r) {
    java.util.ListIterator<Req> it = waiting.listIterator(waiting.size());
    while (it.hasPrevious()) {
      Req q = it.previous();
      if (q.attempts > 0 || q.nextChain > 0 || q.request.priority() >= r.request.priority()) {
        it.next();
        break;
      }
    }
    it.add(r);
  }

  /** 0 when all of r is routed, else its 1-based place in the admission queue. */
  private int positionOf(Req r) {
    if (!r.queued) return 0;
    int i = 1;
    for (Req q : waiting) {
      if (q == r) return i;
      i++;
    }
    return 0;
  }

  /** Mean recent tick time of the live samplers, or the configured estimate before any report. */
  private double tickSeconds() {
    long sum = 0;
    int n = 0;
    for (Slot s : slots.values()) {
      if (s.alive && s.tickNanos > 0) {
        sum += s.tickNanos;
        n++;
      }
    }
    return n == 0 ? settings.initialTickEstimate().toNanos() / 1e9 : sum / (double) n / 1e9;
  }

  private int freeRows() {
    int rows = 0;
    for (Slot s : slots.values()) rows += s.free();
    return rows;
  }

  private int capacity() {
    int rows = 0;
    for (Slot s : slots.values()) if (s.alive) rows += s.maxRows;
    return Math.max(rows, 1);
  }

  /**
   * ETA: the chain-steps queued ahead of r divided by the node's row capacity (the ticks until r's turn), plus r's
   * own network calls, at the recent tick time.
   */
  private Duration eta(Req r) {
    double ticks = r.program.nominalCalls();
    if (r.queued) {
      double ahead = 0;
      for (Req q : waiting) {
        if (q == r) break;
        ahead += (double) q.unrouted() * q.program.nominalCalls();
      }
      ticks += ahead / capacity();
    }
    return Duration.ofNanos((long) (ticks * tickSeconds() * 1e9));
  }

  /** When a queue slot will likely free: the queued chain-steps per waiting request over the node's capacity. */
  private Duration retryAfter() {
    double work = 0;
    for (Req q : waiting) work += (double) q.unrouted() * q.program.nominalCalls();
    double ticks = waiting.isEmpty() ? 0 : work / capacity() / waiting.size();
    Duration d = Duration.ofNanos((long) (ticks * tickSeconds() * 1e9));
    if (d.compareTo(settings.retryAfterMin()) < 0) return settings.retryAfterMin();
    if (d.compareTo(settings.retryAfterMax()) > 0) return settings.retryAfterMax();
    return d;
  }

  // ---- Ending requests ----

  private Behavior<Command> onCancel(Cancel c) {
    Req r = active.get(c.requestId());
    if (r != null) finish(r, new SampleEvent.Cancelled(r.id(), c.reason()));
    return this;
  }

  private Behavior<Command> onDeadlineExpired(DeadlineExpired d) {
    Req r = active.get(d.requestId());
    if (r != null) {
      Duration deadline = r.request.deadline() == null ? settings.defaultDeadline() : r.request.deadline();
      finish(r, new SampleEvent.Failed(r.id(), ErrorCode.DEADLINE_EXCEEDED, "deadline of " + deadline + " passed"));
    }
    return this;
  }

  private Behavior<Command> onRequestEnded(RequestEnded e) {
    Req r = active.get(e.requestId());
    if (r != null) finish(r, null);
    return this;
  }

  /**
   * Ends r: stops its chains on every sampler (at their next step boundary), forgets it, and when the coordinator
   * decided the outcome (terminal != null) tells the session.
   */
  private void finish(Req r, SampleEvent terminal) {
    active.remove(r.id());
    ended++;
    timers.cancel(r.id());
    if (r.queued) {
      waiting.remove(r);
      r.queued = false;
    }
    Set<Integer> samplers = new LinkedHashSet<>();
    for (int[] where : r.running.values()) samplers.add(where[0]);
    for (int id : samplers) {
      Slot s = slots.get(id);
      if (s != null && s.alive) s.ref.tell(new Sampler.Cancel(r.id(), getContext().getSelf()));
    }
    if (terminal != null) r.session.tell(new RequestSession.Terminate(terminal));
    dispatch();
  }

  // ---- Samplers ----

  /** Attaches every listed sampler not seen before; it answers with RegisterSampler under the given slot id. */
  private Behavior<Command> onSamplersListed(SamplersListed m) {
    for (ActorRef<Sampler.Command> sampler : m.listing().getServiceInstances(samplerKey)) {
      if (!attached.add(sampler)) continue;
      int id = slotIds.computeIfAbsent(sampler, k -> Math.max(slots.isEmpty() ? -1 : slots.lastKey(),
          slotIds.values().stream().max(Integer::compare).orElse(-1)) + 1);
      sampler.tell(new Sampler.Attach(getContext().getSelf(), id));
    }
    return this;
  }

  /**
   * If no request waits, and the live sampler holding most of this coordinator's chains holds at least
   * rebalance-min-chains more than the least loaded one with free rows, asks it to hand back about half the
   * difference, from the end of its largest slice; the chains come back with their states (SlicesAborted) and are
   * routed away from it, where they continue bit-identically.
   */
  private Behavior<Command> onRebalance() {
    // One move at a time: wait for the last one's chains to come back (or for a few rounds, if it was declined).
    if (moving != null && --moving.rounds < 0) moving = null;
    if (!waiting.isEmpty() || moving != null) return this;
    Slot from = null;
    Slot to = null;
    for (Slot s : slots.values()) {
      if (!s.alive) continue;
      if (from == null || s.assigned > from.assigned) from = s;
      if (s.free() > 0 && (to == null || s.assigned < to.assigned)) to = s;
    }
    if (from == null || to == null || from == to) return this;
    int move = Math.min((from.assigned - to.assigned) / 2, to.free());
    if (from.assigned - to.assigned < settings.rebalanceMinChains() || move < 1) return this;
    Req biggest = null;
    int first = -1;
    int count = 0;
    for (Req r : active.values()) {
      for (Map.Entry<Integer, int[]> e : r.running.entrySet()) {
        if (e.getValue()[0] == from.id && e.getValue()[1] > count) {
          biggest = r;
          first = e.getKey();
          count = e.getValue()[1];
        }
      }
    }
    if (biggest == null) return this;
    int k = Math.min(move, count);
    int at = first + count - k;
    moving = new Move(biggest.id(), at, k, from.id);
    getContext().getLog().info("rebalancing: moving chains [{}, {}) of request {} from sampler {} ({} chains) to "
        + "less loaded ones (sampler {}: {})", at, at + k, biggest.id(), from.id, from.assigned, to.id,
        to.assigned);
    from.ref.tell(new Sampler.Release(biggest.id(), at, k, getContext().getSelf()));
    return this;
  }

  private Behavior<Command> onRediscover() {
    getContext().getSystem().receptionist().tell(Receptionist.find(samplerKey,
        getContext().messageAdapter(Receptionist.Listing.class, SamplersListed::new)));
    return this;
  }

  private Behavior<Command> onRegisterSampler(RegisterSampler m) {
    Slot s = slots.get(m.samplerId());
    if (s == null) {
      s = new Slot(m.samplerId(), samplerKey != null);
      slots.put(m.samplerId(), s);
      getContext().watchWith(m.sampler(), new SamplerTerminated(m.samplerId()));
    } else if (!s.alive) {
      // Attached again after it was seen terminated (cluster mode): watched again.
      getContext().getLog().warn("sampler {} ({}) is back", s.id, m.device());
      getContext().watchWith(m.sampler(), new SamplerTerminated(m.samplerId()));
    }
    s.device = m.device();
    s.ref = m.sampler();
    s.maxRows = m.maxRows();
    s.preempts = m.preempts();
    s.alive = true;
    s.leaving = false;
    dispatch();
    return this;
  }

  private Behavior<Command> onSamplerLoad(SamplerLoad m) {
    Slot s = slots.get(m.samplerId());
    if (s != null) {
      s.rows = m.rows();
      s.pendingChains = m.pendingChains();
      s.ticks = m.ticks();
      s.chainSteps = m.chainSteps();
      s.tickNanos = m.tickNanos();
      s.maxDistinct = m.maxDistinctLevels();
      s.assignedAtReport = s.assigned;
      // Rows that other coordinators' chains freed are seen here first.
      if (s.shared) dispatch();
    }
    return this;
  }

  private Behavior<Command> onSliceEnded(SliceEnded m) {
    release(m.samplerId(), m.count());
    Req r = active.get(m.requestId());
    if (r != null) {
      int[] where = r.running.get(m.firstChain());
      if (where != null && where[0] == m.samplerId()) {
        r.running.remove(m.firstChain());
        r.checkpoints.remove(m.firstChain());
      }
    }
    dispatch();
    return this;
  }

  private Behavior<Command> onSlicesAborted(SlicesAborted m) {
    Map<Req, List<AbortedSlice>> byRequest = new LinkedHashMap<>();
    for (AbortedSlice a : m.slices()) {
      release(m.samplerId(), a.slice().count());
      Req r = active.get(a.slice().requestId());
      if (r == null || !takeBack(r, m.samplerId(), a.slice().firstChain(), a.slice().count())) continue;
      byRequest.computeIfAbsent(r, k -> new ArrayList<>()).add(a);
    }
    byRequest.forEach((r, aborted) -> reroute(r, aborted, m.reason()));
    dispatch();
    return this;
  }

  /** Keeps the latest checkpoint of each slice, or part of one, while it runs on that sampler. */
  private Behavior<Command> onSliceCheckpoints(SliceCheckpoints m) {
    for (Sampler.ChainSlice slice : m.slices()) {
      Req r = active.get(slice.requestId());
      if (r == null || slice.progress() == null) continue;
      Map.Entry<Integer, int[]> e = r.running.floorEntry(slice.firstChain());
      if (e != null && e.getValue()[0] == m.samplerId()
          && slice.firstChain() + slice.count() <= e.getKey() + e.getValue()[1]) {
        r.checkpoint(e.getKey(), slice.firstChain(), slice.count(), slice.progress());
      }
    }
    return this;
  }

  private Behavior<Command> onSamplerLeaving(SamplerLeaving m) {
    Slot s = slots.get(m.samplerId());
    if (s != null && s.alive) {
      getContext().getLog().info("sampler {} ({}) is leaving; its chains continue elsewhere", s.id, s.device);
      s.alive = false;
      s.leaving = true;
      s.assigned = 0;
      s.rows = 0;
    }
    return this;
  }

  private Behavior<Command> onSamplerTerminated(SamplerTerminated m) {
    Slot s = slots.get(m.samplerId());
    if (s == null) return this;
    s.alive = false;
    s.assigned = 0;
    s.rows = 0;
    if (s.ref != null) attached.remove(s.ref);
    getContext().getLog().error("sampler {} ({}) stopped", s.id, s.device);
    for (Req r : List.copyOf(active.values())) {
      List<AbortedSlice> lost = new ArrayList<>();
      for (Iterator<Map.Entry<Integer, int[]>> it = r.running.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<Integer, int[]> e = it.next();
        if (e.getValue()[0] != s.id) continue;
        // From its latest checkpoints where it has them (the same samples as from its seeds, less work redone).
        for (Sampler.ChainSlice slice : r.resumed(e.getKey(), e.getValue()[1])) {
          lost.add(new AbortedSlice(slice, !s.leaving));
        }
        it.remove();
      }
      if (!lost.isEmpty()) reroute(r, lost, "sampler " + s.id + " (" + s.device + ") stopped");
    }
    if (slots.values().stream().noneMatch(x -> x.alive)) {
      for (Req r : List.copyOf(active.values())) {
        finish(r, new SampleEvent.Failed(r.id(), ErrorCode.UNAVAILABLE, "no sampler is running"));
      }
    }
    dispatch();
    return this;
  }

  /**
   * Routes aborted slices again, from their saved progress (a drained sampler's) or their seeds, or fails the
   * request once its retries are spent.
   */
  private void reroute(Req r, List<AbortedSlice> aborted, String reason) {
    if (aborted.stream().anyMatch(AbortedSlice::started)) {
      r.attempts++;
      if (r.attempts > settings.maxRetries()) {
        finish(r, new SampleEvent.Failed(r.id(), ErrorCode.INTERNAL, reason + " (request restarted "
            + (r.attempts - 1) + " times, max-retries " + settings.maxRetries() + ")"));
        return;
      }
      long resumed = aborted.stream().filter(a -> a.slice().progress() != null).count();
      getContext().getLog().warn("request {}: restarting {} slices from their seeds and resuming {} from "
          + "checkpoints after: {}", r.id(), aborted.size() - resumed, resumed, reason);
    }
    for (AbortedSlice a : aborted) {
      int avoid = -1;
      if (moving != null && moving.covers(r.id(), a.slice().firstChain())) {
        avoid = moving.from;
        rebalanced += a.slice().count();
        moving.left -= a.slice().count();
        if (moving.left <= 0) moving = null;
      }
      r.retry.addLast(new Retry(a.slice().firstChain(), a.slice().count(), a.slice().progress(), avoid));
    }
    if (!r.queued) {
      // Already admitted: it goes ahead of requests that have not started.
      waiting.addFirst(r);
      r.queued = true;
    }
  }

  /**
   * Removes chains [first, first + count) from the slice routed to the sampler that holds them (a sampler may give a
   * slice back in parts); false if no such slice is there.
   */
  private static boolean takeBack(Req r, int samplerId, int first, int count) {
    Map.Entry<Integer, int[]> e = r.running.floorEntry(first);
    if (e == null || e.getValue()[0] != samplerId || e.getKey() + e.getValue()[1] < first + count) return false;
    int start = e.getKey();
    int end = start + e.getValue()[1];
    r.running.remove(start);
    r.checkpoints.remove(start);
    if (first > start) r.running.put(start, new int[] {samplerId, first - start});
    if (first + count < end) r.running.put(first + count, new int[] {samplerId, end - first - count});
    return true;
  }

  private void release(int samplerId, int count) {
    Slot s = slots.get(samplerId);
    if (s != null && s.alive) s.assigned = Math.max(0, s.assigned - count);
  }

  private Behavior<Command> onGetStatus(GetStatus g) {
    List<SamplerView> views = new ArrayList<>();
    for (Slot s : slots.values()) {
      views.add(new SamplerView(s.id, s.device, s.alive, s.maxRows, s.assigned, s.rows, s.pendingChains, s.ticks,
          s.chainSteps, s.tickNanos, s.maxDistinct));
    }
    g.replyTo().tell(new NodeStatus(waiting.size(), active.size(), accepted, rejected, ended, views, rebalanced));
    return this;
  }
}
