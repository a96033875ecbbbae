package io.scorestream.streams.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import io.scorestream.actors.GenerateRequest;
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
 * The HTTP gateway's index of requests: one {@link RequestView} child per request it submitted, looked up by id.
 * It routes reads, subscriptions and cancellations to the right view (answering unknown ids itself), counts open
 * subscriptions, and bounds what is retained: finished requests beyond {@code retention.max-finished} are forgotten
 * oldest first (each view also forgets itself after {@code retention.ttl}). Running requests are never evicted;
 * the node's admission queue bounds them. State is confined to the actor.
 */
final class RequestBoard extends AbstractBehavior<RequestBoard.Command> {

  sealed interface Command
      permits Submit, Get, Subscribe, Unsubscribe, Delivered, Cancel, GetCounts, Stop, ViewFinished, ViewStopped {}

  /** Submits request (its id and seed set) through a new view; the view answers admission. */
  record Submit(GenerateRequest request, String sampler, ActorRef<RequestView.Admission> replyTo)
      implements Command {}

  /** The status of a request; empty when the gateway does not know the id (never submitted, or forgotten). */
  record Get(String id, ActorRef<Optional<SampleStatus>> replyTo) implements Command {}

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

  static Behavior<Command> create(ScoreStream api, HttpSettings settings) {
    return Behaviors.setup(ctx -> new RequestBoard(ctx, api, settings));
  }

  private final ScoreStream api;
  private final HttpSettings settings;
  private final ActorRef<String> finishedAdapter;
  private final Map<String, ActorRef<RequestView.Command>> views = new HashMap<>();
  /** Finished requests, oldest first: the eviction order. */
  private final LinkedHashSet<String> finished = new LinkedHashSet<>();
  private final Set<ActorRef<RequestView.Outbound>> subscribers = new HashSet<>();
  private long submitted;

  private RequestBoard(ActorContext<Command> ctx, ScoreStream api, HttpSettings settings) {
    super(ctx);
    this.api = api;
    this.settings = settings;
    this.finishedAdapter = ctx.messageAdapter(String.class, ViewFinished::new);
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
        .build();
  }

  private Behavior<Command> onSubmit(Submit s) {
    String id = s.request().requestId();
    submitted++;
    ActorRef<RequestView.Command> view = getContext().spawn(RequestView.create(api, s.request(), s.sampler(),
        settings.retentionTtl(), s.replyTo(), finishedAdapter), "request-" + id);
    getContext().watchWith(view, new ViewStopped(id));
    views.put(id, view);
    return this;
  }

  private Behavior<Command> onGet(Get g) {
    ActorRef<RequestView.Command> view = views.get(g.id());
    if (view == null) g.replyTo().tell(Optional.empty());
    else view.tell(new RequestView.Get(g.replyTo()));
    return this;
  }

  private Behavior<Command> onSubscribe(Subscribe s) {
    ActorRef<RequestView.Command> view = views.get(s.id());
    if (view == null) {
      s.subscriber().tell(RequestView.Gone.INSTANCE);
    } else {
      subscribers.add(s.subscriber());
      view.tell(new RequestView.Subscribe(s.subscriber(), s.transport()));
    }
    return this;
  }

  private Behavior<Command> onUnsubscribe(Unsubscribe u) {
    subscribers.remove(u.subscriber());
    ActorRef<RequestView.Command> view = views.get(u.id());
    if (view != null) view.tell(new RequestView.Unsubscribe(u.subscriber()));
    return this;
  }

  private Behavior<Command> onDelivered(Delivered d) {
    ActorRef<RequestView.Command> view = views.get(d.id());
    if (view != null) view.tell(new RequestView.Delivered(d.transport()));
    return this;
  }

  private Behavior<Command> onCancel(Cancel c) {
    ActorRef<RequestView.Command> view = views.get(c.id());
    if (view == null) c.replyTo().tell(RequestView.NotFound.INSTANCE);
    else view.tell(new RequestView.Cancel(c.replyTo()));
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
    }
    return this;
  }

  private Behavior<Command> onViewStopped(ViewStopped s) {
    views.remove(s.id());
    finished.remove(s.id());
    return this;
  }
}
