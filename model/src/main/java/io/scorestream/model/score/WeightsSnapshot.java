package io.scorestream.model.score;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An immutable copy of the a score network's parameters on the Java heap: what a published model version carries.
 * Every sampler builds its own native arrays from it ({@link #toWeights()}) and frees them when it closes its
 * model, so a version that is no longer served holds no native memory, whatever the garbage collector does.
 * (Versions used to carry native arrays; surviving a few young collections, those were promoted and then freed
 * only when the old generation was collected, which a small, steady heap may never need.)
 */
public final class WeightsSnapshot {
  private final NetworkConfig config;
  private final Map<String, float[]> values;
  private final Map<String, long[]> shapes;

  private WeightsSnapshot(NetworkConfig config, Map<String, float[]> values, Map<String, long[]> shapes) {
    this.config = config;
    this.values = values;
    this.shapes = shapes;
  }

  /** A copy of w's values; w is not retained. */
  public static WeightsSnapshot of(NetworkWeights w) {
    return of(w.config(), w.asMap());
  }

  /** A copy of the named arrays (all of the config's parameters, FLOAT) in the order given. */
  public static WeightsSnapshot of(NetworkConfig config, Map<String, INDArray> arrays) {
    Map<String, float[]> v = new LinkedHashMap<>();
    Map<String, long[]> s = new LinkedHashMap<>();
    for (String name : config.parameterNames()) {
      INDArray a = arrays.get(name);
      if (a == null) throw new IllegalArgumentException("missing parameter " + name);
      v.put(name, floats(a));
      s.put(name, a.shape());
    }
    return new WeightsSnapshot(config, Collections.unmodifiableMap(v), Collections.unmodifiableMap(s));
  }

  /** a's values row-major, copied straight from its buffer (a view or an 'f' array through one temporary copy). */
  private static float[] floats(INDArray a) {
    boolean direct = !a.isView() && a.ordering() == 'c';
    INDArray c = direct ? a : a.dup('c');
    float[] f = c.data().asFloat();
    if (!direct) c.close();
    return f.length == a.length() ? f : java.util.Arrays.copyOf(f, (int) a.length());
  }

  /**
   * A snapshot of values given by name (another node's copy, read off the wire): every parameter of config, in its
   * order, each of its shape's length. The arrays are copied.
   */
  public static WeightsSnapshot of(NetworkConfig config, java.util.List<String> names, java.util.List<long[]> shapes,
                                   java.util.List<float[]> values) {
    if (!names.equals(config.parameterNames()) || shapes.size() != names.size() || values.size() != names.size()) {
      throw new IllegalArgumentException("parameters " + names + " do not match the network's "
          + config.parameterNames());
    }
    Map<String, float[]> v = new LinkedHashMap<>();
    Map<String, long[]> s = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      long n = 1;
      for (long d : shapes.get(i)) n *= d;
      if (n != values.get(i).length) {
        throw new IllegalArgumentException(names.get(i) + ": shape " + java.util.Arrays.toString(shapes.get(i))
            + " for " + values.get(i).length + " values");
      }
      v.put(names.get(i), values.get(i).clone());
      s.put(names.get(i), shapes.get(i).clone());
    }
    return new WeightsSnapshot(config, Collections.unmodifiableMap(v), Collections.unmodifiableMap(s));
  }

  public NetworkConfig config() { return config; }

  /** The parameter names, in the network's order. */
  public java.util.List<String> names() {
    return java.util.List.copyOf(values.keySet());
  }

  /** A copy of one parameter's values, row-major. */
  public float[] values(String name) {
    return values.get(name).clone();
  }

  /** One parameter's shape (a copy). */
  public long[] shape(String name) {
    return shapes.get(name).clone();
  }

  /**
   * What identifies these weights wherever they travel: SHA-256 over the names, shapes and float32 bits, as 16 hex
   * digits.
   */
  public String digest() {
    try {
      java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8);
      for (Map.Entry<String, float[]> e : values.entrySet()) {
        md.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        for (long d : shapes.get(e.getKey())) md.update(b.clear().putLong(d).array());
        java.nio.ByteBuffer f = java.nio.ByteBuffer.allocate(4 * e.getValue().length);
        for (float x : e.getValue()) f.putInt(Float.floatToRawIntBits(x));
        md.update(f.array());
      }
      return java.util.HexFormat.of().formatHex(md.digest(), 0, 8);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Fresh native arrays of these values, owned by the caller (close them with {@link NetworkWeights#close()}). */
  public NetworkWeights toWeights() {
    Map<String, INDArray> p = new LinkedHashMap<>();
    values.forEach((name, v) -> p.put(name, Nd4j.create(v, shapes.get(name), DataType.FLOAT)));
    return new NetworkWeights(config, p);
  }

  /** A model that owns fresh native arrays of these values: what a sampler builds for a published version. */
  public ScoreModel model(io.scorestream.model.sde.Sde sde) {
    return config.scoreModel(toWeights(), sde, true);
  }

  /** Bytes of the values (heap). */
  public long bytes() {
    long n = 0;
    for (float[] v : values.values()) n += 4L * v.length;
    return n;
  }
}
