package io.scorestream.actors;

import static io.scorestream.actors.TestNode.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.javadsl.Adapter;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Down;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import io.scorestream.model.sample.SamplerSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes of one Akka cluster in this JVM, over Artery TCP on loopback with real serialization: a gateway node
 * without samplers routes its requests to the samplers of two sampler nodes that its coordinator found through the
 * receptionist; the samples equal offline ones for the same seeds, and when a sampler node is lost its chains are
 * routed again from their seeds and still give the same samples.
 */
class ClusterNodesTest {
  private final List<ActorTestKit> kits = new ArrayList<>();
  private final List<TestNode> nodes = new ArrayList<>();

  @AfterEach
  void stop() {
    for (TestNode n : nodes) {
      // The lost node's system shut itself down when it was downed.
      if (n.kit.system().whenTerminated().isCompleted()) continue;
      n.close();
    }
    for (ActorTestKit k : kits) k.shutdownTestKit();
  }

  private ActorTestKit member(String role) {
    return member(role, "");
  }

  private ActorTestKit member(String role, String extra) {
    ActorTestKit kit = ActorTestKit.create("scorestream", ConfigFactory.parseString(extra).withFallback(
        ConfigFactory.parseString(String.join("\n",
            "akka.actor.provider = cluster",
            "akka.remote.artery.canonical.hostname = 127.0.0.1",
            "akka.remote.artery.canonical.port = 0",
            "akka.cluster.roles = [" + role + "]",
            "akka.cluster.jmx.multi-mbeans-in-same-jvm = on",
            "akka.cluster.downing-provider-class = \"akka.cluster.sbr.SplitBrainResolverProvider\"",
            "akka.cluster.split-brain-resolver.stable-after = 3s",
            "akka.coordinated-shutdown.terminate-actor-system = on")))
        .withFallback(ConfigFactory.parseResources("application-test.conf")).withFallback(ConfigFactory.load()));
    kits.add(kit);
    return kit;
  }

  private static Address address(ActorTestKit kit) {
    return Cluster.get(kit.system()).selfMember().address();
  }

  /** Members of these roles, joined into one cluster, all Up. */
  private List<ActorTestKit> formed(String... roles) throws InterruptedException {
    List<ActorTestKit> members = new ArrayList<>();
    for (String role : roles) members.add(member(role));
    form(members);
    return members;
  }

  /** Joins every kit to the first one's cluster and waits until all are Up there. */
  private static void form(List<ActorTestKit> members) throws InterruptedException {
    Address seed = address(members.get(0));
    for (ActorTestKit k : members) Cluster.get(k.system()).manager().tell(Join.create(seed));
    for (int i = 0; upMembers(members.get(0)) < members.size(); i++) {
      if (i > 60_000) throw new AssertionError("the cluster did not form");
      Thread.sleep(2);
    }
  }

  private static long upMembers(ActorTestKit kit) {
    return StreamSupport.stream(Cluster.get(kit.system()).state().getMembers().spliterator(), false)
        .filter(m -> m.status() == MemberStatus.up()).count();
  }

  private static final String ONE_SAMPLER_ = "scorestream.samplers = [\"cpu:0\"]\n";

  private TestNode node(ActorTestKit kit, InitialModel model) throws Exception {
    return node(kit, model, "");
  }

  private TestNode node(ActorTestKit kit, InitialModel model, String extra) throws Exception {
    TestNode n = TestNode.start(kit, ONE_SAMPLER_ + extra, model);
    nodes.add(n);
    return n;
  }

  /** Waits until the node's coordinator has registered this many live samplers. */
  private static void awaitSamplers(TestNode n, int count) throws Exception {
    for (int i = 0; n.status().samplers().stream().filter(Coordinator.SamplerView::alive).count() < count; i++) {
      if (i > 60_000) throw new AssertionError("the coordinator did not find " + count + " samplers");
      Thread.sleep(2);
    }
  }

  /** The request completed with the samples of an offline run of the same seed; its events. */
  private static List<SampleEvent> assertOffline(TestNode gateway, GenerateRequest r,
                                                 CompletionStage<List<SampleEvent>> run, String what)
      throws Exception {
    List<SampleEvent> events = await(run);
    SampleEvent last = events.get(events.size() - 1);
    assertTrue(last instanceof SampleEvent.Completed, r.requestId() + " ended " + last);
    double[] offline = TestNode.offline(TestModels.analytic("vp").factory(), gateway.program(r.sampler()),
        r.count(), r.seed());
    assertArrayEquals(offline, ((SampleEvent.Completed) last).result().samples(),
        r.requestId() + ": " + what + " != offline");
    return events;
  }

