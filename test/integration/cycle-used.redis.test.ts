/**
 * Posting a cycle must not block Redis however long the account's history (CONTRACT §3 v1.1):
 * `used` comes from the running totals on the audit entries (`cum`), not from a scan. This file
 * writes raw audit entries (200k, pipelined, as the scripts write them) and counts the entries a
 * cycle post reads (MONITOR: the commands its scripts run and their COUNTs), not microseconds, so
 * it runs on a redis-server of its own: no other test's commands among them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type RedisClientType } from "redis";
import { RedisLedger } from "@creditmeter/server";
import { startRedis, type TestRedis } from "../support/redis-server.js";
import { LEDGER_DEFAULTS } from "../support/ledger.js";
import { recordCommands, streamEntriesRead, type ExecutedCommand } from "../support/redis-monitor.js";

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

  /**
   * One cycle post, backdated to `startMs`, and the work it asked of Redis: its script calls and
   * the most audit entries those scripts may have read (MONITOR, not a time: a loaded machine
   * changes how long a call takes, not what it reads), with the stream reads sent from outside them.
   */
  async function measuredCycle(
    accountId: string,
    startMs: number,
  ): Promise<{ calls: number; readInScripts: number; outside: ExecutedCommand[]; used: number }> {
    const log = ledger.keys(accountId).log;
    const { result, commands } = await recordCommands(redis, () =>
      ledger.startCycle(accountId, {
        cycleId: `c-${startMs}`,
        credits: 100,
        start: new Date(startMs).toISOString(),
        end: new Date(Date.now() + 30 * DAY).toISOString(),
      }),
    );
    return {
      // The script's call: FCALL (Redis Functions, ledger/scripts.ts).
      calls: commands.filter((c) => c.name === "fcall" && !c.fromScript).length,
      readInScripts: streamEntriesRead(
        commands.filter((c) => c.fromScript),
        log,
      ),
      outside: commands.filter((c) => !c.fromScript && c.args[0] === log),
      used: result.balance.used,
    };
  }

  it("an account with 200k entries, a cycle backdated a year: the script reads a few entries, and used exact", async () => {
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

    // A post backdated a year reads the entry at its start and no other: a scan would read 200k.
    const { calls, readInScripts, outside, used } = await measuredCycle("busy", now - 366 * DAY);
    expect(used).toBe(charged);
    expect(calls).toBe(1);
    expect(readInScripts).toBeLessThanOrEqual(2);
    // Nor does the caller read the history instead.
    expect(outside).toEqual([]);

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

  it("history from before the running totals: summed outside the script in pages, the scripts read a few entries, used exact", async () => {
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
    const { calls, readInScripts, outside, used } = await measuredCycle("old", now - 366 * DAY);
    expect(used).toBe(legacy + fresh);
    // Two script calls: the first asks for the legacy sum; neither scans.
    expect(calls).toBe(2);
    expect(readInScripts).toBeLessThanOrEqual(4);
    // The caller sums the 20k legacy entries in pages of at most a thousand (each a short command,
    // so others' commands run between them), stopping at the first entry with `cum`.
    const pages = outside.map((c) => streamEntriesRead([c], c.args[0] ?? ""));
    expect(pages.length).toBeGreaterThanOrEqual(20);
    expect(pages.length).toBeLessThanOrEqual(21);
    for (const count of pages) expect(count).toBeLessThanOrEqual(1000);

    // Only legacy entries after the start: the sum alone.
    await ledger.putAccount("old-only", { plan: "free" });
    const only = await history("old-only", 1_000, { legacy: true, fromMs: now - 10 * DAY, toMs: now - 60_000 });
    expect((await measuredCycle("old-only", now - 11 * DAY)).used).toBe(only);
  });
});
