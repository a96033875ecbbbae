package io.scorestream.protocol;

/** A message the gateway sends to a client's egress. */
public sealed interface ServerMessage extends Message
    permits ConnectAck, ConnectRejected, Heartbeat, Disconnect, RequestEvent, Status, ProtocolError {}
