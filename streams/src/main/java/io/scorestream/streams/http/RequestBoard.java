package io.scorestream.streams.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.cluster.sharding.typed.ClusterShardingSettings;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import io.scorestream.actors.ErrorCode;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.NodeRoles;
import io.scorestream.actors.SampleEvent;
import io.scorestream.actors.ScoreStream;
import io.scorestream.protocol.json.SampleStatus;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The HTTP gateway's index of requests. On a lone node it holds one {@link RequestView} child per request it
 * submitted, looked up by id, and answers unknown ids itself. In a cluster the views are sharded entities keyed by
 * request id, on the gateway members: the board starts the requests posted here in their views wherever sharding
 * places them, and sends every read, subscription and cancellation, for any id, to its view through sharding, so a
 * request posted to one member is followed, read and cancelled through any other; it watches the views its
 * subscribers follow and ends their streams with Failed UNAVAILABLE if a view is lost with its member.
 *
 * <p>It counts open subscriptions and bounds what is retained of the requests posted here: finished ones beyond
 * {@code retention.max-finished} are forgotten oldest first (each view also forgets itself after
 * {@code retention.ttl}). Running requests are never evicted; the node's admission queue bounds them. State is
 * confined to the actor.
 */
final class RequestBoard extends AbstractBehavior<RequestBoard.Command> {

  sealed interface Command
      permits Submit, Get, Subscribe, Unsubscribe, Delivered, Cancel, GetCounts, Stop, ViewFinished, ViewStopped,
          ViewHosted, ViewLost {}

  /** Submits request (its id and seed set) through a new view; the view answers admission. */
  record Submit(GenerateRequest request, String sampler, ActorRef<RequestView.Admission> replyTo)
      implements Command {}

  /** The status of a request; empty when no gateway knows the id (never submitted, or forgotten). */
  record Get(String id, ActorRef<RequestView.Status> replyTo) implements Command {}

  /** Subscribes to a request's events; an unknown id gets {@link RequestView.Gone}. */
  record Subscribe(String id, ActorRef<RequestView.Outbound> subscriber, RequestView.Transport transport)
      implements Command {}

  record Unsubscribe(String id, ActorRef<RequestView.Outbound> subscriber) implements Command {}

  record Delivered(String id, RequestView.Transport transport) implements Command {}

  record Cancel(String id, ActorRef<RequestView.CancelReply> replyTo) implements Command {}

  record GetCounts(ActorRef<Counts> replyTo) implements Command {}

  /**
   * What the board holds.
   *
   * @param retained    requests with a view (running and finished)
   * @param running     of those, not finished
   * @param subscribers open event streams
   * @param submitted   requests submitted through this gateway since it started (admitted or not)
   */
  record Counts(int retained, int running, int subscribers, long submitted) {}

  /** Stops the board and every view (the gateway is closing; the node's requests run on). */
  enum Stop implements Command { INSTANCE }

  private record ViewFinished(String id) implements Command {}

  private record ViewStopped(String id) implements Command {}

  private record ViewHosted(RequestView.Hosted hosted) implements Command {}

  private record ViewLost(String id, ActorRef<RequestView.Command> view) implements Command {}

  /** A board of a lone node, or of a cluster member when region is the views' shard region (else null). */
  static Behavior<Command> create(ScoreStream api, HttpSettings settings,
                                  ActorRef<ShardingEnvelope<RequestView.Command>> region) {
    return Behaviors.setup(ctx -> new RequestBoard(ctx, api, settings, region));
  }

  /**
   * The views' shard region on api's cluster member (initialised once per actor system: every gateway of the member
   * shares it), or null on a lone node.
   */
  static ActorRef<ShardingEnvelope<RequestView.Command>> region(ScoreStream api, HttpSettings settings) {
    if (!api.clustered()) return null;
    return ClusterSharding.get(api.system()).init(Entity.of(RequestView.TYPE_KEY,
            entity -> RequestView.entity(entity, api, settings.retentionTtl()))
        .withRole(NodeRoles.GATEWAY)
        .withStopMessage(RequestView.HandOff.INSTANCE)
        .withAllocationStrategy(new StickyShardAllocation())
        // A view lives until its request has ended and its retention TTL passed: never passivated for idleness (a
        // queued or long request can be silent for minutes).
        .withSettings(ClusterShardingSettings.create(api.system()).withNoPassivationStrategy()));
  }

  private final ScoreStream api;
  private final HttpSettings settings;
  private final ActorRef<RequestView.Finished> finishedAdapter;
  private final ActorRef<RequestView.Hosted> hostedAdapter;
  private final ActorRef<ShardingEnvelope<RequestView.Command>> region;
  /** The views of requests posted here: children on a lone node; in a cluster, their ids (views elsewhere: null). */
  private final Map<String, ActorRef<RequestView.Command>> views = new HashMap<>();
  /** Cluster mode: this board's subscribers by request id, and the views it watches for them. */
  private final Map<String, Set<ActorRef<RequestView.Outbound>>> following = new HashMap<>();
  private final Set<ActorRef<RequestView.Command>> watched = new HashSet<>();
  /** Finished requests, oldest first: the eviction order. */
  private final LinkedHashSet<String> finished = new LinkedHashSet<>();
  private final Set<ActorRef<RequestView.Outbound>> subscribers = new HashSet<>();
  private long submitted;

  private RequestBoard(ActorContext<Command> ctx, ScoreStream api, HttpSettings settings,
                       ActorRef<ShardingEnvelope<RequestView.Command>> region) {
    super(ctx);
    this.api = api;
    this.settings = settings;
    this.region = region;
    this.finishedAdapter = ctx.messageAdapter(RequestView.Finished.class, f -> new ViewFinished(f.id()));
    this.hostedAdapter = ctx.messageAdapter(RequestView.Hosted.class, ViewHosted::new);
  }

