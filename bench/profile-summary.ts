// `node scripts/run-ts.mjs bench/profile-summary.ts <file.cpuprofile> [--top=30] [--all] [--under=fn] [--inclusive-all] [--busy=0.4] [--jobs=N]`: self time
// by function and by file of a V8 CPU profile (CREDITMETER_TEST_CPU_PROF). The profile covers the
// whole process (startup, seeding, warm-up); by default only the busy stretches of at least 2 s are
// counted — in the throughput bench those are the timed drains — so startup does not blur the
// per-job picture. `--all` counts every sample.
import { readFileSync } from "node:fs";
import { z } from "zod";

const CallFrame = z.object({
  functionName: z.string(),
  url: z.string(),
  lineNumber: z.number(),
  columnNumber: z.number(),
});
const Profile = z.object({
  nodes: z.array(z.object({ id: z.number(), callFrame: CallFrame, children: z.array(z.number()).optional() })),
  startTime: z.number(),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});
type Profile = z.infer<typeof Profile>;

const BIN_US = 100_000;
const MIN_RUN_BINS = 20;

/** Samples' times (µs), from the deltas V8 records. */
function sampleTimes(p: Profile): number[] {
  let t = p.startTime;
  return p.timeDeltas.map((d) => (t += d));
}

/** Which samples fall in a stretch of ≥ MIN_RUN_BINS bins each at least `busyShare` non-idle. */
function busyMask(p: Profile, times: number[], idle: Set<number>, busyShare: number): boolean[] {
  const first = times[0] ?? 0;
  const bins = new Map<number, { all: number; busy: number }>();
  times.forEach((t, i) => {
    const b = Math.floor((t - first) / BIN_US);
    const bin = bins.get(b) ?? { all: 0, busy: 0 };
    bin.all += 1;
    if (!idle.has(p.samples[i] ?? -1)) bin.busy += 1;
    bins.set(b, bin);
  });
  const last = Math.floor(((times.at(-1) ?? first) - first) / BIN_US);
  const isBusy = (b: number) => {
    const bin = bins.get(b);
    return bin !== undefined && bin.busy / bin.all >= busyShare;
  };
  const keep = new Set<number>();
  for (let b = 0; b <= last;) {
    let e = b;
    while (e <= last && isBusy(e)) e += 1;
    if (e - b >= MIN_RUN_BINS) for (let x = b; x < e; x += 1) keep.add(x);
    b = e === b ? b + 1 : e;
  }
  return times.map((t) => keep.has(Math.floor((t - first) / BIN_US)));
}

function short(url: string): string {
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) return url.slice(nm + "node_modules/".length);
  const src = url.search(/\/(server|shared|bench|test)\//);
  return src >= 0 ? url.slice(src + 1) : url || "(native)";
}

/** `usPerSample`/`jobs`: with --jobs=N (the jobs the counted stretches drained) a µs-per-job column too. */
function table(title: string, rows: Map<string, number>, total: number, top: number, perJob: number | null): string {
  const sorted = [...rows.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const us = (v: number) => (perJob === null ? "" : `${(v * perJob).toFixed(2).padStart(7)} µs/job  `);
  const lines = sorted.map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %  ${us(v)}${k}`);
  return `${title}\n${lines.join("\n")}\n`;
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith("--"));
  if (!file) throw new Error("usage: profile-summary.ts <file.cpuprofile> [--top=30] [--all]");
  const top = Number(args.find((a) => a.startsWith("--top="))?.slice(6) ?? 30);
  const p = Profile.parse(JSON.parse(readFileSync(file, "utf8")));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  const times = sampleTimes(p);
  const mask = args.includes("--all")
    ? times.map(() => true)
    : busyMask(p, times, idle, Number(args.find((a) => a.startsWith("--busy="))?.slice(7) ?? 0.4));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // tsx writes each module on one line: the column tells functions apart; an anonymous one is named by its caller.
  const label = (id: number): string => {
    const f = byId.get(id)?.callFrame;
    if (!f) return "?";
    let name = f.functionName;
    if (!name) name = `(anonymous in ${byId.get(parent.get(id) ?? -1)?.callFrame.functionName || "?"})`;
    return `${name}  ${short(f.url)}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
  };
  const inclusive = new Map<string, number>();
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  let idleCount = 0;
  // --under=<text>: only samples with a frame whose label contains it (the cost below one function).
  const under = args.find((a) => a.startsWith("--under="))?.slice("--under=".length);
  const below = (id: number): boolean => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
      if (label(at).includes(under ?? "")) return true;
    return false;
  };
  p.samples.forEach((id, i) => {
    if (!mask[i] || (under !== undefined && !below(id))) return;
    const node = byId.get(id);
    if (!node) return;
    total += 1;
    if (idle.has(id)) idleCount += 1;
    const f = node.callFrame;
    const where = short(f.url);
    const fn = label(id);
    byFn.set(fn, (byFn.get(fn) ?? 0) + 1);
    // Inclusive: each frame on the stack once per sample.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const l = label(at);
      if (!seen.has(l)) inclusive.set(l, (inclusive.get(l) ?? 0) + 1);
      seen.add(l);
    }
    const pkg = where.startsWith("@") ? where.split("/").slice(0, 2).join("/") : (where.split("/")[0] ?? where);
    const fileKey = f.url.includes("node_modules/") ? `${pkg} (package)` : where;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + 1);
  });
  const span = (times.at(-1) ?? 0) - (times[0] ?? 0);
  const jobs = Number(args.find((a) => a.startsWith("--jobs="))?.slice(7) ?? NaN);
  const perJob = Number.isFinite(jobs) ? span / Math.max(1, p.samples.length) / jobs : null;
  console.log(
    `${total} samples counted of ${p.samples.length} (${(span / 1e6).toFixed(1)} s profiled); idle ${((100 * idleCount) / Math.max(1, total)).toFixed(1)} % of counted\n`,
  );
  console.log(table("self time by function", byFn, total, top, perJob));
  console.log(table("self time by file / package", byFile, total, top, perJob));
  const own = args.includes("--inclusive-all")
    ? inclusive
    : new Map([...inclusive].filter(([k]) => /(server|shared)\/src\//.test(k)));
  console.log(table("inclusive time, this project's functions", own, total, top, perJob));
}

main();
