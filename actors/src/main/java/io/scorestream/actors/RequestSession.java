package io.scorestream.actors;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.scorestream.config.SessionSettings;
import java.time.Duration;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * One request's session: submits the request to the coordinator when its subscriber attaches, gathers the previews
 * and samples its slices send from any number of samplers, and hands the subscriber {@link SampleEvent}s one at a
 * time, each after the previous one was taken ({@link Ack}, the protocol of
 * {@code ActorSource.actorRefWithBackpressure}). While the subscriber is busy, previews conflate (the latest
 * replaces the one not yet taken), so a slow or stalled consumer costs O(1) memory and never slows a sampler, which
 * only ever tells this actor. Accepted goes first, the terminal event last, and neither is ever dropped.
 *
 * <p>The terminal event is decided here when the slices complete or a chain fails (the coordinator is told, so it
 * frees the request's other chains), or by the coordinator ({@link Terminate}: rejection, deadline, cancellation,
 * sampler failure). If the subscriber goes away first, the request is cancelled. State is confined to the actor.
 */
public final class RequestSession extends AbstractBehavior<RequestSession.Command> {

  public sealed interface Command
      permits Attach, Ack, Admitted, Terminate, SlicePreview, SliceCompleted, SliceFailed, SubscriberGone,
          LingerExpired {}

  /** The subscriber (a stream's actor source) attaches; the request is submitted now. */
  public record Attach(ActorRef<SampleEvent> subscriber) implements Command {}

  /** The subscriber took the last event. */
  public enum Ack implements Command { INSTANCE }

  /** The coordinator accepted the request. */
  public record Admitted(SampleEvent.Accepted accepted) implements Command {}

  /** The coordinator ended the request (Rejected, Failed or Cancelled). */
  public record Terminate(SampleEvent terminal) implements Command {}

  /** Tweedie estimates of chains [firstChain, firstChain + count), at the slice's step. */
  public record SlicePreview(String requestId, int firstChain, int count, int step, int totalSteps,
                             Samples denoised) implements Command, ClusterMessage {
    public SlicePreview {
      if (denoised.count() != count) throw new IllegalArgumentException(denoised + " for " + count + " chains");
    }

    /** Vectors, row-major (a copy). */
    public SlicePreview(String requestId, int firstChain, int count, int step, int totalSteps, double[] denoised) {
      this(requestId, firstChain, count, step, totalSteps, Samples.vectors(count, denoised));
    }
  }

  /** The final samples of chains [firstChain, firstChain + count), with the model versions used. */
  public record SliceCompleted(String requestId, int firstChain, int count, Samples samples, List<Long> versions,
                               long networkCalls) implements Command, ClusterMessage {
    public SliceCompleted {
      if (samples.count() != count) throw new IllegalArgumentException(samples + " for " + count + " chains");
      versions = List.copyOf(versions);
    }

    /** Vectors, row-major (a copy). */
    public SliceCompleted(String requestId, int firstChain, int count, double[] samples, List<Long> versions,
                          long networkCalls) {
      this(requestId, firstChain, count, Samples.vectors(count, samples), versions, networkCalls);
    }
  }

  /** A slice failed (a chain became NaN or infinite): the request fails. */
  public record SliceFailed(String requestId, int firstChain, int count, ErrorCode code, String message)
      implements Command, ClusterMessage {}

  private enum SubscriberGone implements Command { INSTANCE }

  private enum LingerExpired implements Command { INSTANCE }

