/**
 * How apply-events-4a treats Redis keys, seen from Redis itself (why raw keys and MONITOR: which
 * keys a script declares and in what order it writes are properties of the script's commands,
 * not of any API answer).
 * - Each account's own keys (account, holds, audit stream, burn) are declared in KEYS, once per
 *   account however many events it has; everything else the script touches it builds from the
 *   account's prefix, in the account's hash slot: each event's session, the sessions of holds that
 *   expire, the idempotency generations, and, only for an account old enough to still have them,
 *   the read-only keys of the layouts before.
 * - Reads and checks come first, then writes, and nothing that can fail follows the first write:
 *   an audit stream of the wrong type fails the script with nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClientType } from "redis";
import type { RedisLedger } from "@creditmeter/server";
import { asAccountOfLayoutBefore, cycle, stageEvent, testLedger, testRedis } from "../support/ledger.js";
import { snapshotKeys } from "../support/pipeline.js";
import { waitFor } from "../support/redis-server.js";

const WRITES = new Set(["SET", "HSET", "HDEL", "PEXPIRE", "XADD", "DEL", "EXPIRE", "HINCRBY", "INCRBY"]);

/** The quoted arguments of a MONITOR line (`<time> [<db> <client>] "CMD" "arg" …`). */
function monitorArgs(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? "");
}

