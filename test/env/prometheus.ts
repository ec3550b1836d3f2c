// Reading Prometheus text exposition (the API server's and the operator's
// /metrics) in tests and benchmarks: one parser instead of a regular
// expression per metric.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a /metrics page; comments and blank lines skipped. Label values are taken as written (no unescaping: enough for these pages). */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? '';
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of metric `name` over its series whose labels include every pair of `where`. */
export function sumOf(samples: readonly Sample[], name: string, where: Readonly<Record<string, string>> = {}): number {
  let total = 0;
  for (const s of samples) {
    if (s.name === name && Object.entries(where).every(([key, value]) => s.labels[key] === value)) total += s.value;
  }
  return total;
}

/** Metric `name` summed per group, the group of a series being `groupOf(labels)` (undefined: left out). */
export function sumsBy(samples: readonly Sample[], name: string, groupOf: (labels: Readonly<Record<string, string>>) => string | undefined): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name) continue;
    const group = groupOf(s.labels);
    if (group !== undefined) sums[group] = (sums[group] ?? 0) + s.value;
  }
  return sums;
}
