package io.scorestream.protocol.client;

import io.scorestream.protocol.Accepted;
import io.scorestream.protocol.Completed;
import io.scorestream.protocol.GenerateRequest;
import io.scorestream.protocol.Preview;
import io.scorestream.protocol.ResultPart;
import io.scorestream.protocol.Terminal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.agrona.ErrorHandler;

/**
 * One submitted request: its id, the future of its outcome, {@link #cancel()}, and the {@link System#nanoTime()}
 * instants a load generator needs (submitted, accepted, first preview, terminal event). The future completes
 * normally with the terminal event (Completed, Failed, Cancelled or Rejected), or exceptionally with a
 * {@link ClientException} when the connection is lost or the client closed first. Thread-safe to read; events are
 * applied on the client's polling thread.
 */
public final class RequestHandle {
  private final ScoreStreamClient client;
  private final GenerateRequest request;
  private final RequestListener listener;
  private final ErrorHandler errorHandler;
  private final CompletableFuture<Terminal> outcome = new CompletableFuture<>();
  private final long submittedNs;
  private volatile long acceptedNs;
  private volatile long firstPreviewNs;
  private volatile long endedNs;
  private volatile long previews;
  private volatile Accepted accepted;
  /** Rows of a large result that arrived before its Completed (polling thread only). */
  private List<ResultPart> parts;

  RequestHandle(ScoreStreamClient client, GenerateRequest request, RequestListener listener,
                ErrorHandler errorHandler, long submittedNs) {
    this.client = client;
    this.request = request;
    this.listener = listener;
    this.errorHandler = errorHandler;
    this.submittedNs = submittedNs;
  }

  /** The request id (unique within the session). */
  public long requestId() {
    return request.requestId();
  }

  /** The request as sent. */
  public GenerateRequest request() {
    return request;
  }

  /** Completes with the terminal event, or exceptionally with a {@link ClientException}. */
  public CompletableFuture<Terminal> outcome() {
    return outcome;
  }

  /** Asks the server to cancel the request; the outcome then becomes Cancelled (unless it ended first). */
  public void cancel() {
    client.cancel(this);
  }

  /** The Accepted event, or null before it (or when the request was rejected). */
  public Accepted accepted() {
    return accepted;
  }

  /** System.nanoTime() when {@link ScoreStreamClient#submit} was called. */
  public long submittedNs() {
    return submittedNs;
  }

  /** System.nanoTime() when Accepted arrived; 0 before. */
  public long acceptedNs() {
    return acceptedNs;
  }

  /** System.nanoTime() when the first preview arrived; 0 before (and when previews are off). */
  public long firstPreviewNs() {
    return firstPreviewNs;
  }

  /** System.nanoTime() when the terminal event arrived; 0 before. */
  public long endedNs() {
    return endedNs;
  }

  /** Previews received so far. */
  public long previews() {
    return previews;
  }

  // -------------------------------------------------------------------------------- polling thread only

  void onAccepted(Accepted a, long nowNs) {
    accepted = a;
    acceptedNs = nowNs;
    try {
      listener.onAccepted(a);
    } catch (RuntimeException e) {
      errorHandler.onError(e);
    }
  }

  void onPreview(Preview p, long nowNs) {
    if (firstPreviewNs == 0) firstPreviewNs = nowNs;
    previews = previews + 1;
    try {
      listener.onPreview(p);
    } catch (RuntimeException e) {
      errorHandler.onError(e);
    }
  }

  void onPart(ResultPart part) {
    if (parts == null) parts = new ArrayList<>();
    parts.add(part);
  }

  void onTerminal(Terminal t, long nowNs) {
    Terminal outcomeEvent = t;
    if (t instanceof Completed c && c.firstChain() > 0) {
      try {
        outcomeEvent = assemble(c);
      } catch (RuntimeException e) {
        endedNs = nowNs;
        outcome.completeExceptionally(new ClientException("request " + requestId() + ": " + e.getMessage(), e));
        return;
      }
    }
    parts = null;
    endedNs = nowNs;
    try {
      listener.onTerminal(outcomeEvent);
    } catch (RuntimeException e) {
      errorHandler.onError(e);
    }
    outcome.complete(outcomeEvent);
  }

  void fail(ClientException e) {
    outcome.completeExceptionally(e);
  }

  private Completed assemble(Completed last) {
    int dim = last.dim();
    double[] all = new double[last.count() * dim];
    boolean[] seen = new boolean[last.count()];
    if (parts != null) {
      for (ResultPart p : parts) {
        if (p.dim() != dim || p.firstChain() + p.chains() > last.count()) {
          throw new IllegalStateException("result part " + p + " does not fit " + last);
        }
        System.arraycopy(p.samples(), 0, all, p.firstChain() * dim, p.chains() * dim);
        for (int i = 0; i < p.chains(); i++) seen[p.firstChain() + i] = true;
      }
    }
    System.arraycopy(last.samples(), 0, all, last.firstChain() * dim, (last.count() - last.firstChain()) * dim);
    for (int i = last.firstChain(); i < last.count(); i++) seen[i] = true;
    for (int i = 0; i < seen.length; i++) {
      if (!seen[i]) throw new IllegalStateException("rows from " + i + " of the result never arrived");
    }
    return new Completed(last.sessionId(), last.requestId(), last.count(), dim, 0, all, last.modelVersions(),
        last.networkCalls(), last.latencyNs());
  }
}