describe("apply-events-4a and its keys (raw keys, MONITOR)", () => {
  let ledger: RedisLedger;
  let redis: RedisClientType;
  let namespace: string;
  beforeAll(async () => {
    ({ ledger, redis, namespace } = await testLedger({ holdTtlSeconds: 1 }));
    for (const id of ["k-1", "k-2"]) {
      await ledger.putAccount(id, { plan: "free" });
      await ledger.startCycle(id, cycle("c1", 1000));
    }
  });
  afterAll(() => redis.close());

  /** What `run` sent (its one EVAL) and the script's own commands on the namespace, by MONITOR. */
  async function monitored<T>(run: () => Promise<T>): Promise<{ call: string[]; inScript: string[][]; outcomes: T }> {
    const lines: string[] = [];
    const monitor = await testRedis();
    await monitor.monitor((line) => lines.push(String(line)));
    const outcomes = await run();
    // Our own marker after the script: once MONITOR shows it, every line of the script is in.
    const marker = `${namespace}:marker`;
    await redis.get(marker);
    await waitFor(() => lines.some((l) => l.includes(marker)), 10_000, "MONITOR to show the script");
    await monitor.close();
    const mine = lines.map(monitorArgs).filter((args) => args.some((a) => a.startsWith(`${namespace}:{`)));
    // The call itself: FCALL (Redis Functions) or EVALSHA, the keys at the same places (name, count, keys).
    const evals = mine.filter((args) => /^(EVAL|FCALL)/i.test(args[0] ?? ""));
    expect(evals).toHaveLength(1);
    const inScript = lines
      .filter((l) => l.includes(" lua]"))
      .map(monitorArgs)
      .filter((args) => (args[1] ?? "").startsWith(`${namespace}:`));
    return { call: evals[0] ?? [], inScript, outcomes };
  }

  it("declares each account's own keys once; the rest it builds in the account's slot", async () => {
    // A hold that will have expired when the batch runs: its session is found only inside the script.
    await ledger.applyEvent(
      stageEvent({ accountId: "k-1", sessionId: "s-expiring", type: "stage.started", action: "script" }),
    );
    const placed = Date.now();
    await waitFor(() => Date.now() > placed + 1100, 10_000, "the hold's time-to-live to pass");

    const batch = [
      stageEvent({
        accountId: "k-1",
        sessionId: "s-a",
        stepId: "a1",
        type: "stage.started",
        action: "voiceover",
        seconds: 10,
      }),
      stageEvent({
        accountId: "k-1",
        sessionId: "s-a",
        stepId: "a1",
        type: "stage.progress",
        action: "voiceover",
        progress: 0.5,
      }),
      stageEvent({
        accountId: "k-1",
        sessionId: "s-a",
        stepId: "a1",
        type: "stage.completed",
        action: "voiceover",
        seconds: 12,
      }),
      stageEvent({
        accountId: "k-1",
        sessionId: "s-b",
        stepId: "b1",
        type: "stage.started",
        action: "image",
        scenes: 2,
      }),
      stageEvent({
        accountId: "k-1",
        sessionId: "s-b",
        stepId: "b1",
        type: "stage.failed",
        action: "image",
        reason: "x",
      }),
      stageEvent({ accountId: "k-2", sessionId: "s-c", stepId: "c1", type: "stage.completed", action: "script" }),
    ];
    const { call, inScript, outcomes } = await monitored(() => ledger.applyEvents(batch));
    expect(outcomes.every((o) => !(o instanceof Error))).toBe(true);
    const declared = new Set(call.slice(3, 3 + Number(call[2])));
    expect(inScript.length).toBeGreaterThan(10);
    // Declared: each account's own four keys, once each, whatever its number of events.
    expect(call.slice(3, 3 + Number(call[2]))).toEqual(
      ["k-1", "k-2"].flatMap((id) => ["acct", "holds", "log", "burn"].map((k) => `${namespace}:{${id}}:${k}`)),
    );
    const undeclared = inScript.filter((args) => !declared.has(args[1] ?? ""));
    const undeclaredWrites = [
      ...new Set(undeclared.filter((args) => WRITES.has((args[0] ?? "").toUpperCase())).map((args) => args[1])),
    ];
    // Undeclared writes: the sessions (the batch's and the expired hold's) and each account's
    // current idempotency generation (lua/lib/idem.lua: which one depends on the script's clock).
    const gen = Math.floor(Date.now() / (15 * 86_400_000));
    expect(undeclaredWrites.sort()).toEqual(
      [
        ...["s-expiring", "s-a", "s-b"].map((s) => `${namespace}:{k-1}:sess:${s}`),
        `${namespace}:{k-2}:sess:s-c`,
        `${namespace}:{k-1}:ids:${gen}`,
        `${namespace}:{k-2}:ids:${gen}`,
      ].sort(),
    );
    // Undeclared reads: those, in a declared account's slot. These accounts were made by this
    // release: no key of the layouts before is read for them.
    for (const args of undeclared) {
      const key = args[1] ?? "";
      expect(key, args.join(" ")).toMatch(new RegExp(`^${namespace}:\\{k-[12]\\}:(sess:s-[a-z]+|ids:\\d+)$`));
    }
  });

  it("reads the keys of the layout before, built in the script, only for an account that can still have them", async () => {
    await asAccountOfLayoutBefore(redis, namespace, "k-1");
    const batch = [
      stageEvent({
        accountId: "k-2",
        sessionId: "s-n",
        stepId: "n1",
        eventId: "lay-new",
        type: "stage.started",
        action: "script",
      }),
      stageEvent({
        accountId: "k-1",
        sessionId: "s-o",
        stepId: "o1",
        eventId: "lay-old",
        type: "stage.started",
        action: "script",
      }),
    ];
    const { inScript, outcomes } = await monitored(() => ledger.applyEvents(batch));
    expect(outcomes.every((o) => !(o instanceof Error))).toBe(true);
    // Every key a command names (the layout before's strings are read with the account hash: MGET).
    const read = inScript.flatMap((args) => args.slice(1));
    // The old account's eventId record and step state of the first generation layout, by name.
    expect(read).toContain(`${namespace}:{k-1}:evt:lay-old`);
    expect(read).toContain(`${namespace}:{k-1}:st:s-o/o1`);
    expect(read.filter((k) => /:(evt|st):/.test(k) && k.includes("{k-2}"))).toEqual([]);
  });

  it("checks the audit stream's type before its first write: a wrong-typed one fails the script, nothing changed", async () => {
    await ledger.applyEvent(
      stageEvent({ accountId: "k-2", sessionId: "s-w", type: "stage.started", action: "script" }),
    );
    const log = ledger.keys("k-2").log;
    const entries = await redis.xRange(log, "-", "+");
    await redis.del(log);
    await redis.set(log, "not a stream");
    try {
      const before = await snapshotKeys(redis, namespace);
      const events = [
        stageEvent({
          accountId: "k-2",
          sessionId: "s-w",
          stepId: "w1",
          type: "stage.completed",
          action: "voiceover",
          seconds: 5,
        }),
        stageEvent({ accountId: "k-2", sessionId: "s-w2", type: "stage.started", action: "script" }),
      ];
      const out = await ledger.applyEvents(events);
      for (const o of out) expect(o instanceof Error ? o.message : "applied").toMatch(/WRONGTYPE/);
      expect(await snapshotKeys(redis, namespace)).toEqual(before);
      await expect(ledger.touch("k-2")).rejects.toThrow(/WRONGTYPE/);
      expect(await snapshotKeys(redis, namespace)).toEqual(before);
    } finally {
      await redis.del(log);
      for (const e of entries) await redis.xAdd(log, e.id, e.message);
    }
  });
});