  public static Behavior<Command> create(GenerateRequest request, ActorRef<Coordinator.Command> coordinator,
                                         SessionSettings settings) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(t -> new RequestSession(ctx, t, request, coordinator,
        settings)));
  }

  private final TimerScheduler<Command> timers;
  private final GenerateRequest request;
  private final ActorRef<Coordinator.Command> coordinator;
  private final SessionSettings settings;
  private final BitSet done = new BitSet();
  private final TreeSet<Long> versions = new TreeSet<>();
  private final Map<Integer, Integer> sliceSteps = new HashMap<>();
  private ActorRef<SampleEvent> subscriber;
  private long startNanos;
  private int dim;
  private long[] shape;
  private double[] samples;
  private double[] preview;
  /** The latest preview when one slice holds the whole request: passed on as it came, not merged. */
  private Samples wholePreview;
  /** The samples when one slice held the whole request. */
  private Samples wholeSamples;
  private int previewTotal;
  private boolean previewPending;
  private boolean previewSent;
  private int doneChains;
  private long networkCalls;
  private SampleEvent.Accepted accepted;
  private boolean acceptedSent;
  private SampleEvent terminal;
  private boolean terminalSent;
  private boolean awaitingAck;
  private boolean subscriberGone;

  private RequestSession(ActorContext<Command> ctx, TimerScheduler<Command> timers, GenerateRequest request,
                         ActorRef<Coordinator.Command> coordinator, SessionSettings settings) {
    super(ctx);
    this.timers = timers;
    this.request = request;
    this.coordinator = coordinator;
    this.settings = settings;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Attach.class, this::onAttach)
        .onMessageEquals(Ack.INSTANCE, this::onAck)
        .onMessage(Admitted.class, this::onAdmitted)
        .onMessage(Terminate.class, this::onTerminate)
        .onMessage(SlicePreview.class, this::onSlicePreview)
        .onMessage(SliceCompleted.class, this::onSliceCompleted)
        .onMessage(SliceFailed.class, this::onSliceFailed)
        .onMessageEquals(SubscriberGone.INSTANCE, this::onSubscriberGone)
        .onMessageEquals(LingerExpired.INSTANCE, Behaviors::stopped)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onAttach(Attach a) {
    if (subscriber != null) return this;
    subscriber = a.subscriber();
    getContext().watchWith(subscriber, SubscriberGone.INSTANCE);
    startNanos = System.nanoTime();
    coordinator.tell(new Coordinator.Submit(request, getContext().getSelf()));
    return this;
  }

  private Behavior<Command> onAck() {
    awaitingAck = false;
    if (terminalSent) return Behaviors.stopped();
    pump();
    return this;
  }

  private Behavior<Command> onAdmitted(Admitted a) {
    accepted = a.accepted();
    pump();
    return this;
  }

  private Behavior<Command> onTerminate(Terminate t) {
    if (terminal == null) end(t.terminal(), false);
    return this;
  }

  private Behavior<Command> onSlicePreview(SlicePreview p) {
    if (terminal != null) return this;
    ensureArrays(p.denoised());
    if (whole(p.firstChain(), p.count())) {
      wholePreview = p.denoised();
    } else {
      mergeArrays();
      wholePreview = null;
      p.denoised().copyRows(0, p.count(), preview, p.firstChain());
    }
    sliceSteps.put(p.firstChain(), p.step());
    previewTotal = Math.max(previewTotal, p.totalSteps());
    previewPending = true;
    pump();
    return this;
  }

  private Behavior<Command> onSliceCompleted(SliceCompleted c) {
    if (terminal != null) return this;
    ensureArrays(c.samples());
    // A slice that was given back by a failing sampler and routed again can in principle report twice.
    if (done.get(c.firstChain(), c.firstChain() + c.count()).cardinality() == c.count()) return this;
    if (whole(c.firstChain(), c.count()) && doneChains == 0) {
      wholeSamples = c.samples();
      // A preview still to be sent shows the finished chains' samples, as a merged one does.
      wholePreview = wholeSamples;
      done.set(0, c.count());
      doneChains = c.count();
    } else {
      mergeArrays();
      for (int i = 0; i < c.count(); i++) {
        int chain = c.firstChain() + i;
        if (done.get(chain)) continue;
        done.set(chain);
        doneChains++;
        c.samples().copyRows(i, 1, samples, chain);
        c.samples().copyRows(i, 1, preview, chain);
      }
    }
    sliceSteps.remove(c.firstChain());
    versions.addAll(c.versions());
    networkCalls += c.networkCalls();
    if (doneChains == request.count()) {
      Duration latency = Duration.ofNanos(System.nanoTime() - startNanos);
      // The merged array is complete and never written again: it becomes the result as it is.
      Samples all = wholeSamples != null ? wholeSamples : Samples.adopt(shape, request.count(), samples);
      end(new SampleEvent.Completed(new Result(request.requestId(), all, List.copyOf(versions), networkCalls,
          latency)), true);
    }
    return this;
  }

  private Behavior<Command> onSliceFailed(SliceFailed f) {
    if (terminal == null) end(new SampleEvent.Failed(request.requestId(), f.code(), f.message()), true);
    return this;
  }

  private Behavior<Command> onSubscriberGone() {
    subscriberGone = true;
    if (terminal == null) coordinator.tell(new Coordinator.Cancel(request.requestId(), "the subscriber went away"));
    return Behaviors.stopped();
  }

  private Behavior<Command> onPostStop() {
    // Stopped by a failure or a shutdown before the end: fail the stream rather than leave it hanging. (If the
    // subscriber still owes an ack, the source fails the stream instead, which also ends it.)
    if (subscriber != null && !terminalSent && !subscriberGone) {
      subscriber.tell(new SampleEvent.Failed(request.requestId(), ErrorCode.INTERNAL, "the request session stopped"));
    }
    return this;
  }

  /** Records the terminal event; tells the coordinator when the outcome was decided here. */
  private void end(SampleEvent event, boolean tellCoordinator) {
    terminal = event;
    // The result supersedes previews, except that a subscriber that has seen none yet gets the latest first.
    previewPending = previewPending && !previewSent && event instanceof SampleEvent.Completed;
    if (tellCoordinator) coordinator.tell(new Coordinator.RequestEnded(request.requestId()));
    pump();
  }

  /**
   * Sends the next event if the subscriber has taken the last one: Accepted, then the latest preview, then the end
   * (before which a preview still pending goes only if none went yet: a fast request still shows one).
   */
  private void pump() {
    if (subscriber == null || awaitingAck || terminalSent) return;
    SampleEvent next = null;
    if (accepted != null && !acceptedSent) {
      next = accepted;
      acceptedSent = true;
    } else if (previewPending && acceptedSent) {
      int step = sliceSteps.values().stream().mapToInt(Integer::intValue).min().orElse(previewTotal);
      next = new SampleEvent.Preview(request.requestId(), step, previewTotal,
          wholePreview != null ? wholePreview : Samples.copyOf(shape, request.count(), preview));
      previewPending = false;
      previewSent = true;
    } else if (terminal != null && (acceptedSent || terminal instanceof SampleEvent.Rejected)) {
      next = terminal;
      terminalSent = true;
      timers.startSingleTimer(LingerExpired.INSTANCE, settings.linger());
    }
    if (next != null) {
      awaitingAck = true;
      subscriber.tell(next);
    }
  }

  /** Whether chains [first, first + count) are the whole request. */
  private boolean whole(int first, int count) {
    return first == 0 && count == request.count();
  }

  private void ensureArrays(Samples first) {
    if (shape != null) return;
    shape = first.shape();
    dim = first.dim();
  }

  /** The arrays slices of a request split over samplers are merged into (one slice's values pass through). */
  private void mergeArrays() {
    if (samples != null) return;
    samples = new double[request.count() * dim];
    preview = new double[request.count() * dim];
    Arrays.fill(preview, Double.NaN);
  }
}
