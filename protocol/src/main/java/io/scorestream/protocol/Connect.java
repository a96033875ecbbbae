package io.scorestream.protocol;

/**
 * Opens a session: the server publishes to {@code egressChannel}/{@code egressStreamId} and answers with
 * {@link ConnectAck} or {@link ConnectRejected} carrying the same correlation id.
 *
 * @param correlationId   chosen by the client, echoed in the answer
 * @param egressChannel   the Aeron channel the client subscribes to (e.g. {@code aeron:udp?endpoint=host:port})
 * @param egressStreamId  the stream id of that subscription
 * @param secret          the shared secret ("" when the server has none)
 * @param clientName      free text for logs
 */
public record Connect(long correlationId, String egressChannel, int egressStreamId, String secret, String clientName)
    implements ClientMessage {
  public Connect {
    Protocol.text(egressChannel, "egressChannel");
    Protocol.text(secret, "secret");
    Protocol.text(clientName, "clientName");
  }

  /** The secret is not printed. */
  @Override
  public String toString() {
    return "Connect[correlationId=" + correlationId + ", egressChannel=" + egressChannel + ", egressStreamId="
        + egressStreamId + ", clientName=" + clientName + "]";
  }
}
