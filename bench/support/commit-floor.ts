import { readFileSync } from "node:fs";
import { DEFAULT_PRICE_BOOK, type StageEvent } from "@creditmeter/shared";
import { accountKeys, type AccountKeys } from "../../server/src/ledger/keys.js";
import { fingerprintArgument } from "../../server/src/ledger/fingerprint.js";
import type { Deployment } from "./deploy.js";
import { commandStats } from "./command-stats.js";

const SCRIPT = readFileSync(new URL("./commit-floor.lua", import.meta.url), "utf8");
const READ_SCRIPT = readFileSync(new URL("./read-floor.lua", import.meta.url), "utf8");
const LEDGER_RETENTION_MS = 400 * 86_400_000;
const IDEM_GEN_MS = 15 * 86_400_000;
const SESSION_TTL_MS = String(LEDGER_RETENTION_MS + 86_400_000);

/** What the bench's "consumer" knows between calls: each account's version, the sessions and burn minutes it has expired. */
interface Known {
  seq: Map<string, string>;
  sessions: Set<string>;
  burn: Set<string>;
}

/** One account's events of a batch, with their fingerprint arguments (fingerprint.ts: the fields the records go under). */
interface AccountBatch {
  keys: AccountKeys;
  events: { e: StageEvent; fparg: string }[];
}

// Values as apply-events-4a wrote them for this mix (MONITOR of one run, 2026-12-05): sizes, not meaning.
const HOLD = '{"a":40,"x":1796446022376,"s":"sess-2","n":2008}';
const lastCharge = (e: StageEvent): string =>
  `{"eventId":"${e.eventId}","at":1796442422372,"action":"${e.action}","amount":60}`;

/** A record as lib/idem-record writes most: upper-case code, the fingerprint's first 17, three numbers, its rest. */
function record(e: StageEvent, fparg: string): string {
  const fp = fparg.charCodeAt(42) === 46 ? fparg.slice(65) : fparg.slice(42);
  return `${e.type === "stage.started" ? "G" : "A"}${fp.slice(0, 17)}B,F9eDD,A${fp.slice(17).replace(/,+$/, "")}`;
}

/** The packed audit entry of an account's events (lib/audit audit_write_run) and its movement count. */
function auditEntry(events: AccountBatch["events"]): [number, string] {
  const parts = ["1"];
  let prev: string[] = [];
  const push = (v: string[]): void => {
    const first = parts.length === 1;
    const out = v.map((x, i) => (i >= 5 && x !== "" && prev[i] === x ? "^" : x));
    if (first) [out[2], out[3], out[4]] = ["99999939", "60", "0"];
    prev = v;
    parts.push(out.join(",").replace(/,+$/, ""));
  };
  for (const { e } of events) {
    const ids = [e.eventId, e.sessionId, e.action, e.stepId];
    if (e.type === "stage.started") push(["h", "60", "", "", "", ...ids]);
    if (e.type === "stage.completed" || e.type === "stage.failed") push(["r", "60", "", "", "", ...ids]);
    if (e.type === "stage.completed") {
      const stage = DEFAULT_PRICE_BOOK.actions[e.action]?.stage ?? "";
      push(["c", "100", "", "", "", ...ids, stage, e.model ?? "", "5", "20", DEFAULT_PRICE_BOOK.version]);
    }
  }
  return [parts.length - 1, parts.join("|")];
}

/** One account's write section of the call (commit-floor.lua's header), in order. */
function writes(acc: AccountBatch, idemKey: string, seq: string, known: Known): string[] {
  const { keys, events } = acc;
  const out: string[] = [];
  const list = (xs: string[]): void => void out.push(String(xs.length), ...xs);
  list(
    ["plan", "pro", "sub_id", "c1", "alert_dismissed", "", "next_deadline", "1796446022376"].concat([
      "seq",
      seq,
      "sub_rem",
      "99999694",
      "held",
      "40",
      "used",
      "306",
      "tot_charged",
      "306",
    ]),
  );
  const idem: string[] = [];
  const steps = new Map<string, string>();
  for (const { e, fparg } of events) {
    idem.push(fparg.slice(0, 14), record(e, fparg));
    if (e.type !== "stage.progress") steps.set(fparg.slice(28, 42), e.type.charAt(6));
  }
  for (const [field, state] of steps) idem.push(field, state);
  list(idem);
  out.push(String(IDEM_GEN_MS * 3));
  out.push(...auditEntry(events).map(String));
  const ended = events.filter(({ e }) => e.type === "stage.completed" || e.type === "stage.failed");
  list(ended.map(({ e }) => `${e.sessionId}/${e.stepId}`));
  const open = events.filter(({ e }) => e.type === "stage.started" && !ended.some((x) => x.e.stepId === e.stepId));
  list(open.flatMap(({ e }) => [`${e.sessionId}/${e.stepId}`, HOLD]));
  const charged = events.some(({ e }) => e.type === "stage.completed");
  list(charged ? ["29940707", "306"] : []);
  out.push(charged && !known.burn.has(keys.burn) ? "420000" : "");
  if (charged) known.burn.add(keys.burn);
  const sessions = new Map<string, StageEvent[]>();
  for (const { e } of events) sessions.set(e.sessionId, [...(sessions.get(e.sessionId) ?? []), e]);
  out.push(String(sessions.size));
  for (const [sid, evs] of sessions) {
    const key = keys.session(sid);
    const fields = ["reserved", "0", "seq", "2"];
    const done = evs.filter((e) => e.type === "stage.completed");
    const lastDone = done[done.length - 1];
    if (lastDone) fields.push("last", lastCharge(lastDone), "used", "121");
    for (const e of done) fields.push(DEFAULT_PRICE_BOOK.actions[e.action]?.stage ?? "", "120");
    const fresh = !known.sessions.has(key);
    if (fresh) fields.push("xp", "1831088762372");
    known.sessions.add(key);
    out.push(key, fresh ? SESSION_TTL_MS : "");
    list(fields);
  }
  return out;
}

