/** Latency figures, in ms. */

export interface Percentiles {
  p50: number | null;
  p99: number | null;
  p999: number | null;
}

/** p50, p99 and p99.9 of `values` (ms), nearest rank, rounded to µs; null when empty. */
export function percentiles(values: ArrayLike<number>): Percentiles {
  if (values.length === 0) return { p50: null, p99: null, p999: null };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => {
    const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
    return round3(sorted[rank - 1] as number);
  };
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999) };
}

export const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** `count` per 1,000 `requests`, to one decimal; 0 when there were none. */
export const per1k = (count: number, requests: number): number => (requests > 0 ? Math.round((count / requests) * 10_000) / 10 : 0);
