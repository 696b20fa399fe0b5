/**
 * Reads Prometheus' text format (what GET /metrics serves): each sample's
 * value by its name and labels, as written, e.g. `foo_total` or
 * `foo_bucket{le="0.1",outcome="reserved"}`. Comments are skipped.
 */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const split = line.lastIndexOf(' ');
    samples.set(line.slice(0, split), Number(line.slice(split + 1)));
  }
  return samples;
}

/** The metric names of the samples (labels and _bucket/_sum/_count suffixes kept). */
export function metricNames(samples: Map<string, number>): string[] {
  return [...new Set([...samples.keys()].map((sample) => sample.replace(/\{.*$/, '')))];
}