/** The batch's events by account, in the order accounts first appear. */
function byAccountOf(events: StageEvent[], keysOf: (accountId: string) => AccountKeys): Map<string, AccountBatch> {
  const byAccount = new Map<string, AccountBatch>();
  for (const e of events) {
    const acc = byAccount.get(e.accountId) ?? { keys: keysOf(e.accountId), events: [] };
    acc.events.push({ e, fparg: fingerprintArgument(e) });
    byAccount.set(e.accountId, acc);
  }
  return byAccount;
}

/** The read-floor.lua call of `events`: the state a consumer computes them from (its layout: that script's header). */
export function readCall(
  events: StageEvent[],
  keysOf: (accountId: string) => AccountKeys,
  now: number,
): { keys: string[]; args: string[] } {
  const byAccount = byAccountOf(events, keysOf);
  const keys: string[] = [];
  const args = [String(byAccount.size)];
  for (const { keys: k, events: evs } of byAccount.values()) {
    keys.push(k.account, k.holds, k.log, k.burn);
    const fields = evs.flatMap(({ fparg }) => [fparg.slice(0, 14), fparg.slice(28, 42)]);
    const holds = evs.filter(({ e }) => e.type !== "stage.started").map(({ e }) => `${e.sessionId}/${e.stepId}`);
    const sessions = [...new Set(evs.map(({ e }) => k.session(e.sessionId)))];
    args.push(`${k.prefix}ids:${Math.floor(now / IDEM_GEN_MS)}`, String(fields.length), ...fields);
    args.push(String(holds.length), ...holds, String(sessions.length), ...sessions);
  }
  return { keys, args };
}

/** The commit-floor.lua call of `events`: what a consumer that computed them would send (its values made up, their sizes real). */
export function commitCall(
  events: StageEvent[],
  keysOf: (accountId: string) => AccountKeys,
  known: Known,
  now: number,
): { keys: string[]; args: string[] } {
  const byAccount = byAccountOf(events, keysOf);
  const keys: string[] = [];
  const checks: string[] = [];
  const tail: string[] = [];
  for (const acc of byAccount.values()) {
    const k = acc.keys;
    keys.push(k.account, k.holds, k.log, k.burn);
    const idemKey = `${k.prefix}ids:${Math.floor(now / IDEM_GEN_MS)}`;
    const was = known.seq.get(k.account) ?? "";
    const seq = String(Number(was) + 1);
    known.seq.set(k.account, seq);
    checks.push(was, idemKey, String(acc.events.length), ...acc.events.map(({ fparg }) => fparg.slice(0, 14)));
    tail.push(...writes(acc, idemKey, seq, known));
  }
  return { keys, args: [String(now - LEDGER_RETENTION_MS), String(byAccount.size), ...checks, ...tail] };
}

/** The commit floor over `events` in batches of `size`. */
export interface CommitFloor {
  /** Redis µs per event (INFO commandstats, EVALSHA: the script and every call in it). */
  redisMicrosPerEvent: number;
  /** Redis µs per event of reading the batch's state first (read-floor.lua, by EVAL to tell it apart). */
  readMicrosPerEvent: number;
  /** Node µs per event building the calls (this bench's builder, no rules): a lower bound for a consumer's. */
  buildMicrosPerEvent: number;
  /** Strings and bytes per event sent (keys and arguments). */
  stringsPerEvent: number;
  bytesPerEvent: number;
}

/**
 * Runs commit-floor.lua over `events` in batches of `size` on the ledger's own account keys (their
 * versions read first, kept in step here), each batch's state read first by read-floor.lua as a
 * consumer would. Every call must commit: a refused one fails the bench.
 */
export async function commitFloor(dep: Deployment, events: StageEvent[], size: number): Promise<CommitFloor> {
  const sha = await dep.client.scriptLoad(SCRIPT);
  const namespace = dep.env.CREDITMETER_KEY_PREFIX ?? "";
  const keysOf = (a: string): AccountKeys => accountKeys(namespace, a);
  const known: Known = { seq: new Map(), sessions: new Set(), burn: new Set() };
  for (const a of new Set(events.map((e) => e.accountId))) {
    const k = keysOf(a);
    known.seq.set(k.account, (await dep.client.hGet(k.account, "seq")) ?? "");
  }
  let buildMs = 0;
  let strings = 0;
  let bytes = 0;
  await dep.client.configResetStat();
  for (let i = 0; i < events.length; i += size) {
    const t = performance.now();
    const { keys, args } = commitCall(events.slice(i, i + size), keysOf, known, Date.now());
    buildMs += performance.now() - t;
    strings += keys.length + args.length;
    for (const s of keys) bytes += Buffer.byteLength(s);
    for (const s of args) bytes += Buffer.byteLength(s);
    const read = readCall(events.slice(i, i + size), keysOf, Date.now());
    await dep.client.eval(READ_SCRIPT, { keys: read.keys, arguments: read.args });
    const r = await dep.client.evalSha(sha, { keys, arguments: args });
    if (r !== 1) throw new Error(`commit-floor refused a batch: ${JSON.stringify(r)}`);
  }
  const n = events.length;
  const stats = await commandStats(dep.client);
  return {
    redisMicrosPerEvent: (stats.get("evalsha")?.usec ?? NaN) / n,
    readMicrosPerEvent: (stats.get("eval")?.usec ?? NaN) / n,
    buildMicrosPerEvent: (buildMs * 1000) / n,
    stringsPerEvent: strings / n,
    bytesPerEvent: bytes / n,
  };
}
