package io.scorestream.streams.aeron;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.scorestream.protocol.GenerateRequest;
import io.scorestream.protocol.SamplerParams;
import org.junit.jupiter.api.Test;

/** The node's request for a wire request keeps what the wire said: here the priority the node now acts on. */
class EventMapperTest {
  @Test
  void priorityTravelsFromTheWireToTheNode() {
    GenerateRequest wire = GenerateRequest.of(8, 3, SamplerParams.pc(20)).withPriority(7);
    io.scorestream.actors.GenerateRequest node = EventMapper.toNode(wire, "n-1");
    assertEquals(7, node.priority());
    assertEquals(0, EventMapper.toNode(GenerateRequest.of(8, 3, SamplerParams.pc(20)), "n-2").priority());
    assertEquals(-4, EventMapper.toNode(wire.withPriority(-4), "n-3").priority());
  }
}
