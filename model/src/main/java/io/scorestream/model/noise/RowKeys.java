package io.scorestream.model.noise;

import java.util.Arrays;

/**
 * The noise identity of each row of a batch: the seed of the request the chain belongs to and the chain's index
 * within that request. Two rows with equal keys see equal noise. Immutable.
 */
public record RowKeys(long[] seeds, long[] chains) {

  public RowKeys {
    if (seeds.length != chains.length) throw new IllegalArgumentException("seeds and chains differ in length");
    seeds = seeds.clone();
    chains = chains.clone();
  }

  /** n consecutive chains firstChain, firstChain + 1, ... of one seed. */
  public static RowKeys of(long seed, long firstChain, int n) {
    long[] s = new long[n];
    long[] c = new long[n];
    Arrays.fill(s, seed);
    for (int i = 0; i < n; i++) c[i] = firstChain + i;
    return new RowKeys(s, c);
  }

  public int size() { return seeds.length; }

  public long seed(int row) { return seeds[row]; }

  public long chain(int row) { return chains[row]; }

  /** The keys of rows [from, to). */
  public RowKeys slice(int from, int to) {
    return new RowKeys(Arrays.copyOfRange(seeds, from, to), Arrays.copyOfRange(chains, from, to));
  }
}
