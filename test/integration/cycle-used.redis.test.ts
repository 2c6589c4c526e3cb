/**
 * Posting a cycle must not block Redis however long the account's history (CONTRACT §3 v1.1):
 * `used` comes from the running totals on the audit entries (`cum`), not from a scan. This file
 * writes raw audit entries (200k, pipelined, as the scripts write them) and reads Redis's own
 * command statistics, so it runs on a redis-server of its own: no other test's scripts in them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type RedisClientType } from "redis";
import { RedisLedger } from "@creditmeter/server";
import { startRedis, type TestRedis } from "../support/redis-server.js";
import { LEDGER_DEFAULTS } from "../support/ledger.js";

const DAY = 86_400_000;

describe("cycle start in O(1) of the account's history", () => {
  let server: TestRedis;
  let redis: RedisClientType;
  let ledger: RedisLedger;
  beforeAll(async () => {
    server = await startRedis();
    redis = createClient({ url: server.url });
    await redis.connect();
    ledger = new RedisLedger({
      redis,
      namespace: "cu",
      ...LEDGER_DEFAULTS,
    });
  });
  afterAll(async () => {
    await redis.close();
    await server.stop();
  });

  /**
   * Writes `count` charge entries spread over the last year (with `cum` unless `legacy`), after
   * `cumBefore` credits already charged; returns the credits they charge and sets tot_charged.
   */
  async function history(
    accountId: string,
    count: number,
    opts: { legacy: boolean; cumBefore?: number; fromMs: number; toMs: number },
  ): Promise<number> {
    const k = ledger.keys(accountId);
    let cum = opts.cumBefore ?? 0;
    const step = (opts.toMs - opts.fromMs) / count;
    const CHUNK = 5000;
    for (let at = 0; at < count; at += CHUNK) {
      const writes: Promise<unknown>[] = [];
      for (let i = at; i < Math.min(count, at + CHUNK); i += 1) {
        const amount = 1 + (i % 13);
        cum += amount;
        const fields: Record<string, string> = {
          k: "charge",
          amt: String(amount),
          av: "1000",
          hd: "0",
          od: "0",
          eid: `ev-${i}`,
          sid: `s-${i % 50}`,
          act: "talking_head",
          stg: "voiceover",
          step: `st-${i}`,
        };
        if (!opts.legacy) fields.cum = String(cum);
        writes.push(redis.xAdd(k.log, `${Math.floor(opts.fromMs + i * step)}-${i}`, fields));
      }
      await Promise.all(writes);
    }
    await redis.hSet(k.account, "tot_charged", String(cum));
    return cum - (opts.cumBefore ?? 0);
  }

  /** Redis's own time (µs) in start-cycle-5 for one cycle post, and the post's balance. */
  async function timedCycle(
    accountId: string,
    startMs: number,
  ): Promise<{ usec: number; calls: number; used: number }> {
    await redis.configResetStat();
    const out = await ledger.startCycle(accountId, {
      cycleId: `c-${startMs}`,
      credits: 100,
      start: new Date(startMs).toISOString(),
      end: new Date(Date.now() + 30 * DAY).toISOString(),
    });
    const info = await redis.info("commandstats");
    // The script's call: FCALL (Redis Functions, ledger/scripts.ts).
    const line = /cmdstat_fcall:calls=(\d+),usec=(\d+)/.exec(info);
    return { calls: Number(line?.[1] ?? 0), usec: Number(line?.[2] ?? Infinity), used: out.balance.used };
  }

  it("an account with 200k entries, a cycle backdated a year: under 1 ms in Redis, and used exact", async () => {
    const now = Date.now();
    await ledger.putAccount("warm", { plan: "free" });
    // Loads start-cycle-5's library into Redis, so the measured call is one FCALL.
    await ledger.startCycle("warm", {
      cycleId: "w",
      credits: 1,
      start: new Date(now - DAY).toISOString(),
      end: new Date(now + DAY).toISOString(),
    });
    await ledger.putAccount("busy", { plan: "pro" });
    const charged = await history("busy", 200_000, { legacy: false, fromMs: now - 365 * DAY, toMs: now - 60_000 });
    expect(await redis.xLen(ledger.keys("busy").log)).toBe(200_000);

    // Seven posts, each backdated a year (each a little later than the one before, or it would
    // be a late, older cycle); the median, since on a shared machine any one call can be
    // descheduled mid-script. Reading 200k entries took hundreds of ms per call.
    const times: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const { usec, calls, used } = await timedCycle("busy", now - 366 * DAY + i);
      expect(used).toBe(charged);
      expect(calls).toBe(1);
      times.push(usec);
    }
    times.sort((x, y) => x - y);
    expect(times[3]).toBeLessThan(1000);

    // A start inside the history counts only the charges from it on.
    const half = await ledger.startCycle("busy", {
      cycleId: "half",
      credits: 1,
      start: new Date(now - 100 * DAY).toISOString(),
      end: new Date(now + DAY).toISOString(),
    });
    const rows = await redis.xRange(ledger.keys("busy").log, String(now - 100 * DAY), "+");
    const expected = rows.filter((r) => r.message.k === "charge").reduce((s, r) => s + Number(r.message.amt), 0);
    expect(half.balance.used).toBe(expected);
  });

  it("history from before the running totals: summed outside the script, still under 1 ms in Redis, used exact", async () => {
    const now = Date.now();
    await ledger.putAccount("old", { plan: "free" });
    // 20k entries of an earlier release (no cum), then 5k with it.
    const legacy = await history("old", 20_000, { legacy: true, fromMs: now - 365 * DAY, toMs: now - 100 * DAY });
    const fresh = await history("old", 5_000, {
      legacy: false,
      cumBefore: legacy,
      fromMs: now - 99 * DAY,
      toMs: now - 60_000,
    });
    // Seven, the median, as above: a loaded CI run once saw two calls of three descheduled.
    const times: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const { usec, calls, used } = await timedCycle("old", now - 366 * DAY + i);
      expect(used).toBe(legacy + fresh);
      // Two script calls: the first asks for the legacy sum; neither scans.
      expect(calls).toBe(2);
      times.push(usec / calls);
    }
    times.sort((x, y) => x - y);
    expect(times[3]).toBeLessThan(1000);

    // Only legacy entries after the start: the sum alone.
    await ledger.putAccount("old-only", { plan: "free" });
    const only = await history("old-only", 1_000, { legacy: true, fromMs: now - 10 * DAY, toMs: now - 60_000 });
    expect((await timedCycle("old-only", now - 11 * DAY)).used).toBe(only);
  });
});
