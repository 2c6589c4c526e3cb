// `node scripts/run-ts.mjs bench/support/functions-ab.ts [n]`: the ledger's event script as a Redis
// Function (FCALL) against the same script by EVALSHA, call by call on one redis-server: batch i
// of the throughput mix goes to one ledger, then its twin batch (same shape, other eventIds) to
// the other, so both see the same machine load. INFO commandstats keeps FCALL's and EVALSHA's µs
// apart (nothing else runs scripts here), so one run gives both figures per batch size.
import type { RedisLedger } from "@creditmeter/server";
import { benchLedger, deploy, seedAccounts } from "./deploy.js";
import { commandStats } from "./command-stats.js";
import { mixedEvents } from "../scenarios/throughput.js";

const n = Number(process.argv[2] ?? 12_000);
const dep = await deploy();
try {
  const accounts = await seedAccounts(dep, 100);
  const ledger = (functions: boolean): RedisLedger =>
    benchLedger(dep.client, dep.env.CREDITMETER_KEY_PREFIX ?? "", functions);
  const [viaFunctions, viaEvalsha] = [ledger(true), ledger(false)];
  // Loads both (the library, the script cache) before the counters start.
  await viaFunctions.applyEvents(mixedEvents(accounts, 200, "warm-f"));
  await viaEvalsha.applyEvents(mixedEvents(accounts, 200, "warm-e"));
  console.log(
    `load average at start: ${(await import("node:os"))
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}`,
  );
  console.log("| events per call | FCALL µs/event | EVALSHA µs/event | FCALL / EVALSHA | µs saved per call |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const size of [1, 4, 16, 64]) {
    const a = mixedEvents(accounts, n, `f${size}`);
    const b = mixedEvents(accounts, n, `e${size}`);
    await dep.client.configResetStat();
    for (let i = 0; i < Math.min(a.length, b.length); i += size) {
      // Alternate which goes first, so neither always follows the other's writes.
      const first = (i / size) % 2 === 0;
      await (first ? viaFunctions : viaEvalsha).applyEvents((first ? a : b).slice(i, i + size));
      await (first ? viaEvalsha : viaFunctions).applyEvents((first ? b : a).slice(i, i + size));
    }
    const stats = await commandStats(dep.client);
    const events = Math.min(a.length, b.length);
    const f = (stats.get("fcall")?.usec ?? NaN) / events;
    const e = (stats.get("evalsha")?.usec ?? NaN) / events;
    console.log(
      `| ${size} | ${f.toFixed(1)} | ${e.toFixed(1)} | ${(f / e).toFixed(2)} | ${((e - f) * size).toFixed(1)} |`,
    );
  }
  console.log(
    `load average at end: ${(await import("node:os"))
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}`,
  );
} finally {
  await dep.close();
}
