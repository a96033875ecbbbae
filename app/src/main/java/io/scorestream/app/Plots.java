package io.scorestream.app;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** PNG plots of the command line: sample scatters and loss curves (XChart). */
final class Plots {
  private Plots() {}

  /** A scatter of 2-D points, with optional reference points underneath in grey. */
  static void scatter(Path png, String title, double[][] points, double[][] reference) {
    scatter(png, title, points, reference, Double.NaN);
  }

  /**
   * A scatter as above on the fixed window [-limit, limit]^2 (points outside it are left out), so that a sequence of
   * frames shares its axes; a NaN limit scales the axes to the points.
   */
  static void scatter(Path png, String title, double[][] points, double[][] reference, double limit) {
    boolean fixed = !Double.isNaN(limit);
    if (fixed) {
      points = inside(points, limit);
      reference = reference == null ? null : inside(reference, limit);
    }
    XYChart chart = new XYChartBuilder().width(640).height(640).title(title).xAxisTitle("x0").yAxisTitle("x1").build();
    chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    chart.getStyler().setMarkerSize(3);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setChartTitleFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 11));
    if (reference != null && reference.length > 0) {
      XYSeries r = chart.addSeries("exact", column(reference, 0), column(reference, 1));
      r.setMarkerColor(new Color(0, 0, 0, 40));
      r.setMarker(SeriesMarkers.CIRCLE);
    }
    // XChart refuses an empty series: a frame whose samples all lie outside the window (early steps of a VE chain)
    // is drawn without them (its title says how many are outside).
    if (points.length > 0) {
      XYSeries s = chart.addSeries("samples", column(points, 0), column(points, 1));
      s.setMarkerColor(new Color(31, 119, 180, 120));
      s.setMarker(SeriesMarkers.CIRCLE);
    }
    if (fixed) {
      chart.getStyler().setXAxisMin(-limit).setXAxisMax(limit).setYAxisMin(-limit).setYAxisMax(limit);
    }
    save(chart, png);
  }

  private static double[][] inside(double[][] points, double limit) {
    return java.util.Arrays.stream(points)
        .filter(p -> Math.abs(p[0]) <= limit && Math.abs(p[1]) <= limit).toArray(double[][]::new);
  }

  /** Loss against step, with a moving average. */
  static void lossCurve(Path png, double[] steps, double[] loss) {
    XYChart chart = new XYChartBuilder().width(800).height(450).title("training loss").xAxisTitle("step")
        .yAxisTitle("loss").build();
    chart.getStyler().setMarkerSize(0);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    XYSeries raw = chart.addSeries("loss", steps, loss);
    raw.setLineColor(new Color(31, 119, 180, 70));
    raw.setMarker(SeriesMarkers.NONE);
    int w = Math.max(1, loss.length / 50);
    double[] avg = new double[loss.length];
    double acc = 0;
    for (int i = 0; i < loss.length; i++) {
      acc += loss[i];
      if (i >= w) acc -= loss[i - w];
      avg[i] = acc / Math.min(i + 1, w);
    }
    XYSeries smooth = chart.addSeries("moving average (" + w + ")", steps, avg);
    smooth.setLineColor(new Color(214, 39, 40));
    smooth.setMarker(SeriesMarkers.NONE);
    save(chart, png);
  }

  private static double[] column(double[][] m, int j) {
    double[] c = new double[m.length];
    for (int i = 0; i < m.length; i++) c[i] = m[i][j];
    return c;
  }

  private static void save(XYChart chart, Path png) {
    try {
      Path parent = png.toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
      BitmapEncoder.saveBitmap(chart, png.toString().replaceAll("\\.png$", ""), BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + png + ": " + e.getMessage(), e);
    }
  }
}
