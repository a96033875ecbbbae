package io.scorestream.model.train;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.SessionMemMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The memory of a SameDiff session for repeated steps of one graph: every array an op asks for during a step is
 * taken from arrays of the same type and shape that earlier steps used, and all of them become free again when the
 * next step {@link #begin begins}. A training step then allocates nothing once its shapes have been seen.
 *
 * <p>Why: SameDiff 1.0.0-M2.1's InferenceSession asks its memory manager for about 65 arrays per step of the
 * reference MLP (16 MiB at batch 512) and releases 3 of them (counted), so the default
 * {@code ArrayCacheMemoryMgr} never reuses anything and every intermediate is left to the garbage collector. The
 * heap hardly notices (the Java objects are small), so collections are rare, freed native memory comes back late
 * and fragmented, and the resident set grew by gigabytes in minutes while the heap stayed under 0.5 GB.
 *
 * <p>Contract: arrays handed out in a step, the outputs and gradients SameDiff returns among them, are valid until
 * the next {@link #begin}; a caller copies what it keeps. Confined to the thread that runs the session.
 */
public final class StepArena implements SessionMemMgr {
  private final Map<Key, ArrayDeque<INDArray>> free = new HashMap<>();
  private final List<INDArray> inUse = new ArrayList<>();
  private final Set<INDArray> owned = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
  private boolean closed;

  /** Installs a fresh arena as the memory manager of sd's session on the calling thread, creating the session. */
  public static StepArena install(SameDiff sd) {
    StepArena arena = new StepArena();
    Map<Long, InferenceSession> sessions = sd.getSessions();
    InferenceSession session = sessions.computeIfAbsent(Thread.currentThread().getId(), id -> new InferenceSession(sd));
    session.setMmgr(arena);
    return arena;
  }

  private record Key(DataType type, char order, long[] shape) {
    @Override public boolean equals(Object o) {
      return o instanceof Key k && k.type == type && k.order == order && Arrays.equals(k.shape, shape);
    }

    @Override public int hashCode() {
      return Objects.hash(type, order, Arrays.hashCode(shape));
    }
  }

  /** Starts a step: everything handed out before is free for reuse. */
  public void begin() {
    if (closed) throw new IllegalStateException("step arena closed");
    for (INDArray a : inUse) free.computeIfAbsent(keyOf(a), k -> new ArrayDeque<>()).push(a);
    inUse.clear();
  }

  private static Key keyOf(INDArray a) {
    return new Key(a.dataType(), a.ordering(), a.shape());
  }

  @Override
  public INDArray allocate(boolean detached, DataType dataType, long... shape) {
    return take(new Key(dataType, 'c', shape.clone()));
  }

  @Override
  public INDArray allocate(boolean detached, LongShapeDescriptor descriptor) {
    long[] shape = descriptor.getShape();
    if (!Arrays.equals(descriptor.getStride(), Nd4j.getStrides(shape, descriptor.getOrder()))) {
      // Not seen with the graphs here; kept correct rather than pooled.
      return Nd4j.create(descriptor);
    }
    return take(new Key(descriptor.dataType(), descriptor.getOrder(), shape.clone()));
  }

  private INDArray take(Key key) {
    if (closed) throw new IllegalStateException("step arena closed");
    ArrayDeque<INDArray> q = free.get(key);
    INDArray a = q == null ? null : q.poll();
    if (a == null) {
      a = Nd4j.createUninitializedDetached(key.type(), key.order(), key.shape());
      owned.add(a);
    }
    inUse.add(a);
    return a;
  }

  @Override
  public INDArray ulike(INDArray arr) {
    return take(new Key(arr.dataType(), arr.ordering(), arr.shape()));
  }

  @Override
  public INDArray dup(INDArray arr) {
    INDArray copy = ulike(arr);
    copy.assign(arr);
    return copy;
  }

  /** A no-op: SameDiff's release is not reliable (above), so everything comes back at the next {@link #begin}. */
  @Override
  public void release(INDArray array) {}

  /**
   * Frees the arrays that are free now (the previous step's), keeping none for reuse: for a caller whose shapes
   * changed (a new batch size), so that pools of shapes no longer used do not accumulate.
   */
  public void dropFree() {
    for (ArrayDeque<INDArray> q : free.values()) {
      for (INDArray a : q) {
        owned.remove(a);
        a.close();
      }
    }
    free.clear();
  }

  /** Frees every array this arena ever handed out. */
  @Override
  public void close() {
    if (closed) return;
    closed = true;
    for (INDArray a : owned) a.close();
    owned.clear();
    free.clear();
    inUse.clear();
  }
}
