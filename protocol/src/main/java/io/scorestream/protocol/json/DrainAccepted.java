package io.scorestream.protocol.json;

/**
 * The body of {@code 200 OK} from {@code POST /v1/admin/drain}: this member's samplers have handed their chains, with
 * their states, to the cluster's other samplers and take no more; the member can be stopped without losing work.
 *
 * @param member   this member's cluster address (host:port)
 * @param samplers how many samplers were drained (0 on a member without the sampler role)
 * @param state    always {@code drained}
 */
public record DrainAccepted(String member, int samplers, String state) {}
