/** How often each path was reached in a run, printed at the end so a path never taken is visible. */
export class Coverage {
  readonly counts = new Map<string, number>();

  count(path: string, n = 1): void {
    this.counts.set(path, (this.counts.get(path) ?? 0) + n);
  }

  add(other: Coverage): void {
    for (const [k, v] of other.counts) this.count(k, v);
  }

  /** Paths every long run should reach; those at zero are listed as never taken. */
  static readonly EXPECTED = [
    "event applied",
    "denied",
    "denied then granted",
    "duplicate",
    "ignored",
    "overdraft",
    "hold expired",
    "cycle ended",
    "forfeit",
    "hold shrunk",
    "event conflict",
    "grant conflict",
    "grant repeat",
    "late cycle",
    "crash replay",
    "completed before started",
    "progress after end",
    "zero hold",
    "unknown account",
    "debit adjustment",
    "overdraft repaid",
    "restart",
  ];

  /** One line per path, sorted, then the expected paths this run never reached. */
  report(): string {
    const lines = [...this.counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `  ${k.padEnd(26)} ${v}`);
    const missing = Coverage.EXPECTED.filter((p) => !this.counts.has(p));
    if (missing.length > 0) lines.push(`  never reached: ${missing.join(", ")}`);
    return lines.join("\n");
  }
}
