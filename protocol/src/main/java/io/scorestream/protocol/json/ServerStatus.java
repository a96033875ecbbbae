package io.scorestream.protocol.json;

import java.util.List;

/**
 * The body of {@code GET /v1/status}: the node's coordinator view, its model, its latencies and the gateway's own
 * counts.
 *
 * @param queuedRequests requests waiting for rows
 * @param activeRequests accepted requests not yet ended
 * @param activeChains   rows in use over all samplers
 * @param accepted       requests accepted since the node started (all gateways)
 * @param rejected       requests rejected at admission
 * @param ended          requests that reached a terminal event
 * @param chainSteps     rows advanced over all samplers since start
 * @param sde            the node's SDE (ve | vp | subvp)
 * @param model          the current model version, or null before the first publication
 * @param samplers       one entry per sampler
 * @param latency        request latencies over all requests of this node's facade
 * @param gateway        the HTTP gateway's own counts
 * @param sampleShape    the shape of one sample: [D] for vectors, [C, H, W] for images (row-major in results)
 * @param classes        the class labels requests may carry (0: the model is unconditional)
 * @param models         every model the node serves, the primary one (the one the fields above describe, and the
 *                       one a request without {@code model} gets) first
 */
public record ServerStatus(int queuedRequests, int activeRequests, int activeChains, long accepted, long rejected,
                           long ended, long chainSteps, String sde, Model model, List<Sampler> samplers,
                           Latency latency, Gateway gateway, long[] sampleShape, int classes,
                           List<Served> models) {

  /**
   * One model the node serves, with its own coordinator's counts (its requests are batched only with each other).
   *
   * @param name           what a request's {@code model} field calls it
   * @param sampleShape    the shape of one of its samples
   * @param classes        the class labels its requests may carry (0: none)
   * @param model          its current version, or null before the first publication
   * @param samplers       its samplers (one per device of the node)
   */
  public record Served(String name, String sde, int dim, long[] sampleShape, int classes, Model model,
                       int queuedRequests, int activeRequests, long accepted, long chainSteps, int samplers) {}

  /** The current model version. */
  public record Model(long version, String description, long trainStep) {}

  /**
   * One sampler.
   *
   * @param occupancy rows / maxRows
   * @param tickMs    its recent mean tick time
   */
  public record Sampler(int id, String device, boolean alive, int rows, int maxRows, double occupancy,
                        int pendingChains, long ticks, long chainSteps, double tickMs) {}

  /** Submission-to-result and submission-to-first-preview quantiles, in milliseconds (0 until measured). */
  public record Latency(long completed, double resultP50Ms, double resultP99Ms, double firstPreviewP50Ms,
                        double firstPreviewP99Ms) {}

  /**
   * The HTTP gateway's counts.
   *
   * @param retainedRequests requests the gateway keeps (running, and finished within the retention)
   * @param runningRequests  of those, the ones not yet finished
   * @param subscribers      open WebSocket and SSE event streams
   */
  public record Gateway(int retainedRequests, int runningRequests, int subscribers) {}
}
