package io.scorestream.model.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Adam (Kingma and Ba 2015) with bias correction and global gradient-norm clipping, updating parameters in place:
 * m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, p -= lr (m / bc1) / (sqrt(v / bc2) + eps). The arithmetic runs in
 * two scratch arrays per parameter, so a step allocates no native memory. Confined to one thread.
 */
public final class Adam implements AutoCloseable {
  public static final double BETA1 = 0.9;
  public static final double BETA2 = 0.999;
  public static final double EPS = 1e-8;

  private final List<String> names;
  private final Map<String, INDArray> m = new LinkedHashMap<>();
  private final Map<String, INDArray> v = new LinkedHashMap<>();
  private final Map<String, INDArray[]> scratch = new LinkedHashMap<>();

  /** Fresh moments (zero) for the parameters, or copies of saved ones (null for fresh). */
  public Adam(Map<String, INDArray> params, Map<String, INDArray> savedM, Map<String, INDArray> savedV) {
    this.names = List.copyOf(params.keySet());
    for (String name : names) {
      INDArray p = params.get(name);
      m.put(name, savedM == null ? Nd4j.zerosLike(p) : savedM.get(name).dup());
      v.put(name, savedV == null ? Nd4j.zerosLike(p) : savedV.get(name).dup());
      scratch.put(name, new INDArray[] {Nd4j.createUninitialized(p.dataType(), p.shape()),
          Nd4j.createUninitialized(p.dataType(), p.shape())});
    }
  }

  /** The factor that brings the gradients' global norm down to clip (1 when clip is 0 or not exceeded). */
  public double clipScale(Map<String, INDArray> grads, double clip) {
    if (clip <= 0) return 1.0;
    double sq = 0;
    for (String name : names) {
      double n = grads.get(name).norm2Number().doubleValue();
      sq += n * n;
    }
    double norm = Math.sqrt(sq);
    return norm > clip ? clip / norm : 1.0;
  }

  /**
   * Step n (1-based) on one parameter: updates p in place and returns a scratch array the caller may use until the
   * next call (ScoreTrainer computes its EMA in it).
   */
  public INDArray update(String name, INDArray p, INDArray grad, double clipScale, double lr, long n) {
    double bc1 = 1 - Math.pow(BETA1, n);
    double bc2 = 1 - Math.pow(BETA2, n);
    INDArray[] s = scratch.get(name);
    INDArray g = s[0].assign(grad);
    if (clipScale != 1.0) g.muli(clipScale);
    INDArray tmp = s[1];
    INDArray mm = m.get(name).muli(BETA1).addi(tmp.assign(g).muli(1 - BETA1));
    INDArray vv = v.get(name).muli(BETA2).addi(tmp.assign(g).muli(g).muli(1 - BETA2));
    Transforms.sqrt(tmp.assign(vv).divi(bc2), false).addi(EPS);
    INDArray update = g.assign(mm).divi(bc1).divi(tmp).muli(lr);
    p.subi(update);
    return tmp;
  }

  /** Copies of the first moments by name. */
  public Map<String, INDArray> firstMoments() {
    return copies(m);
  }

  /** Copies of the second moments by name. */
  public Map<String, INDArray> secondMoments() {
    return copies(v);
  }

  private static Map<String, INDArray> copies(Map<String, INDArray> src) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    src.forEach((k, a) -> out.put(k, a.dup()));
    return out;
  }

  @Override
  public void close() {
    m.values().forEach(INDArray::close);
    v.values().forEach(INDArray::close);
    for (INDArray[] s : scratch.values()) for (INDArray a : s) a.close();
  }
}