  /** Sends c to the view of request id: through sharding, or to the child; false if there is no such child. */
  private boolean toView(String id, RequestView.Command c) {
    if (region != null) {
      region.tell(new ShardingEnvelope<>(id, c));
      return true;
    }
    ActorRef<RequestView.Command> view = views.get(id);
    if (view == null) return false;
    view.tell(c);
    return true;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Submit.class, this::onSubmit)
        .onMessage(Get.class, this::onGet)
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(Unsubscribe.class, this::onUnsubscribe)
        .onMessage(Delivered.class, this::onDelivered)
        .onMessage(Cancel.class, this::onCancel)
        .onMessage(GetCounts.class, this::onGetCounts)
        .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
        .onMessage(ViewFinished.class, this::onViewFinished)
        .onMessage(ViewStopped.class, this::onViewStopped)
        .onMessage(ViewHosted.class, this::onViewHosted)
        .onMessage(ViewLost.class, this::onViewLost)
        .build();
  }

  private Behavior<Command> onSubmit(Submit s) {
    String id = s.request().requestId();
    submitted++;
    RequestView.Start start = new RequestView.Start(s.request(), s.sampler(), s.replyTo(), finishedAdapter,
        region != null ? hostedAdapter : null);
    if (region != null) {
      views.put(id, null);
      toView(id, start);
      return this;
    }
    ActorRef<RequestView.Command> view = getContext().spawn(RequestView.create(api, start, settings.retentionTtl()),
        "request-" + id);
    getContext().watchWith(view, new ViewStopped(id));
    views.put(id, view);
    return this;
  }

  private Behavior<Command> onGet(Get g) {
    if (!toView(g.id(), new RequestView.Get(g.replyTo()))) g.replyTo().tell(new RequestView.Status(null));
    return this;
  }

  private Behavior<Command> onSubscribe(Subscribe s) {
    boolean sent = toView(s.id(), new RequestView.Subscribe(s.subscriber(), s.transport(),
        region != null ? hostedAdapter : null));
    if (!sent) {
      s.subscriber().tell(RequestView.Gone.INSTANCE);
      return this;
    }
    subscribers.add(s.subscriber());
    if (region != null) following.computeIfAbsent(s.id(), k -> new HashSet<>()).add(s.subscriber());
    return this;
  }

  private Behavior<Command> onUnsubscribe(Unsubscribe u) {
    subscribers.remove(u.subscriber());
    Set<ActorRef<RequestView.Outbound>> subs = following.get(u.id());
    if (subs != null && subs.remove(u.subscriber()) && subs.isEmpty()) following.remove(u.id());
    toView(u.id(), new RequestView.Unsubscribe(u.subscriber()));
    return this;
  }

  private Behavior<Command> onDelivered(Delivered d) {
    toView(d.id(), new RequestView.Delivered(d.transport()));
    return this;
  }

  private Behavior<Command> onCancel(Cancel c) {
    if (!toView(c.id(), new RequestView.Cancel(c.replyTo()))) c.replyTo().tell(RequestView.NotFound.INSTANCE);
    return this;
  }

  /**
   * A view of a request posted here, or one this board's subscribers follow (cluster mode): watched, so that its loss
   * ends their streams and the request counts as ended here.
   */
  private Behavior<Command> onViewHosted(ViewHosted h) {
    String id = h.hosted().id();
    if ((following.containsKey(id) || views.containsKey(id)) && watched.add(h.hosted().view())) {
      getContext().watchWith(h.hosted().view(), new ViewLost(h.hosted().id(), h.hosted().view()));
    }
    return this;
  }

  /**
   * A followed view stopped: after its terminal event its subscribers have ended already; if they have not, it was
   * lost with its member, and their streams end with Failed UNAVAILABLE rather than wait forever.
   */
  private Behavior<Command> onViewLost(ViewLost l) {
    watched.remove(l.view());
    // A request posted here whose view stopped before it told us it ended (lost with its member): ended here.
    if (views.containsKey(l.id()) && !finished.contains(l.id())) onViewFinished(new ViewFinished(l.id()));
    Set<ActorRef<RequestView.Outbound>> subs = following.remove(l.id());
    if (subs == null) return this;
    RequestView.Deliver failed = new RequestView.Deliver(new SampleEvent.Failed(l.id(), ErrorCode.UNAVAILABLE,
        "the gateway member that held request " + l.id() + " was lost; its outcome is unknown"));
    for (ActorRef<RequestView.Outbound> s : subs) s.tell(failed);
    return this;
  }

  private Behavior<Command> onGetCounts(GetCounts g) {
    g.replyTo().tell(new Counts(views.size(), views.size() - finished.size(), subscribers.size(), submitted));
    return this;
  }

  private Behavior<Command> onViewFinished(ViewFinished f) {
    if (!views.containsKey(f.id())) return this;
    finished.add(f.id());
    for (Iterator<String> it = finished.iterator(); finished.size() > settings.retentionMaxFinished(); ) {
      String oldest = it.next();
      it.remove();
      ActorRef<RequestView.Command> view = views.remove(oldest);
      if (view != null) getContext().stop(view);
      else if (region != null) toView(oldest, RequestView.Evict.INSTANCE);
    }
    return this;
  }

  private Behavior<Command> onViewStopped(ViewStopped s) {
    views.remove(s.id());
    finished.remove(s.id());
    return this;
  }
}
