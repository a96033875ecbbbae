package io.scorestream.streams.http;

import io.scorestream.actors.Coordinator;
import io.scorestream.actors.ModelRegistry;
import io.scorestream.actors.RequestLatencies;
import io.scorestream.actors.ScoreStreamNode;
import io.scorestream.protocol.json.ServerStatus;
import java.util.List;
import java.util.Locale;

/** Builds the JSON shape of {@code GET /v1/status} from the node's answers. Pure; any thread. */
final class StatusViews {
  private StatusViews() {}

  static ServerStatus serverStatus(Coordinator.NodeStatus s, ModelRegistry.Versions versions,
                                   RequestLatencies.Snapshot l, RequestBoard.Counts counts, String sde,
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
}
