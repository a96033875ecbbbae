package io.scorestream.protocol;

/** A message a client sends to the gateway's ingress. */
public sealed interface ClientMessage extends Message
    permits Connect, Heartbeat, Disconnect, GenerateRequest, Cancel, StatusRequest {}
