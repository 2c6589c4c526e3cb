import { randomUUID } from "node:crypto";
import type { RedisClientType } from "redis";
import type { StageEvent } from "@creditmeter/shared";
import { buildWorkload } from "../../test/support/workload.js";
import { expandEntries } from "../../server/src/ledger/audit-entries.js";
import { deploy, seedAccounts, type Deployment } from "../support/deploy.js";
import { report, table } from "../support/report.js";
import { fmt } from "../support/stats.js";
import type { ScenarioOptions } from "./options.js";

// What each record kind is kept for, with the deployment's (and production's) defaults:
// CREDITMETER_IDEMPOTENCY_RETENTION 30 days, CREDITMETER_LEDGER_RETENTION_DAYS 400.
const IDEMPOTENCY_DAYS = 30;
// A generation (server/src/ledger/lua/lib/idem.lua, 15 days) expires at its end + the retention +
// 1 h: its records are kept on average half a generation longer than the retention.
const GENERATION_DAYS = 15;
const GENERATION_KEPT_DAYS = IDEMPOTENCY_DAYS + GENERATION_DAYS / 2 + 1 / 24;
const LEDGER_DAYS = 400;
const RATES = [10, 100, 1000];
// One video's worth of steps per session (test/support/workload.ts STEP_SPECS has 11 actions).
const STEPS_PER_SESSION = 11;
const SESSIONS_PER_ACCOUNT = 4;
const BATCH = 16;

type Kind = "ids" | "evt" | "st" | "sess" | "log" | "holds" | "acct" | "other";
interface Usage {
  bytes: number;
  keys: number;
}
type Snapshot = Record<Kind, Usage>;

/** Which record a key is, from what follows the account's `{tag}:`. */
function kindOf(key: string): Kind {
  const rest = key.slice(key.indexOf("}:") + 2);
  for (const k of ["ids", "evt", "st", "sess"] as const) if (rest.startsWith(`${k}:`)) return k;
  if (rest === "log" || rest === "holds" || rest === "acct") return rest;
  return "other";
}

async function usedMemory(client: RedisClientType): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await client.info("memory"))?.[1] ?? NaN);
}

/** MEMORY USAGE (SAMPLES 0: every element, exact) of every key of the namespace, summed by kind. */
async function snapshot(client: RedisClientType, namespace: string): Promise<Snapshot> {
  const out: Snapshot = { ids: z(), evt: z(), st: z(), sess: z(), log: z(), holds: z(), acct: z(), other: z() };
  for await (const keys of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 1000 })) {
    const sizes = await Promise.all(keys.map((key) => client.sendCommand(["MEMORY", "USAGE", key, "SAMPLES", "0"])));
    keys.forEach((key, i) => {
      const u = out[kindOf(key)];
      u.keys += 1;
      u.bytes += Number(sizes[i] ?? 0);
    });
  }
  return out;
}
function z(): Usage {
  return { bytes: 0, keys: 0 };
}

/** The fields of the namespace's idempotency generations: records (`e:`) and step states (`s:`). */
async function generationFields(client: RedisClientType, namespace: string): Promise<{ e: number; s: number }> {
  const out = { e: 0, s: 0 };
  for await (const keys of client.scanIterator({ MATCH: `${namespace}:*:ids:*`, COUNT: 1000 })) {
    for (const key of keys) {
      for (const f of await client.hKeys(key)) out[f.startsWith("e") ? "e" : "s"] += 1;
    }
  }
  return out;
}

async function streamEntries(client: RedisClientType, namespace: string, accounts: string[]): Promise<number> {
  const lens = await Promise.all(accounts.map((a) => client.xLen(`${namespace}:{${a}}:log`)));
  return lens.reduce((s, n) => s + n, 0);
}

/** Ledger movements in the accounts' trails (a packed stream entry holds several: ledger/audit-entries.ts). */
async function movements(client: RedisClientType, namespace: string, accounts: string[]): Promise<number> {
  let n = 0;
  for (const a of accounts) n += expandEntries(await client.xRange(`${namespace}:{${a}}:log`, "-", "+")).length;
  return n;
}

