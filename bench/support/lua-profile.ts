// Where the event script's Redis time goes, section by section: a probed copy of apply-events-4a
// (never the server's script) reads redis.call("TIME") at marked lines of its main body and around
// chosen library functions, and adds the µs to a hash; the throughput mix runs through it on a
// private redis-server. docs/performance.md "Lua time per event (seventh session)".
//   node scripts/run-ts.mjs bench/support/lua-profile.ts
// PROF_BATCH events per call (16), PROF_ROUNDS (4, 3.6k events each, new steps every round), PROF_FUNCS: library
// functions to time inclusively (comma-separated local function names; default none), PROF_DIR:
// another lua directory (a git archive) of this layout, to profile an older script the same way
// (the marks follow apply-events-4a's main body).
import { pathToFileURL } from "node:url";
import { createClient, type RedisClientType } from "redis";
import { DEFAULT_PRICE_BOOK } from "@creditmeter/shared";
import { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { accountKeys } from "../../server/src/ledger/keys.js";
import { assembleLua } from "../../server/src/ledger/scripts.js";
import { startRedis } from "../../test/support/redis-server.js";
import { mixedEvents } from "../scenarios/throughput.js";
import { call4a } from "./call-layouts.js";

// Section marks: a lap is taken before the first line (of the main body) that contains the text.
const MARKS: [string, string][] = [
  ["local key, count = KEYS", "loop: the account's keys"],
  ["local ctx = account_context", "load: context, load_account, maintain"],
  ["local acc = { ctx = ctx", "loop: misc"],
  ["v = read_event(v, p)", "event: ARGV to ev (read_event)"],
  ["local r = apply_event", "apply_event"],
  ["if not r.error then", "after: av, su, remember_after/raised"],
  ["r.alert = alert_reply", "after: alert_reply, repush"],
  ["events[#events + 1] = r", "loop: misc"],
  ["burn_prepare(acc.ctx, acc.ctx.touched)", "close: burn_prepare, sessions_encode"],
  ["local out = {}", "close: misc"],
  ["local moved = close_account", "close: close_account"],
  ["idem_flush(acc.ctx, acc.a)", "close: idem_flush"],
  ["local sessions = {}", "reply: session snapshots"],
  ["out[i] = {", "reply: account_view"],
  ["for _, acc in ipairs(accounts) do audit_flush", "close: audit_flush"],
  ["return cjson.encode(", "reply: cjson.encode"],
];

const PROBES = `
local __t, __n, __now, __cur, __calls = {}, {}, 0, "preamble: libraries to main", 0
local function __clock() local t = redis.call("TIME") return t[1] * 1000000 + t[2] end
local function __sec(name)
  local t = __clock()
  __t[__cur] = (__t[__cur] or 0) + t - __now
  __n[__cur] = (__n[__cur] or 0) + 1
  __now, __cur = t, name
end
local function __fin(name, t0, ...)
  __t[name] = (__t[name] or 0) + __clock() - t0
  __n[name] = (__n[name] or 0) + 1
  return ...
end
local function __probe(name, f) return function(...) return __fin("fn " .. name, __clock(), f(...)) end end
local function __dump()
  for k, v in pairs(__t) do redis.call("HINCRBY", "__prof", k, v) redis.call("HINCRBY", "__prof_n", k, __n[k]) end
end
`;

/** The event script with its probes. */
export function probedScript(dir?: URL, funcs: string[] = []): string {
  const src = assembleLua("apply-events-4a", new Set(), dir);
  const main = src.indexOf("local retention_ms, now, virtual = retention_and_clock(ARGV[1])");
  if (main < 0) throw new Error("the script's main body was not found");
  let body = src.slice(main);
  for (const [text, name] of MARKS) {
    const at = body.indexOf(text);
    if (at < 0) throw new Error(`mark not found: ${text}`);
    const line = body.lastIndexOf("\n", at) + 1;
    // Every occurrence after the first stays unmarked; marks go in order down the body.
    body = `${body.slice(0, line)}__sec(${JSON.stringify(name)}) ${body.slice(line)}`;
  }
  body = body.replace(
    /return cjson\.encode\((.*)\)\s*$/s,
    'local __out = cjson.encode($1)\n__sec("end") __dump()\nreturn __out\n',
  );
  const wraps = funcs.map((f) => `${f} = __probe(${JSON.stringify(f)}, ${f})`).join("\n");
  // The first lap (a calibration: what one lap itself costs) comes right before the main body.
  const calib = `__sec("calibration (one lap)") __sec("calibration (one lap)") __sec("main: clock, setup")\n`;
  const head = `${PROBES}__now = __clock()\n`;
  return head + src.slice(0, main) + wraps + "\n" + calib + body;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const funcs = (process.env.PROF_FUNCS ?? "").split(",").filter((f) => f !== "");
  const dir = process.env.PROF_DIR ? pathToFileURL(`${process.env.PROF_DIR}/`) : undefined;
  const r = await startRedis();
  const client: RedisClientType = createClient({ url: r.url });
  await client.connect();
  const sha = await client.scriptLoad(probedScript(dir, funcs));
  const accounts = Array.from({ length: 200 }, (_, i) => `acct-${i}`);
  const opts = { priceBook: DEFAULT_PRICE_BOOK, holdTtlSeconds: 3600, idempotencyRetentionSeconds: 30 * 86400 };
  const l = new RedisLedger({ redis: client, namespace: "P", ...opts, ledgerRetentionDays: 400 });
  for (const a of accounts) {
    await l.putAccount(a, { plan: "free" });
    await l.addPack(a, { packId: "p", credits: 1e9 });
  }
  const size = Number(process.env.PROF_BATCH ?? 16);
  let n = 0;
  await client.configResetStat();
  for (let round = 0; round < Number(process.env.PROF_ROUNDS ?? 4); round++) {
    const events = mixedEvents(accounts, 3600, `r${round}`);
    for (let i = 0; i < events.length; i += size) {
      const { keys, args } = call4a(
        events.slice(i, i + size),
        opts,
        (a) => accountKeys("P", a),
        String(400 * 86_400_000),
      );
      await client.evalSha(sha, { keys, arguments: args });
    }
    n += events.length;
  }
  const line = (await client.info("commandstats")).split("\n").find((x) => x.startsWith("cmdstat_evalsha:"));
  const evalsha = Number(/usec=(\d+)/.exec(line ?? "")?.[1] ?? 0);
  const totals = await client.hGetAll("__prof");
  const counts = await client.hGetAll("__prof_n");
  const lap = Number(totals["calibration (one lap)"] ?? 0) / Number(counts["calibration (one lap)"] ?? 1);
  const rows = Object.entries(totals)
    .map(([k, v]) => {
      const c = Number(counts[k] ?? 0);
      // Less one lap per count: the lap that ends a section, a function timer's clock reads.
      const net = Number(v) - c * lap;
      return { section: k, usPerEvent: +(net / n).toFixed(2), perEvent: +(c / n).toFixed(2) };
    })
    .sort((a, b) => b.usPerEvent - a.usPerEvent);
  const sections = rows.filter((x) => !x.section.startsWith("fn ") && !x.section.startsWith("calibration"));
  const inScript = sections.reduce((s, x) => s + x.usPerEvent, 0);
  console.log(
    JSON.stringify({
      batch: size,
      events: n,
      evalshaUsPerEvent: +(evalsha / n).toFixed(2),
      lapUs: +lap.toFixed(3),
      sectionsUsPerEvent: +inScript.toFixed(2),
    }),
  );
  for (const x of rows)
    console.log(`${x.usPerEvent.toFixed(2).padStart(7)} µs  ${x.perEvent.toFixed(2).padStart(5)}×  ${x.section}`);
  await client.close();
  await r.stop();
  process.exit(0);
}
