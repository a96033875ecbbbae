package io.scorestream.actors;

import akka.actor.ActorRef;
import akka.cluster.sharding.ShardCoordinator;
import akka.dispatch.Futures;
import java.util.Map;
import java.util.Set;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;

/**
 * Where the request sessions' shards live: a new shard goes to the gateway member holding the fewest (the one that
 * asked, on a tie), and a shard never moves while its member is up. A moved shard's sessions would be stopped and
 * started empty elsewhere, ending their running requests; sharding's default strategy moves shards to every member
 * that joins. Shards move only when their member leaves or is lost.
 */
public final class StickyShardAllocation extends ShardCoordinator.AbstractShardAllocationStrategy {

  @Override
  public Future<ActorRef> allocateShard(ActorRef requester, String shardId,
                                        Map<ActorRef, IndexedSeq<String>> current) {
    ActorRef best = current.containsKey(requester) ? requester : null;
    int fewest = best == null ? Integer.MAX_VALUE : current.get(requester).size();
    for (Map.Entry<ActorRef, IndexedSeq<String>> e : current.entrySet()) {
      if (e.getValue().size() < fewest) {
        best = e.getKey();
        fewest = e.getValue().size();
      }
    }
    return Futures.successful(best != null ? best : requester);
  }

  @Override
  public Future<Set<String>> rebalance(Map<ActorRef, IndexedSeq<String>> current, Set<String> inProgress) {
    return Futures.successful(Set.of());
  }
}
