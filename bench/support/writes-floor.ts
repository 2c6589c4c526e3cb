import { readFileSync } from "node:fs";
import { DEFAULT_PRICE_BOOK, type StageEvent } from "@creditmeter/shared";
import { accountKeys } from "../../server/src/ledger/keys.js";
import type { Deployment } from "./deploy.js";
import { evalshaMicros } from "./command-stats.js";
import { call4a } from "./call-layouts.js";

const SCRIPT = readFileSync(new URL("./writes-floor.lua", import.meta.url), "utf8");
const LEDGER_RETENTION_MS = 400 * 86_400_000;

/**
 * Redis µs per event (INFO commandstats) of writes-floor.lua, the ledger's writes without its
 * rules, over `events` in batches of `size`: what no ledger keeping the same guarantees in this
 * Redis can go below.
 */
export async function writesFloorMicrosPerEvent(dep: Deployment, events: StageEvent[], size: number): Promise<number> {
  const sha = await dep.client.scriptLoad(SCRIPT);
  const namespace = dep.env.CREDITMETER_KEY_PREFIX ?? "";
  const opts = { priceBook: DEFAULT_PRICE_BOOK, holdTtlSeconds: 3600, idempotencyRetentionSeconds: 30 * 86_400 };
  await dep.client.configResetStat();
  for (let i = 0; i < events.length; i += size) {
    const { keys, args } = call4a(
      events.slice(i, i + size),
      opts,
      (a) => accountKeys(namespace, a),
      String(LEDGER_RETENTION_MS),
    );
    await dep.client.evalSha(sha, { keys, arguments: args });
  }
  return (await evalshaMicros(dep.client)) / events.length;
}
