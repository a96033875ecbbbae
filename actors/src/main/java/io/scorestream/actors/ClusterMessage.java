package io.scorestream.actors;

/**
 * A message that may cross from one node of a cluster to another: the coordinator's slices to a sampler on another
 * node, that sampler's load and slice reports back, and its previews and samples to the request's session. Bound to
 * Akka's Jackson CBOR serializer in this module's {@code reference.conf}; {@link ClusterJackson} says how the
 * model's values inside them (sampler programs, conditioning, {@link Samples}) are written. Java serialization is
 * never used. Messages that never leave their node (ticks, weights with their factories, stream acks) do not
 * implement it.
 */
public interface ClusterMessage {}
