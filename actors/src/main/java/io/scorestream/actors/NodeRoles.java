package io.scorestream.actors;

import akka.actor.typed.ActorSystem;
import akka.cluster.typed.Cluster;
import java.util.Collection;
import java.util.List;

/**
 * What a node does in a cluster, from its Akka cluster roles ({@code akka.cluster.roles}): {@code gateway} nodes run
 * the HTTP and Aeron gateways (and the sessions of the requests they take), {@code sampler} nodes run samplers that
 * every node's coordinator routes to, {@code trainer} nodes run the trainer. A member with none of the three, and a
 * node outside a cluster, does all of them.
 */
public final class NodeRoles {
  public static final String GATEWAY = "gateway";
  public static final String SAMPLER = "sampler";
  public static final String TRAINER = "trainer";
  /** The roles scorestream knows, in the order it names them. */
  public static final List<String> ALL = List.of(GATEWAY, SAMPLER, TRAINER);

  private NodeRoles() {}

  /** Whether system runs as a member of an Akka cluster ({@code akka.actor.provider = cluster}). */
  public static boolean clustered(ActorSystem<?> system) {
    String provider = system.settings().config().getString("akka.actor.provider");
    return provider.equals("cluster") || provider.equals("akka.cluster.ClusterActorRefProvider");
  }

  /** Whether this node takes the role (see the class comment). */
  public static boolean has(ActorSystem<?> system, String role) {
    return !clustered(system) || takes(Cluster.get(system).selfMember().getRoles(), role);
  }

  /** Whether a member with these cluster roles takes the role: it has it, or it has none of the three. */
  public static boolean takes(Collection<String> roles, String role) {
    if (!ALL.contains(role)) throw new IllegalArgumentException("unknown role '" + role + "', one of " + ALL);
    return roles.contains(role) || roles.stream().noneMatch(ALL::contains);
  }

  /** host:port of this node in its cluster, or "local". */
  public static String address(ActorSystem<?> system) {
    if (!clustered(system)) return "local";
    akka.actor.Address a = Cluster.get(system).selfMember().address();
    return a.host().isDefined() ? a.host().get() + ":" + a.port().get() : a.toString();
  }
}
