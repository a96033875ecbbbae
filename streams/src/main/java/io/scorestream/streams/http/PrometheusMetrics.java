package io.scorestream.streams.http;

import io.scorestream.actors.Coordinator;
import io.scorestream.actors.ModelRegistry;
import io.scorestream.actors.RequestLatencies;
import io.scorestream.actors.SessionDirectory;
import io.scorestream.model.memory.NativeMemory;
import java.util.Locale;
import java.util.Optional;

/**
 * Renders a node's state as the Prometheus text exposition format (version 0.0.4) for {@code GET /metrics}. Every
 * metric is prefixed {@code scorestream_}; counters end in {@code _total}; durations are in seconds. Keeps one piece
 * of state, the previous scrape's chain-step count, to report chain-steps per second between scrapes (Prometheus
 * users may prefer {@code rate(scorestream_chain_steps_total[1m])}). Thread-safe: {@link #render} is synchronized.
 */
final class PrometheusMetrics {
  /** The content type of the format. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
  /** Scrapes closer together than this keep the previous rate instead of dividing by a tiny interval. */
  private static final long MIN_RATE_WINDOW_NS = 1_000_000_000L;

  /**
   * One scrape's inputs.
   *
   * @param status      the coordinator's view
   * @param model       the current model version, if any
   * @param latencies   request latencies over the node's facade
   * @param gateway     the HTTP gateway's request counts
   * @param badRequests HTTP requests answered with a 4xx for their content (validation, size, auth)
   * @param connections the HTTP gateway's connection counters
   * @param memory      the process's memory (resident set, heap, libnd4j buffers)
   */
  record Inputs(Coordinator.NodeStatus status, Optional<ModelRegistry.ModelVersion> model,
                RequestLatencies.Snapshot latencies, SessionDirectory.Counts gateway, long badRequests,
                ConnectionStats.Snapshot connections, NativeMemory.Snapshot memory) {}

  private long lastNanos = Long.MIN_VALUE;
  private long lastChainSteps;
  private double chainStepsPerSecond;