/** The workload's events with production-like ids: eventIds and sessionIds are UUIDs (36 chars). */
function realisticEvents(accounts: string[], n: number, sessionsPerAccount = SESSIONS_PER_ACCOUNT): StageEvent[] {
  const steps = STEPS_PER_SESSION;
  const { events } = buildWorkload({
    accounts,
    sessionsPerAccount,
    stepsPerSession: steps,
    plan: "pro",
    seed: 4242,
    tag: "mem",
  });
  const sessions = new Map<string, string>();
  return events.slice(0, n).map((e) => {
    const k = `${e.accountId}/${e.sessionId}`;
    const sessionId = sessions.get(k) ?? randomUUID();
    sessions.set(k, sessionId);
    return { ...e, eventId: randomUUID(), sessionId };
  });
}

/** Bytes one open hold adds to the account's holds hash: `count` steps started and left open. */
async function holdBytes(dep: Deployment, namespace: string, accountId: string, count: number): Promise<number> {
  const key = `${namespace}:{${accountId}}:holds`;
  const size = async (): Promise<number> =>
    Number((await dep.client.sendCommand(["MEMORY", "USAGE", key, "SAMPLES", "0"])) ?? 0);
  const before = await size();
  const sessionId = randomUUID();
  const at = new Date().toISOString();
  for (let i = 0; i < count; i += BATCH) {
    const batch: StageEvent[] = Array.from({ length: Math.min(BATCH, count - i) }, (_, j) => ({
      v: 1,
      eventId: randomUUID(),
      type: "stage.started",
      accountId,
      sessionId,
      stepId: `step-${i + j}`,
      action: "image",
      scenes: 3,
      occurredAt: at,
    }));
    await dep.ledger.applyEvents(batch);
  }
  return ((await size()) - before) / count;
}

/**
 * Bytes per event of one busy account's generation hash: past 512 fields (or with a value over 64
 * bytes) Redis keeps a hash as a hash table, whose fields cost more than the listpack of a quieter
 * account's (hash-max-listpack-entries / -value, Redis's defaults).
 */
async function busyAccountBytes(
  dep: Deployment,
  namespace: string,
  accountId: string,
  n: number,
): Promise<{ perEvent: number; encoding: string; fields: number; logPerEvent: number; logPerMovement: number }> {
  const events = realisticEvents([accountId], n, Math.ceil(n / (STEPS_PER_SESSION * 2)));
  for (let i = 0; i < events.length; i += BATCH) await dep.ledger.applyEvents(events.slice(i, i + BATCH));
  let bytes = 0;
  let fields = 0;
  let encoding = "";
  for await (const keys of dep.client.scanIterator({ MATCH: `${namespace}:{${accountId}}:ids:*`, COUNT: 1000 })) {
    for (const key of keys) {
      bytes += Number((await dep.client.sendCommand(["MEMORY", "USAGE", key, "SAMPLES", "0"])) ?? 0);
      fields += await dep.client.hLen(key);
      encoding = String(await dep.client.sendCommand(["OBJECT", "ENCODING", key]));
    }
  }
  // Its audit trail too: a long trail fills its 4 KB stream nodes, which the mix's short trails
  // (about 100 events an account, one or two nodes) do not, so bytes saved per movement show here.
  const log = `${namespace}:{${accountId}}:log`;
  const logBytes = Number((await dep.client.sendCommand(["MEMORY", "USAGE", log, "SAMPLES", "0"])) ?? 0);
  const moves = expandEntries(await dep.client.xRange(log, "-", "+")).length;
  return {
    perEvent: bytes / events.length,
    encoding,
    fields: fields / events.length,
    logPerEvent: logBytes / events.length,
    logPerMovement: logBytes / Math.max(1, moves),
  };
}

/** Bytes in MB, GB or TB (binary units), whichever keeps the figure under 1024. */
function mb(bytes: number): string {
  if (bytes >= 2 ** 40) return `${fmt(bytes / 2 ** 40, 1)} TB`;
  return bytes >= 2 ** 30 ? `${fmt(bytes / 2 ** 30, 1)} GB` : `${fmt(bytes / 2 ** 20, 1)} MB`;
}