  /** A gateway member without samplers and two sampler members, all serving gmm8 over VP, joined and registered. */
  private record Three(TestNode gateway, TestNode b, TestNode c) {}

  private Three gatewayAndTwoSamplers() throws Exception {
    List<ActorTestKit> members = formed("gateway", "sampler", "sampler");
    ActorTestKit gatewayKit = members.get(0);
    ActorTestKit b = members.get(1);
    ActorTestKit c = members.get(2);
    TestNode nb = node(b, TestModels.analytic("vp"));
    TestNode nc = node(c, TestModels.analytic("vp"));
    TestNode gateway = node(gatewayKit, TestModels.analytic("vp"));
    awaitSamplers(gateway, 2);
    return new Three(gateway, nb, nc);
  }

  @Test
  void aGatewayNodeRoutesToSamplersOnOtherNodesWithOfflineSamples() throws Exception {
    Three three = gatewayAndTwoSamplers();
    TestNode gateway = three.gateway();
    TestNode nb = three.b();
    TestNode nc = three.c();
    assertTrue(gateway.refs.samplers().isEmpty(), "a gateway node runs no sampler");
    List<Coordinator.SamplerView> found = gateway.status().samplers();
    assertTrue(found.stream().allMatch(s -> s.device().startsWith("cpu:0@127.0.0.1:")), found::toString);

    List<GenerateRequest> requests = List.of(
        // At least split-min-chains (64): spread over both sampler nodes, chain indices kept.
        TestNode.request("split", 150, 11, SamplerSpec.pc(60)),
        new GenerateRequest("previews", 9, 12, SamplerSpec.fewStep("ddim", 25), 5, null),
        TestNode.request("ode", 7, 13, SamplerSpec.ode("heun", 30)),
        TestNode.request("edm", 5, 14, SamplerSpec.fewStep("edm", 10)));
    List<CompletionStage<List<SampleEvent>>> runs = new ArrayList<>();
    for (GenerateRequest r : requests) runs.add(gateway.events(r));
    for (int i = 0; i < requests.size(); i++) {
      GenerateRequest r = requests.get(i);
      List<SampleEvent> events = assertOffline(gateway, r, runs.get(i), "served across nodes");
      if (r.previewEvery() > 0) {
        assertTrue(events.stream().anyMatch(e -> e instanceof SampleEvent.Preview),
            "previews cross nodes too");
      }
    }
    assertTrue(nb.samplerStatus(0).chainSteps() > 0 && nc.samplerStatus(0).chainSteps() > 0,
        "both sampler nodes advanced chains");
  }

  @Test
  void chainsOfALostSamplerNodeResumeElsewhereFromTheirCheckpointsWithTheSameSamples() throws Exception {
    lostSamplerNodeResumesFromCheckpoints("");
  }

  @Test
  void checkpointsOfSlicesLargerThanAMessageGoInPartsAndTheChainsStillResume() throws Exception {
    // A slice's saved state (20 chains of D = 2 with their cursors) is several times 64 numbers: it is checkpointed
    // in parts, and the chains resume from them (without the parts B would run the lost chains in full).
    lostSamplerNodeResumesFromCheckpoints("scorestream.sampler.max-message-values = 64\n");
  }