  /** The exposition text; nowNanos is {@link System#nanoTime()} (a parameter so tests can pin it). */
  synchronized String render(Inputs in, long nowNanos) {
    Coordinator.NodeStatus s = in.status();
    long steps = s.chainSteps();
    if (lastNanos == Long.MIN_VALUE) {
      lastNanos = nowNanos;
      lastChainSteps = steps;
    } else if (nowNanos - lastNanos >= MIN_RATE_WINDOW_NS) {
      // A restarted sampler may report a smaller count; never report a negative rate.
      chainStepsPerSecond = Math.max(0, steps - lastChainSteps) * 1e9 / (nowNanos - lastNanos);
      lastNanos = nowNanos;
      lastChainSteps = steps;
    }

    StringBuilder b = new StringBuilder(4096);
    gauge(b, "queued_requests", "Requests waiting in the admission queue for sampler rows.", s.queuedRequests());
    gauge(b, "active_requests", "Accepted requests that have not ended.", s.activeRequests());
    gauge(b, "active_chains", "Rows (chains) in use over all samplers.", s.activeChains());
    int rows = 0;
    int maxRows = 0;
    for (Coordinator.SamplerView v : s.samplers()) {
      rows += v.rows();
      maxRows += v.maxRows();
    }
    gauge(b, "batch_occupancy", "Rows in use over rows available, all samplers together (0..1).",
        maxRows == 0 ? 0 : (double) rows / maxRows);
    header(b, "sampler_batch_occupancy", "Rows in use over max-batch-rows, per sampler (0..1).", "gauge");
    for (Coordinator.SamplerView v : s.samplers()) {
      b.append("scorestream_sampler_batch_occupancy").append(samplerLabels(v)).append(' ')
          .append(number(v.maxRows() == 0 ? 0 : (double) v.rows() / v.maxRows())).append('\n');
    }
    header(b, "sampler_rows", "Rows in the sampler's batch.", "gauge");
    for (Coordinator.SamplerView v : s.samplers()) {
      b.append("scorestream_sampler_rows").append(samplerLabels(v)).append(' ').append(v.rows()).append('\n');
    }
    header(b, "sampler_tick_seconds", "The sampler's recent mean time per step of its whole batch.", "gauge");
    for (Coordinator.SamplerView v : s.samplers()) {
      b.append("scorestream_sampler_tick_seconds").append(samplerLabels(v)).append(' ')
          .append(number(v.tickNanos() / 1e9)).append('\n');
    }
    header(b, "sampler_alive", "1 while the sampler runs, 0 once it stopped.", "gauge");
    for (Coordinator.SamplerView v : s.samplers()) {
      b.append("scorestream_sampler_alive").append(samplerLabels(v)).append(' ').append(v.alive() ? 1 : 0)
          .append('\n');
    }
    counter(b, "chain_steps_total", "Chain steps (rows advanced by one step) over all samplers.", steps);
    gauge(b, "chain_steps_per_second", "Chain steps per second over the interval since the previous scrape.",
        chainStepsPerSecond);

    RequestLatencies.Snapshot l = in.latencies();
    summary(b, "request_result_latency_seconds", "Submission-to-result latency of completed requests.",
        l.resultP50Ms(), l.resultP99Ms(), l.completed());
    summary(b, "request_first_preview_latency_seconds", "Submission-to-first-preview latency.",
        l.firstPreviewP50Ms(), l.firstPreviewP99Ms(), l.previewed());

    gauge(b, "model_version", "The registry version of the model the samplers serve (0: none yet).",
        in.model().map(ModelRegistry.ModelVersion::version).orElse(0L));
    header(b, "model_info", "The current model version and where it comes from.", "gauge");
    in.model().ifPresent(m -> b.append("scorestream_model_info{version=\"").append(m.version())
        .append("\",description=\"").append(escape(m.description())).append("\",train_step=\"").append(m.trainStep())
        .append("\"} 1\n"));

    counter(b, "requests_accepted_total", "Requests admitted by the coordinator (every gateway).", s.accepted());
    counter(b, "requests_rejected_total", "Requests refused at admission (invalid or overloaded).", s.rejected());
    counter(b, "requests_ended_total", "Admitted requests that reached a terminal event.", s.ended());

    SessionDirectory.Counts g = in.gateway();
    counter(b, "http_submitted_total", "Requests started through this member's gateways and API.", g.submitted());
    counter(b, "http_bad_requests_total", "HTTP requests refused for their content, size or credentials.",
        in.badRequests());
    gauge(b, "http_retained_requests", "Requests started through this member that it keeps (running, and finished within retention).",
        g.retained());
    gauge(b, "http_running_requests", "Retained requests that have not finished.", g.running());
    gauge(b, "http_subscribers", "Open event streams through this member (WebSocket, server-sent events, the API).", g.subscribers());

    ConnectionStats.Snapshot c = in.connections();
    gauge(b, "http_connections_open", "Open HTTP connections.", c.open());
    counter(b, "http_connections_accepted_total", "HTTP connections accepted.", c.accepted());
    counter(b, "http_connections_refused_total", "HTTP connections answered 503 at max-connections and closed.",
        c.refused());
    counter(b, "http_connections_header_timeouts_total",
        "HTTP connections closed for not completing a request header within header-timeout.", c.headerTimeouts());

    NativeMemory.Snapshot m = in.memory();
    gauge(b, "process_resident_memory_bytes", "Resident set size of the node's process (/proc VmRSS).", m.rss());
    gauge(b, "jvm_heap_used_bytes", "JVM heap in use.", m.heapUsed());
    gauge(b, "jvm_heap_committed_bytes", "JVM heap committed.", m.heapCommitted());
    gauge(b, "jvm_heap_max_bytes", "JVM heap limit (-Xmx).", m.heapMax());
    gauge(b, "nd4j_offheap_bytes", "Bytes of libnd4j data buffers outside workspaces (its allocation counter).",
        m.nd4j());
    gauge(b, "process_threads", "Live JVM threads.", m.threads());
    gauge(b, "process_open_fds", "Open file descriptors.", m.openFiles());
    return b.toString();
  }

  private static void gauge(StringBuilder b, String name, String help, double value) {
    header(b, name, help, "gauge");
    b.append("scorestream_").append(name).append(' ').append(number(value)).append('\n');
  }

  private static void gauge(StringBuilder b, String name, String help, long value) {
    header(b, name, help, "gauge");
    b.append("scorestream_").append(name).append(' ').append(value).append('\n');
  }

  private static void counter(StringBuilder b, String name, String help, long value) {
    header(b, name, help, "counter");
    b.append("scorestream_").append(name).append(' ').append(value).append('\n');
  }

  private static void summary(StringBuilder b, String name, String help, double p50Ms, double p99Ms, long count) {
    header(b, name, help, "summary");
    b.append("scorestream_").append(name).append("{quantile=\"0.5\"} ").append(number(p50Ms / 1e3)).append('\n');
    b.append("scorestream_").append(name).append("{quantile=\"0.99\"} ").append(number(p99Ms / 1e3)).append('\n');
    b.append("scorestream_").append(name).append("_count ").append(count).append('\n');
  }

  private static void header(StringBuilder b, String name, String help, String type) {
    b.append("# HELP scorestream_").append(name).append(' ').append(help).append('\n');
    b.append("# TYPE scorestream_").append(name).append(' ').append(type).append('\n');
  }

  private static String samplerLabels(Coordinator.SamplerView v) {
    return "{sampler=\"" + v.samplerId() + "\",device=\"" + escape(v.device()) + "\"}";
  }

  static String number(double v) {
    if (Double.isNaN(v)) return "NaN";
    if (Double.isInfinite(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
    return String.format(Locale.ROOT, "%.9g", v).replaceFirst("\\.?0+(e|$)", "$1");
  }

  /** A label value with backslash, double quote and line feed escaped, as the format requires. */
  static String escape(String s) {
    return s == null ? "" : s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