/** Scenario 6: Redis memory per record kind, per event and per day (steady state under each TTL). */
export async function memory(opts: ScenarioOptions): Promise<unknown> {
  const n = opts.quick ? 6_000 : 20_000;
  const dep = await deploy();
  try {
    const namespace = dep.env.CREDITMETER_KEY_PREFIX ?? "";
    const perAccount = Math.round(SESSIONS_PER_ACCOUNT * STEPS_PER_SESSION * 2.3);
    const accounts = await seedAccounts(dep, Math.ceil(n / perAccount), "mem");
    const events = realisticEvents(accounts, n);
    const steps = new Set(events.map((e) => `${e.accountId}/${e.sessionId}/${e.stepId}`)).size;
    const sessions = new Set(events.map((e) => `${e.accountId}/${e.sessionId}`)).size;

    const s0 = await snapshot(dep.client, namespace);
    const x0 = await streamEntries(dep.client, namespace, accounts);
    const v0 = await movements(dep.client, namespace, accounts);
    const m0 = await usedMemory(dep.client);
    for (let i = 0; i < events.length; i += BATCH) {
      const outcomes = await dep.ledger.applyEvents(events.slice(i, i + BATCH));
      const bad = outcomes.find((o) => o instanceof Error);
      if (bad) throw bad;
    }
    const m1 = await usedMemory(dep.client);
    const s1 = await snapshot(dep.client, namespace);
    const fields = await generationFields(dep.client, namespace);
    const entries = (await streamEntries(dep.client, namespace, accounts)) - x0;
    const moves = (await movements(dep.client, namespace, accounts)) - v0;
    const hold = await holdBytes(dep, namespace, accounts[0] ?? "mem-0", 500);
    const [busyId] = await seedAccounts(dep, 1, "busy");
    const busy = await busyAccountBytes(dep, namespace, busyId ?? "busy-0", opts.quick ? 3_000 : 10_000);

    const d = (k: Kind): Usage => ({ bytes: s1[k].bytes - s0[k].bytes, keys: s1[k].keys - s0[k].keys });
    const total = m1 - m0;
    // Each kind: how many per event, bytes each, bytes per event, and how long it is kept (days; 0: not per day).
    const kinds = [
      {
        name: `idempotency generation \`ids:<g>\` (${fmt(fields.e / n, 3)} record \`e…\` + ${fmt(fields.s / n, 3)} step state \`s…\` fields per event)`,
        count: fields.e + fields.s,
        bytes: d("ids").bytes,
        days: GENERATION_KEPT_DAYS,
        kept: `${IDEMPOTENCY_DAYS} d + 1 h after its ${GENERATION_DAYS}-day generation's end (on average ${fmt(GENERATION_KEPT_DAYS, 1)} d)`,
      },
      {
        name: "idempotency record `evt:<eventId>` (the layout before)",
        count: d("evt").keys,
        bytes: d("evt").bytes,
        days: IDEMPOTENCY_DAYS,
        kept: `${IDEMPOTENCY_DAYS} d (idempotency retention)`,
      },
      {
        name: "step state `st:<session>/<step>` (the layout before)",
        count: d("st").keys,
        bytes: d("st").bytes,
        days: IDEMPOTENCY_DAYS,
        kept: `${IDEMPOTENCY_DAYS} d after the step's last event`,
      },
      {
        name: "session hash `sess:<session>`",
        count: d("sess").keys,
        bytes: d("sess").bytes,
        days: LEDGER_DAYS,
        kept: `${LEDGER_DAYS} d after the session's last event`,
      },
      {
        // Per movement (a hold, release or charge); the stream entries are fewer (one per account per script call).
        name: "audit movement (`log` stream, packed)",
        count: moves,
        bytes: d("log").bytes,
        days: LEDGER_DAYS,
        kept: `${LEDGER_DAYS} d (MINID trim)`,
      },
    ];
    const attributed = kinds.reduce((s, k) => s + k.bytes, 0);
    // The rest of used_memory's growth: the keyspace's and the expires table's entries and buckets
    // (MEMORY USAGE counts a key's own entry, not its expires entry) and allocator rounding.
    const rest = total - attributed - d("holds").bytes - d("acct").bytes;
    const rows = kinds.map((k) => [
      k.name,
      fmt(k.count / n, 3),
      fmt(k.bytes / Math.max(1, k.count), 0),
      fmt(k.bytes / n, 1),
      k.kept,
    ]);
    rows.push([
      "keyspace + expires tables, allocator (used_memory − the above)",
      "",
      "",
      fmt(rest / n, 1),
      "with the keys above",
    ]);
    rows.push(["**used_memory growth (INFO memory)**", "", "", `**${fmt(total / n, 1)}**`, ""]);
    rows.push([
      `one busy account's generation (${opts.quick ? "3,000" : "10,000"} events, ${busy.encoding})`,
      fmt(busy.fields, 3),
      fmt(busy.perEvent / Math.max(busy.fields, 1e-9), 0),
      fmt(busy.perEvent, 1),
      "as the generations above",
    ]);
    rows.push([
      `one busy account's audit trail (the same events, packed)`,
      "",
      fmt(busy.logPerMovement, 0),
      fmt(busy.logPerEvent, 1),
      "as the audit movements above",
    ]);
    rows.push([
      "open hold (field of `holds`)",
      "1 per open step",
      fmt(hold, 0),
      "—",
      "until the step ends (at most the hold TTL, 1 h)",
    ]);

    // Steady state: rate × seconds kept × bytes per event, for each kind; the rest follows the keys
    // it indexes, mostly the 30-day ones (counted there: an upper bound on its 30-day share).
    const perDay = (rate: number): { day: number; steady: number } => {
      let day = 0;
      let steady = 0;
      for (const k of kinds) {
        const b = (k.bytes / n) * rate * 86_400;
        day += b;
        steady += b * k.days;
      }
      day += (rest / n) * rate * 86_400;
      steady += (rest / n) * rate * 86_400 * IDEMPOTENCY_DAYS;
      return { day, steady };
    };
    const steadyOf = (rate: number, days: number, bytesPerEvent: number): number =>
      bytesPerEvent * rate * 86_400 * days;
    const dayRows = RATES.map((rate) => {
      const p = perDay(rate);
      const short =
        steadyOf(rate, GENERATION_KEPT_DAYS, (kinds[0]?.bytes ?? 0) / n) +
        steadyOf(rate, IDEMPOTENCY_DAYS, (kinds[1]?.bytes ?? 0) / n + (kinds[2]?.bytes ?? 0) / n + rest / n);
      const long = steadyOf(rate, LEDGER_DAYS, (kinds[3]?.bytes ?? 0) / n + (kinds[4]?.bytes ?? 0) / n);
      const holdsMax = (rate / (n / steps)) * 3600 * hold;
      return [String(rate), mb(p.day), mb(short), mb(long), mb(p.steady), mb(holdsMax)];
    });
    const md =
      table(["record", "per event", "bytes each", "bytes per event", "kept"], rows) +
      `\n\n${moves} movements in ${entries} stream entries. ${n} events (${steps} steps, ${sessions} sessions of ${STEPS_PER_SESSION} steps, ${accounts.length} accounts; eventIds and sessionIds UUIDs), batches of ${BATCH}, through RedisLedger; MEMORY USAGE … SAMPLES 0 of every key before and after.\n\n` +
      table(
        [
          "events/s",
          "added per day",
          `steady state, idempotency records (ids, evt, st, tables)`,
          `steady state, ${LEDGER_DAYS}-day records (sess, log)`,
          "steady state, total",
          "open holds, at most (every hold lasting its 1 h TTL)",
        ],
        dayRows,
      );
    const data = {
      n,
      steps,
      sessions,
      accounts: accounts.length,
      batch: BATCH,
      usedMemoryDelta: total,
      streamEntries: entries,
      movements: moves,
      holdBytes: hold,
      busyAccount: busy,
      restBytes: rest,
      kinds: kinds.map((k) => ({ ...k, bytesPerRecord: k.bytes / Math.max(1, k.count), bytesPerEvent: k.bytes / n })),
      perDay: Object.fromEntries(RATES.map((r) => [r, perDay(r)])),
    };
    report("memory", "6. Redis memory per record, per event and per day", md, data, opts.quick);
    return data;
  } finally {
    await dep.close();
  }
}
