// A/B of the ledger's event script against an older version of it, in one run, on one private
// redis-server: Redis's own time per event (INFO commandstats, EVALSHA µs) for the throughput mix,
// rounds alternating which goes first, so a loaded machine's drift hits both alike.
//   git archive <commit> server/src/ledger/lua | tar -x -C /tmp/old
//   AB_OLD_DIR=/tmp/old/server/src/ledger/lua node scripts/run-ts.mjs bench/support/script-ab.ts
// AB_OLD_SCRIPT / AB_OLD_KEYS: the old script's name and keys per event (apply-events-6n, 6);
// AB_BATCH events per call (16), AB_ROUNDS (10). See docs/performance.md ("Forecast cost").
import { pathToFileURL } from "node:url";
import { createClient, type RedisClientType } from "redis";
import { DEFAULT_PRICE_BOOK } from "@creditmeter/shared";
import { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { accountKeys } from "../../server/src/ledger/keys.js";
import { eventCall } from "../../server/src/ledger/event-batch.js";
import { assembleLua } from "../../server/src/ledger/scripts.js";
import { startRedis } from "../../test/support/redis-server.js";
import { mixedEvents } from "../scenarios/throughput.js";

const oldDir = process.env.AB_OLD_DIR;
if (!oldDir) throw new Error("AB_OLD_DIR: the old server/src/ledger/lua directory (git archive)");
const oldKeys = Number(process.env.AB_OLD_KEYS ?? 6);
const oldSrc = assembleLua(process.env.AB_OLD_SCRIPT ?? "apply-events-6n", new Set(), pathToFileURL(`${oldDir}/`));
const newSrc = assembleLua("apply-events-7n");
const r = await startRedis();
const client: RedisClientType = createClient({ url: r.url });
await client.connect();
const oldSha = await client.scriptLoad(oldSrc);
const newSha = await client.scriptLoad(newSrc);
const accounts = Array.from({ length: 200 }, (_, i) => `acct-${i}`);
const opts = { priceBook: DEFAULT_PRICE_BOOK, holdTtlSeconds: 3600, idempotencyRetentionSeconds: 30 * 86400 };
for (const ns of ["A", "B"]) {
  const l = new RedisLedger({ redis: client, namespace: ns, ...opts, ledgerRetentionDays: 400 });
  for (const a of accounts) {
    await l.putAccount(a, { plan: "free" });
    await l.addPack(a, { packId: "p", credits: 1e9 });
  }
}
const size = Number(process.env.AB_BATCH ?? 16);
const stats = async (): Promise<number> => {
  const line = (await client.info("commandstats")).split("\n").find((x) => x.startsWith("cmdstat_evalsha:"));
  return Number(/usec=(\d+)/.exec(line ?? "")?.[1] ?? 0);
};
const totals = { old: 0, new: 0, n: 0 };
const ratios: number[] = [];
for (let round = 0; round < Number(process.env.AB_ROUNDS ?? 10); round++) {
  const events = mixedEvents(accounts, 3600, `r${round}`);
  const pair = [
    ["old", "A", oldSha, oldKeys],
    ["new", "B", newSha, 7],
  ] as const;
  const per: Record<string, number> = {};
  for (const [label, ns, sha, keep] of round % 2 ? [pair[1], pair[0]] : pair) {
    await client.configResetStat();
    for (let i = 0; i < events.length; i += size) {
      const keys: string[] = [];
      const args: (string | number)[] = [String(400 * 86_400_000), DEFAULT_PRICE_BOOK.version];
      for (const e of events.slice(i, i + size)) {
        const c = eventCall(e, opts, accountKeys(ns, e.accountId));
        if (c instanceof Error) throw c;
        keys.push(...c.keys.slice(0, keep));
        args.push(...c.args);
      }
      await client.evalSha(sha, { keys, arguments: args.map(String) });
    }
    per[label] = await stats();
    totals[label] += per[label] ?? 0;
  }
  ratios.push((per.new ?? 0) / (per.old ?? 1));
  totals.n += events.length;
}
console.log(
  JSON.stringify({
    batch: size,
    events: totals.n,
    oldUsPerEvent: totals.old / totals.n,
    newUsPerEvent: totals.new / totals.n,
    ratio: totals.new / totals.old,
    medianRoundRatio: ratios.sort((a, b) => a - b)[Math.floor(ratios.length / 2)],
  }),
);
await client.close();
await r.stop();
process.exit(0);
