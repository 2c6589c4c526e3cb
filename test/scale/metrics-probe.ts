/** Sums the samples of one Prometheus metric (every label set) in a /metrics text. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || (line[name.length] !== "{" && line[name.length] !== " ")) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/** One metric's sum as a server on `port` reports it now (metrics must be public for the test). */
export async function readMetric(port: number, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics on ${port}: ${res.status}`);
  return metricSum(await res.text(), name);
}
