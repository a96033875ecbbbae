package io.scorestream.protocol.client;

import io.scorestream.protocol.Accepted;
import io.scorestream.protocol.Preview;
import io.scorestream.protocol.Terminal;

/**
 * Receives the events of one request, in order, on the client's polling thread: {@code onAccepted}, any number of
 * {@code onPreview}, then one {@code onTerminal} (a Completed with every sample, already assembled from its parts;
 * or Failed, Cancelled, Rejected). Keep the callbacks short: they delay every other request of the client. An
 * exception thrown here goes to the context's error handler and changes nothing else.
 */
public interface RequestListener {

  /** A listener that ignores everything (use the handle's future). */
  RequestListener NONE = new RequestListener() {};

  default void onAccepted(Accepted accepted) {}

  default void onPreview(Preview preview) {}

  default void onTerminal(Terminal terminal) {}
}
