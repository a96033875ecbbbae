package io.scorestream.streams.aeron;

/**
 * Counters of an {@link AeronGateway} since it started (a snapshot; monotone except {@code clients}).
 *
 * @param clients           open sessions now
 * @param connects          sessions opened
 * @param connectsRejected  Connects refused (wrong secret, too many clients, gateway closing)
 * @param clientsDropped    sessions dropped for silence past the liveness timeout or a closed egress
 * @param disconnects       sessions the client ended with Disconnect
 * @param requests          requests handed to the node
 * @param cancelledOnDrop   running requests cancelled because their client was dropped or disconnected
 * @param malformedFrames   frames refused by the decoder (each answered with a ProtocolError when the sender is known)
 * @param unexpectedFrames  well-formed frames that named an unknown session or were not client messages
 * @param previewsSent      previews offered successfully
 * @param terminalsSent     terminal events (Completed, Failed, Cancelled, Rejected) offered successfully
 * @param resultParts       ResultParts sent for results larger than one message
 * @param connectsThrottled Connects dropped unanswered past connect-rate (flood protection)
 */
public record GatewayStats(int clients, long connects, long connectsRejected, long clientsDropped, long disconnects,
                           long requests, long cancelledOnDrop, long malformedFrames, long unexpectedFrames,
                           long previewsSent, long terminalsSent, long resultParts,
                           long connectsThrottled) {}