  private void lostSamplerNodeResumesFromCheckpoints(String lostSamplerConfig) throws Exception {
    // The test downs the lost node itself, as the split-brain resolver would once it stopped answering (a process
    // killed outright, with the resolver on, is the multi-process test's case). Without the resolver here: the downed
    // node is still running in this JVM, quarantines the others, and the resolver would have them down themselves.
    String noResolver = "akka.cluster.downing-provider-class = \"\"";
    ActorTestKit gatewayKit = member("gateway", noResolver);
    ActorTestKit b = member("sampler", noResolver);
    ActorTestKit c = member("sampler", noResolver + "\nakka.cluster.run-coordinated-shutdown-when-down = off");
    form(List.of(gatewayKit, b, c));
    // The lost node's sampler checkpoints its slices at every step boundary and blocks inside its 100th network
    // call: its chains are mid-run, with checkpoints at the gateway's coordinator, when it is lost.
    TestModels.Gate gate = new TestModels.Gate(100);
    TestNode nb = node(b, TestModels.analytic("vp"));
    node(c, TestModels.hooked(TestModels.analytic("vp"), gate),
        "scorestream.sampler.checkpoint-every = 1ns\n" + lostSamplerConfig);
    TestNode gateway = node(gatewayKit, TestModels.analytic("vp"));
    awaitSamplers(gateway, 2);

    List<GenerateRequest> requests = new ArrayList<>();
    for (int i = 0; i < 6; i++) requests.add(TestNode.request("r" + i, 20, 100 + i, SamplerSpec.pc(200)));
    List<CompletionStage<List<SampleEvent>>> runs = new ArrayList<>();
    for (GenerateRequest r : requests) runs.add(gateway.events(r));
    gate.awaitReached();

    // Downed: its sampler is seen terminated, and its chains are routed to B from their latest checkpoints.
    Cluster.get(gatewayKit.system()).manager().tell(new Down(address(c)));
    for (int i = 0; gateway.status().samplers().stream().filter(Coordinator.SamplerView::alive).count() > 1; i++) {
      if (i > 60_000) throw new AssertionError("the lost sampler was never seen terminated");
      Thread.sleep(2);
    }
    gate.open();

    for (int i = 0; i < requests.size(); i++) assertOffline(gateway, requests.get(i), runs.get(i), "resumed chains");
    // B ran its own chains whole and the lost node's from their checkpoints: less than every program in full.
    long full = 6L * 20 * gateway.program(SamplerSpec.pc(200)).nominalCalls();
    assertTrue(nb.samplerStatus(0).chainSteps() < full, "B ran " + nb.samplerStatus(0).chainSteps() + " of " + full);
    Coordinator.NodeStatus status = gateway.status();
    assertEquals(1, status.samplers().stream().filter(Coordinator.SamplerView::alive).count());
    assertFalse(status.samplers().stream().filter(s -> !s.alive()).findFirst().orElseThrow().device()
        .contains(address(b).port().get().toString()), "the lost sampler is C's");
    // Each session tells the coordinator after its subscriber has the result: the count reaches 0 just after.
    for (int i = 0; gateway.status().activeRequests() > 0; i++) {
      if (i > 60_000) throw new AssertionError("requests stayed active: " + gateway.status());
      Thread.sleep(2);
    }
  }

  @Test
  void aLeavingSamplerNodeHandsItsChainsWithTheirStatesToTheOthersWithTheSameSamples() throws Exception {
    Three three = gatewayAndTwoSamplers();
    TestNode gateway = three.gateway();
    TestNode nb = three.b();
    ActorTestKit c = three.c().kit;
    String leaving = "cpu:0@127.0.0.1:" + address(c).port().get();

    List<GenerateRequest> requests = new ArrayList<>();
    for (int i = 0; i < 6; i++) requests.add(TestNode.request("d" + i, 20, 200 + i, SamplerSpec.pc(3000)));
    List<CompletionStage<List<SampleEvent>>> runs = new ArrayList<>();
    for (GenerateRequest r : requests) runs.add(gateway.events(r));
    for (int i = 0; gateway.status().samplers().stream()
        .noneMatch(s -> s.device().equals(leaving) && s.rows() > 0 && s.chainSteps() > 0); i++) {
      if (i > 60_000) throw new AssertionError("no chains ever ran on the leaving node");
      Thread.sleep(2);
    }
    // What Ctrl-C or SIGTERM does to serve: the member leaves, its samplers drained first.
    CoordinatedShutdown.get(Adapter.toClassic(c.system())).runAll(CoordinatedShutdown.clusterLeavingReason());

    for (int i = 0; i < requests.size(); i++) {
      assertOffline(gateway, requests.get(i), runs.get(i), "drained chains");
      SampleEvent last = await(runs.get(i)).get(await(runs.get(i)).size() - 1);
      assertEquals(20L * 3001, ((SampleEvent.Completed) last).result().networkCalls(),
          "each chain's calls counted once, wherever they ran");
    }
    // The leaving node's chains moved with their states: B ran only what was left of them, not whole programs.
    long onB = nb.samplerStatus(0).chainSteps();
    assertTrue(onB < 6L * 20 * 3001, "B ran " + onB + " chain-steps of " + 6L * 20 * 3001);
    assertTrue(gateway.status().samplers().stream().noneMatch(s -> s.alive() && s.device().equals(leaving)));
  }

