// `node scripts/run-ts.mjs bench/support/cpuprofile-summary.ts <file.cpuprofile> [--from=µs --to=µs | --busy[=0.4]] [--jobs=n] [--top=n] [--focus=text]`:
// where a V8 CPU profile's time went, as self time by function and by package/file, plus the
// inclusive time of the heaviest functions. --from/--to keep only samples in that window of the
// monotonic clock (µs, what the latency bench prints per step as `monoUs`), so a profile of a
// whole bench run can be cut to one step (docs/performance.md, "Push CPU per event"); --busy keeps
// the busy stretches of >= 2 s instead (the throughput bench's timed drains), and --jobs=n (the
// jobs those drained) adds µs per job to every row ("Consumer CPU per job").
import { readFileSync } from "node:fs";
import { z } from "zod";
import { busyMask } from "./cpuprofile-busy.js";

const Profile = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({
        functionName: z.string(),
        url: z.string(),
        lineNumber: z.number(),
        columnNumber: z.number(),
      }),
      children: z.array(z.number()).optional(),
    }),
  ),
  startTime: z.number(),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith("--"));
const flag = (name: string): number | null => {
  const v = args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  return v === undefined ? null : Number(v);
};
if (!file) {
  process.stderr.write("usage: cpuprofile-summary.ts <file.cpuprofile> [--from=µs] [--to=µs] [--top=n]\n");
  process.exit(2);
}
const from = flag("from") ?? -Infinity;
const to = flag("to") ?? Infinity;
const top = flag("top") ?? 40;
/** --focus=<text>: only samples with a frame whose "function file:line" contains it (drilling into one caller). */
const focus = args.find((a) => a.startsWith("--focus="))?.slice("--focus=".length) ?? null;
const profile = Profile.parse(JSON.parse(readFileSync(file, "utf8")));
const busyArg = args.find((a) => a === "--busy" || a.startsWith("--busy="));
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
const inBusy = busyArg ? busyMask(profile, idleIds, busyArg === "--busy" ? 0.4 : Number(busyArg.slice(7))) : null;
const jobs = flag("jobs");

/** The package a script belongs to (its node_modules folder), else the file under the repo. */
function bucketOf(url: string, name: string): string {
  if (url === "") return name.startsWith("(") ? name : "(native)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return url;
  const src = url.indexOf("/src/");
  return src >= 0 ? url.slice(url.lastIndexOf("/", src - 1) + 1) : url;
}

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const keyOf = (id: number): string => {
  const f = byId.get(id)?.callFrame;
  if (!f) return "?";
  const file = f.url.split("/").slice(-2).join("/");
  // tsx writes each module on one line: the column tells its functions apart.
  return `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
};

const self = new Map<string, number>();
const buckets = new Map<string, number>();
const inclusive = new Map<string, number>();
/** Node's own code and natives charged to the package or file that called them (whose work it is). */
const charged = new Map<string, number>();
const isInternal = (b: string): boolean => b === "(native)" || b.startsWith("node:");
let total = 0;
let t = profile.startTime;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  t += dt;
  if (t < from || t > to || (inBusy && !inBusy[i])) return;
  if (focus !== null) {
    let hit = false;
    for (let at: number | undefined = id; at !== undefined && !hit; at = parent.get(at))
      hit = keyOf(at).includes(focus);
    if (!hit) return;
  }
  // A sample stands for the time until the next one.
  const w = profile.timeDeltas[i + 1] ?? dt;
  total += w;
  const node = byId.get(id);
  if (!node) return;
  self.set(keyOf(id), (self.get(keyOf(id)) ?? 0) + w);
  const bucket = bucketOf(node.callFrame.url, node.callFrame.functionName);
  buckets.set(bucket, (buckets.get(bucket) ?? 0) + w);
  let owner = bucket;
  for (let at = parent.get(id); isInternal(owner) && at !== undefined; at = parent.get(at)) {
    const f = byId.get(at)?.callFrame;
    if (f) owner = bucketOf(f.url, f.functionName);
  }
  charged.set(owner, (charged.get(owner) ?? 0) + w);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const k = keyOf(at);
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + w);
  }
});

const perJob = (us: number): string => (jobs ? `${(us / jobs).toFixed(2).padStart(7)} µs/job  ` : "");
const print = (title: string, m: Map<string, number>, n: number): void => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n))
    process.stdout.write(
      `${((v / total) * 100).toFixed(2).padStart(6)} %  ${(v / 1000).toFixed(0).padStart(7)} ms  ${perJob(v)}${k}\n`,
    );
};
process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms of samples in the window\n`);
print("self time by package / file", buckets, top);
print("self time by package / file, Node's internals charged to their caller", charged, top);
print("self time by function", self, top);
print("inclusive time by function", inclusive, top);
