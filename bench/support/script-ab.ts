// A/B of the ledger's event script against an older version of it, in one run, on one private
// redis-server: Redis's own time per call (SLOWLOG, EVALSHA µs) for the throughput mix (new steps
// every round), the two scripts batch by batch.
//   git archive <commit> server/src/ledger/lua | tar -x -C /tmp/old
//   AB_OLD_DIR=/tmp/old/server/src/ledger/lua node scripts/run-ts.mjs bench/support/script-ab.ts
// AB_OLD_SCRIPT: the old script's name (apply-events-7n); each side's call is built in its own
// layout (call-layouts.ts: "-4a" this release's, else the 7n layout, AB_OLD_KEYS keys per event, 7);
// AB_BATCH events per call (16), AB_ROUNDS (10). AB_CHECK=1: both scripts on one virtual clock, and
// every reply and, at the end, every key of the two namespaces must be the same (a cut changes no
// outcome). AB_EMPTY=1: both sides an empty script (what the call alone costs in each layout).
// See docs/performance.md ("Lua time per event (seventh session)"). A cut that changes what
// is stored on purpose says how: AB_IGNORE_FIELDS=a,b leaves those hash fields out of the comparison,
// and AB_TTL_AHEAD_MS lets a key of the new side outlive its twin by up to that much (never by less:
// every key's PTTL is compared, to within AB_TTL_SLACK_MS, 1000, for the calls' and reads' times).
// AB_CALLS=1: also the Redis commands each script makes per event (INFO commandstats around each call).
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { createClient, type RedisClientType } from "redis";
import { DEFAULT_PRICE_BOOK, type StageEvent } from "@creditmeter/shared";
import { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { accountKeys } from "../../server/src/ledger/keys.js";
import { assembleLua } from "../../server/src/ledger/scripts.js";
import { startRedis } from "../../test/support/redis-server.js";
import { mixedEvents } from "../scenarios/throughput.js";
import { call4a, call7n, type LayoutCall } from "./call-layouts.js";
import { commandStats, perJob, type CommandStats } from "./command-stats.js";

const oldDir = process.env.AB_OLD_DIR;
if (!oldDir) throw new Error("AB_OLD_DIR: the old server/src/ledger/lua directory (git archive)");
const oldKeys = Number(process.env.AB_OLD_KEYS ?? 7);
const oldName = process.env.AB_OLD_SCRIPT ?? "apply-events-7n";
const oldSrc = assembleLua(oldName, new Set(), pathToFileURL(`${oldDir}/`));
// AB_NEW_DIR: the new side from another directory too (default: this checkout's).
const newDir = process.env.AB_NEW_DIR;
const newSrc = assembleLua("apply-events-4a", new Set(), newDir ? pathToFileURL(`${newDir}/`) : undefined);
// An empty script per side, told apart by a comment (its SHA): the call's own cost in each layout.
const empty = process.env.AB_EMPTY === "1";
const [oldRun, newRun] = empty ? ["-- old\nreturn 1", "-- new\nreturn 1"] : [oldSrc, newSrc];
const r = await startRedis();
const client: RedisClientType = createClient({ url: r.url });
await client.connect();
const oldSha = await client.scriptLoad(oldRun);
const newSha = await client.scriptLoad(newRun);
const accounts = Array.from({ length: 200 }, (_, i) => `acct-${i}`);
const opts = { priceBook: DEFAULT_PRICE_BOOK, holdTtlSeconds: 3600, idempotencyRetentionSeconds: 30 * 86400 };
const check = process.env.AB_CHECK === "1";
// Under AB_CHECK both namespaces are set up at the same virtual instant, so that they start equal.
const start = Date.now();
for (const ns of ["A", "B"]) {
  const virtualClock = check ? () => start : undefined;
  const l = new RedisLedger({ redis: client, namespace: ns, ...opts, ledgerRetentionDays: 400, virtualClock });
  for (const a of accounts) {
    await l.putAccount(a, { plan: "free" });
    await l.addPack(a, { packId: "p", credits: 1e9 });
  }
}
const size = Number(process.env.AB_BATCH ?? 16);
// Each call's own duration from SLOWLOG (threshold 0): the two scripts run batch by batch, the
// order alternating, so a loaded machine's drift hits both alike, and the median over pairs of
// calls ignores the calls a busy core preempted (summed totals do not).
await client.configSet({ "slowlog-log-slower-than": "0", "slowlog-max-len": "100000" });
const durations = async (): Promise<Map<string, number[]>> => {
  const log = (await client.sendCommand(["SLOWLOG", "GET", "-1"])) as [number, number, number, string[]][];
  await client.sendCommand(["SLOWLOG", "RESET"]);
  const by = new Map<string, number[]>();
  // Newest first in the log: reversed to the calls' order.
  for (const [, , us, argv] of log.reverse()) {
    if (argv[0]?.toUpperCase() !== "EVALSHA" || argv[1] === undefined) continue;
    by.set(argv[1], [...(by.get(argv[1]) ?? []), us]);
  }
  return by;
};
const totals = { old: 0, new: 0, n: 0 };
const countCalls = process.env.AB_CALLS === "1";
// Per side (by script sha): the commands its calls made, summed as commandstats reads them.
const calls = new Map<string, CommandStats>();
const addCalls = (sha: string, before: CommandStats, after: CommandStats): void => {
  const sum = calls.get(sha) ?? new Map();
  for (const [command, a] of after) {
    const b = before.get(command) ?? { calls: 0, usec: 0 };
    const s = sum.get(command) ?? { calls: 0, usec: 0 };
    sum.set(command, { calls: s.calls + a.calls - b.calls, usec: s.usec + a.usec - b.usec });
  }
  calls.set(sha, sum);
};
const ratios: number[] = [];
// AB_SWAP=1: the old script on namespace B and the new on A (the two namespaces' keys land in
// different places of Redis's dicts: a run each way brackets that).
const swap = process.env.AB_SWAP === "1";
type Build = (events: StageEvent[], ns: string, retention: string) => LayoutCall;
const oldBuild: Build = oldName.endsWith("-4a")
  ? (events, ns, retention) => call4a(events, opts, (a) => accountKeys(ns, a), retention)
  : (events, ns, retention) => call7n(events, opts, (a) => accountKeys(ns, a), retention, oldKeys);
const newBuild: Build = (events, ns, retention) => call4a(events, opts, (a) => accountKeys(ns, a), retention);
const pair = [
  [swap ? "B" : "A", oldSha, oldBuild],
  [swap ? "A" : "B", newSha, newBuild],
] as const;
// A reply's events in the batch's order (a 4a call answers each account's events together).
const inBatchOrder = (reply: unknown, order: number[]): unknown => {
  const r = reply as { events?: unknown[] };
  if (!Array.isArray(r.events)) return reply;
  const events = new Array<unknown>(order.length);
  order.forEach((at, j) => (events[at] = r.events?.[j]));
  return { ...r, events };
};
let clock = start + 1;
for (let round = 0; round < Number(process.env.AB_ROUNDS ?? 10); round++) {
  const events = mixedEvents(accounts, 3600, `r${round}`);
  await durations();
  for (let i = 0, call = 0; i < events.length; i += size, call++) {
    clock = Math.max(Date.now(), clock + 1);
    const replies: unknown[] = [];
    for (const [ns, sha, build] of call % 2 ? [pair[1], pair[0]] : pair) {
      const retention = String(400 * 86_400_000) + (check ? `@${clock}` : "");
      const c = build(events.slice(i, i + size), ns, retention);
      const before = countCalls ? await commandStats(client) : undefined;
      const reply: unknown = JSON.parse(String(await client.evalSha(sha, { keys: c.keys, arguments: c.args })));
      if (before) addCalls(sha, before, await commandStats(client));

      replies.push(inBatchOrder(reply, c.order));
    }
    if (check && !isDeepStrictEqual(replies[0], replies[1]))
      throw new Error(`round ${round}, call ${call}: the replies differ\n${JSON.stringify(replies)}`);
  }
  const by = await durations();
  const o = by.get(oldSha) ?? [];
  const n = by.get(newSha) ?? [];
  o.forEach((us, k) => ratios.push((n[k] ?? NaN) / us));
  totals.old += o.reduce((a, b) => a + b, 0);
  totals.new += n.reduce((a, b) => a + b, 0);
  totals.n += events.length;
}
if (check) {
  // Every key the old script left in namespace A has its twin in B with the same content.
  const ignored = (process.env.AB_IGNORE_FIELDS ?? "").split(",").filter((f) => f !== "");
  const ahead = Number(process.env.AB_TTL_AHEAD_MS ?? 0);
  const slack = Number(process.env.AB_TTL_SLACK_MS ?? 1000);
  const dump = async (key: string): Promise<unknown> => {
    const type = await client.type(key);
    if (type === "hash") {
      const h = await client.hGetAll(key);
      return Object.fromEntries(Object.entries(h).filter(([f]) => !ignored.includes(f)));
    }
    if (type === "stream") return client.xRange(key, "-", "+");
    if (type === "zset") return client.zRangeWithScores(key, 0, -1);
    if (type === "string") return client.get(key);
    return type;
  };
  let compared = 0;
  for await (const batch of client.scanIterator({ MATCH: "A:*", COUNT: 1000 })) {
    for (const key of Array.isArray(batch) ? batch : [batch]) {
      const twin = `B:${key.slice(2)}`;
      if (!isDeepStrictEqual(await dump(key), await dump(twin))) throw new Error(`${key} and ${twin} differ`);
      // The old side's key is namespace A unless swapped; the new side may outlive it by `ahead`.
      const [a, b] = [await client.pTTL(key), await client.pTTL(twin)];
      const [o, n] = swap ? [b, a] : [a, b];
      if (o < 0 ? n !== o : n < o - slack || n > o + ahead + slack)
        throw new Error(`${key}: PTTL ${o} (old) against ${n} (new), allowed ${ahead} ms more`);
      compared++;
    }
  }
  if (compared !== (await client.keys("B:*")).length) throw new Error("namespace B has keys A has not");
  console.log(JSON.stringify({ check: "same replies and keys", keys: compared }));
}
const sorted = ratios.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
const q = (f: number): number => +(sorted[Math.floor(sorted.length * f)] ?? NaN).toFixed(3);
console.log(
  JSON.stringify({
    batch: size,
    events: totals.n,
    oldUsPerEvent: +(totals.old / totals.n).toFixed(2),
    newUsPerEvent: +(totals.new / totals.n).toFixed(2),
    ratio: +(totals.new / totals.old).toFixed(3),
    // Per pair of calls (the same events, one through each script): quartiles of new / old.
    pairRatioQuartiles: [q(0.25), q(0.5), q(0.75)],
    pairs: ratios.length,
  }),
);
if (countCalls) {
  for (const [side, sha] of [
    ["old", oldSha],
    ["new", newSha],
  ] as const) {
    const per = perJob(new Map(), calls.get(sha) ?? new Map(), totals.n)
      .filter((c) => !["evalsha", "info"].includes(c.command))
      .map((c) => `${c.command} ${c.callsPerJob.toFixed(3)}`);
    console.log(JSON.stringify({ side, callsPerEvent: per }));
  }
}
await client.close();
await r.stop();
process.exit(0);