  @Test
  void aTrainerOnOneMemberSwapsTheSamplersOfTheOthers(@TempDir Path checkpoints) throws Exception {
    // Every member starts from the same freshly initialised MLP; only the trainer member trains.
    String trainer = String.join("\n",
        "scorestream.model { source = \"init:3\", sde = vp, dim = 2 }",
        "scorestream.trainer { enabled = true, data = \"toy:gmm8\", batch-size = 64, publish-every = 5,",
        "  checkpoint-every = 1000, max-steps = 15, resume = false, checkpoint-dir = \"" + checkpoints + "\" }");
    ActorTestKit t = member("trainer");
    ActorTestKit b = member("gateway, sampler");
    ActorTestKit c = member("sampler");
    form(List.of(t, b, c));
    TestNode nb = TestNode.start(b, ONE_SAMPLER_ + trainer, InitialModel.from(TestNode.settings(trainer).model()));
    TestNode nc = TestNode.start(c, ONE_SAMPLER_ + trainer, InitialModel.from(TestNode.settings(trainer).model()));
    // Started last: its coordinator waits for the others' samplers.
    TestNode nt = TestNode.start(t, ONE_SAMPLER_ + trainer, InitialModel.from(TestNode.settings(trainer).model()));
    nodes.addAll(List.of(nt, nb, nc));
    assertTrue(nt.refs.trainer().isPresent() && nb.refs.trainer().isEmpty() && nc.refs.trainer().isEmpty(),
        "only the trainer member trains");
    assertTrue(nt.refs.samplers().isEmpty(), "the trainer member runs no sampler");
    awaitSamplers(nb, 2);

    // The trained versions reach both sampler members (the last one at least: a member that subscribes after a
    // version was offered gets the latest again within 5 s), and both samplers swap to it.
    ModelRegistry.ModelVersion atTrainer = null;
    for (int i = 0; atTrainer == null || atTrainer.trainStep() < 15; i++) {
      if (i > 60_000) throw new AssertionError("the trainer never published step 15");
      Thread.sleep(2);
      atTrainer = await(nt.api.versions()).current().orElseThrow();
    }
    String digest = atTrainer.description().substring(atTrainer.description().indexOf("digest "));
    List<Long> served = new ArrayList<>();
    for (TestNode n : List.of(nb, nc)) {
      ModelRegistry.ModelVersion v = await(n.api.versions()).current().orElseThrow();
      for (int i = 0; v.trainStep() < 15; i++) {
        if (i > 60_000) throw new AssertionError("the trained versions never reached a sampler member");
        Thread.sleep(2);
        v = await(n.api.versions()).current().orElseThrow();
      }
      assertTrue(v.version() >= 2 && v.description().endsWith(digest) && v.description().contains(" from 127.0.0.1:"),
          v.description() + " vs the trainer's " + atTrainer.description());
      for (int i = 0; n.samplerStatus(0).modelVersion() < v.version(); i++) {
        if (i > 60_000) throw new AssertionError("a sampler never swapped to the trained version");
        Thread.sleep(2);
      }
      served.add(v.version());
    }
    // A request names the version it ran on (each member numbers its own; the digest in their descriptions is the
    // trainer's) and equals an offline run of the trainer's weights in a batch of the same size (the MLP's matrix
    // products round by batch size, so it is not split here).
    GenerateRequest r = TestNode.request("trained", 40, 5, SamplerSpec.pc(40));
    Result result = await(nb.api.generate(r));
    assertTrue(served.containsAll(result.modelVersions()) && !result.modelVersions().isEmpty(),
        result.modelVersions() + " vs " + served);
    assertArrayEquals(TestNode.offline(atTrainer.factory(), nb.program(r.sampler()), r.count(), r.seed()),
        result.samples());
  }

  @Test
  void gatewaysSharingASamplerCountEachOthersChainsAgainstItsRows() throws Exception {
    List<ActorTestKit> members = formed("gateway", "gateway", "sampler");
    ActorTestKit a = members.get(0);
    ActorTestKit b = members.get(1);
    ActorTestKit sampler = members.get(2);
    // The sampler takes at most 100 rows, and blocks inside its 3rd network call.
    TestModels.Gate gate = new TestModels.Gate(3);
    String rows = "scorestream.sampler.max-batch-rows = 100\n";
    TestNode ns = TestNode.start(sampler, ONE_SAMPLER_ + rows, TestModels.hooked(TestModels.analytic("vp"), gate));
    TestNode na = TestNode.start(a, ONE_SAMPLER_ + rows, TestModels.analytic("vp"));
    TestNode nb = TestNode.start(b, ONE_SAMPLER_ + rows, TestModels.analytic("vp"));
    nodes.addAll(List.of(ns, na, nb));
    GenerateRequest first = TestNode.request("first", 80, 1, SamplerSpec.pc(50));
    CompletionStage<List<SampleEvent>> firstRun = na.events(first);
    gate.awaitReached();
    // B has heard the sampler's load: 80 rows taken by A's request.
    for (int i = 0; nb.status().samplers().get(0).rows() < 80; i++) {
      if (i > 60_000) throw new AssertionError("B never heard the sampler's load");
      Thread.sleep(2);
    }
    GenerateRequest second = TestNode.request("second", 80, 2, SamplerSpec.pc(50));
    CompletionStage<List<SampleEvent>> secondRun = nb.events(second);
    // B routes only the 20 rows left; the rest of its request waits at the head of B's queue.
    for (int i = 0; nb.status().queuedRequests() < 1; i++) {
      if (i > 60_000) throw new AssertionError("B routed more than the sampler's free rows: " + nb.status());
      Thread.sleep(2);
    }
    assertEquals(20, nb.status().samplers().get(0).assignedChains());
    gate.open();
    assertOffline(na, first, firstRun, "the first gateway's request");
    assertOffline(nb, second, secondRun, "the second gateway's request, routed as rows freed");
  }

