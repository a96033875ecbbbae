package io.scorestream.streams.http;

import io.scorestream.actors.Coordinator;
import io.scorestream.actors.ErrorCode;
import io.scorestream.actors.GenerateRequest;
import io.scorestream.actors.RequestSession;
import io.scorestream.actors.Result;
import io.scorestream.actors.SampleEvent;
import io.scorestream.actors.SessionDirectory;
import io.scorestream.actors.ModelRegistry;
import io.scorestream.actors.RequestLatencies;
import io.scorestream.actors.ScoreStreamNode;
import io.scorestream.protocol.json.SampleStatus;
import io.scorestream.protocol.json.ServerStatus;
import java.util.List;
import java.util.Locale;

/** Builds the JSON shape of {@code GET /v1/status} from the node's answers. Pure; any thread. */
final class StatusViews {
  private StatusViews() {}

  static ServerStatus serverStatus(Coordinator.NodeStatus s, ModelRegistry.Versions versions,
                                   RequestLatencies.Snapshot l, SessionDirectory.Counts counts, String sde,
                                   long[] shape, int classes, List<ServerStatus.Served> models) {
    ServerStatus.Model model = versions.current()
        .map(v -> new ServerStatus.Model(v.version(), v.description(), v.trainStep())).orElse(null);
    return new ServerStatus(s.queuedRequests(), s.activeRequests(), s.activeChains(), s.accepted(), s.rejected(),
        s.ended(), s.chainSteps(), sde, model,
        s.samplers().stream().map(v -> new ServerStatus.Sampler(v.samplerId(), v.device(), v.alive(), v.rows(),
            v.maxRows(), v.maxRows() == 0 ? 0 : (double) v.rows() / v.maxRows(), v.pendingChains(), v.ticks(),
            v.chainSteps(), v.tickNanos() / 1e6)).toList(),
        new ServerStatus.Latency(l.completed(), l.resultP50Ms(), l.resultP99Ms(), l.firstPreviewP50Ms(),
            l.firstPreviewP99Ms()),
        new ServerStatus.Gateway(counts.retained(), counts.running(), counts.subscribers()), shape, classes, models);
  }

  /** One served model's entry of the status: its signature and its own coordinator's counts. */
  static ServerStatus.Served served(ScoreStreamNode.ServedModel m, Coordinator.NodeStatus s,
                                    ModelRegistry.Versions versions) {
    return new ServerStatus.Served(m.name(), m.sde().kind().name().toLowerCase(Locale.ROOT), m.dim(), m.shape(),
        m.classes(), versions.current().map(v -> new ServerStatus.Model(v.version(), v.description(), v.trainStep()))
            .orElse(null), s.queuedRequests(), s.activeRequests(), s.accepted(), s.chainSteps(), s.samplers().size());
  }

  /** The body of {@code GET /v1/samples/{id}}: a request session's state. */
  static SampleStatus sample(RequestSession.Snapshot s) {
    SampleEvent.Accepted accepted = s.accepted();
    SampleEvent.Preview latest = s.latest();
    SampleEvent terminal = s.terminal();
    Integer dim = latest == null ? null : latest.dim();
    double[][] samples = null;
    List<Long> versions = null;
    Long calls = null;
    Double latencyMs = null;
    String error = null;
    String message = null;
    if (terminal instanceof SampleEvent.Completed c) {
      Result r = c.result();
      dim = r.dim();
      samples = r.rows();
      versions = r.modelVersions();
      calls = r.networkCalls();
      latencyMs = r.latency().toNanos() / 1e6;
    } else if (terminal instanceof SampleEvent.Failed f) {
      error = f.code().name();
      message = f.message();
    } else if (terminal instanceof SampleEvent.Rejected f) {
      error = f.code().name();
      message = f.message();
    } else if (terminal instanceof SampleEvent.Cancelled c) {
      error = ErrorCode.CANCELLED.name();
      message = c.reason();
    }
    GenerateRequest request = s.request();
    return new SampleStatus(request.requestId(), s.state(), request.seed(), request.count(), s.label(),
        accepted == null ? 0 : accepted.queuePosition(), accepted == null ? 0 : JsonEvents.millis(accepted.eta()),
        latest == null ? 0 : latest.step(), latest == null ? 0 : latest.totalSteps(), s.previews(),
        s.delivered().getOrDefault("websocket", 0L), s.delivered().getOrDefault("sse", 0L), dim, samples, versions,
        calls, latencyMs, error, message);
  }
}