  @Test
  void aRequestStartedAtOneMemberIsFollowedReadAndCancelledThroughAnother() throws Exception {
    List<ActorTestKit> members = formed("gateway", "gateway", "sampler");
    ActorTestKit a = members.get(0);
    ActorTestKit b = members.get(1);
    ActorTestKit sampler = members.get(2);
    // The sampler blocks inside its 120th network call (the long request's previews at steps 1, 51 and 101 are out),
    // so the request still runs when B cancels it.
    TestModels.Gate gate = new TestModels.Gate(120);
    TestNode ns = node(sampler, TestModels.hooked(TestModels.analytic("vp"), gate));
    TestNode na = node(a, TestModels.analytic("vp"));
    TestNode nb = node(b, TestModels.analytic("vp"));
    awaitSamplers(na, 1);
    awaitSamplers(nb, 1);

    // Started detached at A; B follows it, reads it and cancels it: one session, wherever sharding put it.
    GenerateRequest longOne = new GenerateRequest("long", 4, 21, SamplerSpec.pc(10_000), 50, null);
    RequestSession.Admission admitted = await(na.api.start(longOne, "pc", java.time.Duration.ofMinutes(1), 10));
    assertTrue(admitted instanceof RequestSession.Admission.Admitted, admitted::toString);
    CompletionStage<List<SampleEvent>> followed = nb.api.follow("long", "test")
        .runWith(akka.stream.javadsl.Sink.seq(), b.system());
    gate.awaitReached();
    for (int i = 0; await(nb.api.lookup("long")).orElseThrow().latest() == null; i++) {
      if (i > 60_000) throw new AssertionError("no preview of the long request read through B");
      Thread.sleep(2);
    }
    RequestSession.Snapshot running = await(nb.api.lookup("long")).orElseThrow();
    assertEquals("running", running.state());
    assertEquals(List.of("long", 4), List.of(running.request().requestId(), running.accepted().chains()));
    assertTrue(await(nb.api.cancelRequest("long")) instanceof RequestSession.CancelReply.Cancelling);
    gate.open();
    List<SampleEvent> events = await(followed);
    assertTrue(events.get(0) instanceof SampleEvent.Accepted, events::toString);
    assertTrue(events.get(events.size() - 1) instanceof SampleEvent.Cancelled, events::toString);
    assertEquals("cancelled", await(na.api.lookup("long")).orElseThrow().state());
    assertTrue(await(na.api.cancelRequest("long")) instanceof RequestSession.CancelReply.AlreadyFinished);

    // Submitted at A (owned by A's stream) and followed at B: both see the same offline samples.
    GenerateRequest shortOne = new GenerateRequest("short", 6, 22, SamplerSpec.pc(400), 20, null);
    CompletionStage<List<SampleEvent>> owned = na.events(shortOne);
    for (int i = 0; await(nb.api.lookup("short")).isEmpty(); i++) {
      if (i > 60_000) throw new AssertionError("B never found the request submitted at A");
      Thread.sleep(2);
    }
    List<SampleEvent> seenAtB = await(nb.api.follow("short", "test").runWith(akka.stream.javadsl.Sink.seq(),
        b.system()));
    List<SampleEvent> seenAtA = assertOffline(na, shortOne, owned, "owned at A");
    SampleEvent lastAtB = seenAtB.get(seenAtB.size() - 1);
    assertTrue(lastAtB instanceof SampleEvent.Completed, seenAtB::toString);
    assertArrayEquals(((SampleEvent.Completed) seenAtA.get(seenAtA.size() - 1)).result().samples(),
        ((SampleEvent.Completed) lastAtB).result().samples());
    // An id nobody started is unknown everywhere.
    assertTrue(await(nb.api.lookup("nobody")).isEmpty());
    assertTrue(await(nb.api.follow("nobody", "test").runWith(akka.stream.javadsl.Sink.seq(), b.system())).isEmpty());
    assertTrue(ns.refs.samplers().size() == 1);
  }
}
