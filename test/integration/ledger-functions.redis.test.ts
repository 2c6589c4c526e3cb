/**
 * The ledger's scripts as Redis Functions (server/src/ledger/scripts.ts). Why Redis-level: what is
 * checked is where the code lives (FUNCTION LIST, FUNCTION FLUSH, ACLs), not only the answers.
 * - A library's top level outlives a call: the same events through Functions and through EVALSHA
 *   (every call afresh) give every event the same answer and the ledger the same state.
 * - "Function not found" (a new, restarted or flushed node) loads the library and calls again,
 *   nothing applied twice; two builds' libraries live side by side; where FCALL is refused the
 *   runner falls back to EVALSHA on its own.
 * The tests that flush or set ACLs start a redis-server of their own (never the run's shared one).
 */
import { randomUUID } from "node:crypto";
import { appendFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { createClient, type RedisClientType } from "redis";
import { CreditmeterError, type StageEvent } from "@creditmeter/shared";
import { RedisLedger, type LedgerOutcome } from "@creditmeter/server";
import { functionLibrary } from "../../server/src/ledger/lua-assembly.js";
import { ScriptRunner } from "../../server/src/ledger/scripts.js";
import { LEDGER_DEFAULTS, cycle, stageEvent, testLedger } from "../support/ledger.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";

const ACCOUNTS = ["f-1", "f-2"];
const NOW = Date.parse("2026-06-01T00:00:00Z");

function charge(accountId: string, stepId: string, eventId = `ev-${randomUUID()}`): StageEvent {
  return stageEvent({ eventId, accountId, stepId, sessionId: "s-0", type: "stage.completed", action: "script" });
}

/** What an outcome says about its event, without its seq. */
function answer(o: LedgerOutcome | Error): unknown {
  if (o instanceof CreditmeterError) return { error: o.code };
  if (o instanceof Error) return { failed: o.message };
  return { result: o.result, alert: o.alert ?? null, denied: o.denied ?? null, charge: o.charge?.amount ?? null };
}

async function state(ledger: RedisLedger): Promise<unknown> {
  return Promise.all(
    ACCOUNTS.map(async (id) => {
      const page = await ledger.ledgerPage(id, { limit: 200 });
      return { balance: await ledger.balance(id), session: await ledger.session(id, "s-0"), entries: page.entries };
    }),
  );
}

async function seed(ledger: RedisLedger, credits: number): Promise<void> {
  for (const id of ACCOUNTS) {
    await ledger.putAccount(id, { plan: "free", lowBalanceThresholds: [{ level: "low", credits: 20 }] });
    const start = new Date(NOW - 3_600_000).toISOString();
    const end = new Date(NOW + 30 * 86_400_000).toISOString();
    await ledger.startCycle(id, { cycleId: "c", credits, start, end });
  }
}

describe("ledger scripts: Functions give what EVALSHA gives (nothing kept between calls)", () => {
  const made: RedisClientType[] = [];
  afterAll(() => Promise.all(made.map((r) => r.close())));
  const fresh = async (functions: boolean): Promise<RedisLedger> => {
    // One clock for both, so times, stream ids and expiries are the same.
    const { ledger, redis } = await testLedger({ functions, virtualClock: () => NOW });
    made.push(redis);
    return ledger;
  };

  it("the same calls, one after another: the same answers and the same ledger", async () => {
    let run = 0;
    const kinds = ["started", "completed", "failed", "progress"] as const;
    const actions = ["talking_head", "script", "image", "animation"] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            account: fc.integer({ min: 0, max: 2 }), // 2: an account that does not exist
            step: fc.integer({ min: 0, max: 3 }),
            kind: fc.constantFrom(...kinds),
            seconds: fc.integer({ min: 1, max: 40 }),
            uuid: fc.boolean(), // a UUID eventId is packed in the audit trail (the script's ev.aid)
            batch: fc.integer({ min: 1, max: 4 }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        async (steps) => {
          run += 1;
          const [viaFunctions, viaEvalsha] = [await fresh(true), await fresh(false)];
          await seed(viaFunctions, 60 + run);
          await seed(viaEvalsha, 60 + run);
          const events = steps.map((s, i): StageEvent & { batch: number } => {
            const action = actions[s.step] ?? "script";
            const base = {
              eventId: s.uuid ? `00000000-0000-4000-8000-${String(run * 100 + i).padStart(12, "0")}` : `r${run}-${i}`,
              accountId: ACCOUNTS[s.account] ?? "f-missing",
              sessionId: "s-0",
              stepId: `st-${s.step}`,
              action,
              occurredAt: new Date(NOW).toISOString(),
            };
            const type = `stage.${s.kind}` as const;
            const extra =
              s.kind === "progress"
                ? { progress: 0.5 }
                : s.kind === "failed"
                  ? {}
                  : action === "image"
                    ? { scenes: 1 + (s.seconds % 3) }
                    : action === "script"
                      ? {}
                      : { seconds: s.seconds, ...(action === "animation" ? { model: "veo-3.1" } : {}) };
            return { ...stageEvent({ ...base, type, ...extra }), batch: s.batch };
          });
          const answers = async (ledger: RedisLedger): Promise<unknown[]> => {
            const out: unknown[] = [];
            for (let i = 0; i < events.length;) {
              const size = events[i]?.batch ?? 1;
              const batch = events.slice(i, i + size).map(({ batch: _b, ...e }) => e);
              out.push(...(await ledger.applyEvents(batch)).map(answer));
              i += size;
            }
            return out;
          };
          expect(await answers(viaFunctions)).toEqual(await answers(viaEvalsha));
          expect(await state(viaFunctions)).toEqual(await state(viaEvalsha));
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe("ledger scripts as Functions on a redis-server of this test's own", () => {
  let server: TestRedis;
  let admin: RedisClientType;
  beforeAll(async () => {
    server = await startRedis();
    admin = createClient({ url: server.url });
    admin.on("error", () => undefined);
    await admin.connect();
  });
  afterAll(async () => {
    await admin.close();
    await server.stop();
  });
  const libraries = async (): Promise<string[]> =>
    (await admin.functionList()).map((l) => String(l.library_name)).sort();
  const ledgerOn = (redis: RedisClientType, functions = true): RedisLedger =>
    new RedisLedger({ redis, namespace: `t-${randomUUID()}`, ...LEDGER_DEFAULTS, functions });

  it("FUNCTION FLUSH mid-run: the next call loads the library again, and every event is applied once", async () => {
    const ledger = ledgerOn(admin);
    await ledger.putAccount("a", { plan: "free" });
    await ledger.startCycle("a", cycle("c", 100));
    const before = await libraries();
    expect(before.some((l) => l.startsWith("creditmeter_apply_events_4a_"))).toBe(false);
    const events = Array.from({ length: 30 }, (_, i) => charge("a", `s-${i}`));
    const results: unknown[] = [];
    for (const [i, e] of events.entries()) {
      // Flushed twice, between calls and with ten calls in flight at once.
      if (i === 10) await admin.functionFlush();
      if (i === 20) {
        const flushing = admin.functionFlush();
        const inFlight = events.slice(20).map((x) => ledger.applyEvent(x).then((o) => o.result?.status));
        await flushing;
        results.push(...(await Promise.all(inFlight)));
        break;
      }
      results.push((await ledger.applyEvent(e)).result?.status);
    }
    expect(results).toEqual(events.map(() => "applied"));
    expect((await ledger.balance("a")).used).toBe(30);
    // Delivered again: each a duplicate, nothing charged twice.
    const again = await ledger.applyEvents(events);
    expect(again.map((o) => (o instanceof Error ? o.message : o.result?.status))).toEqual(
      events.map(() => "duplicate"),
    );
    expect((await ledger.balance("a")).used).toBe(30);
    expect((await libraries()).some((l) => l.startsWith("creditmeter_apply_events_4a_"))).toBe(true);
  });

  it("two builds' libraries live side by side, and two processes of one build share theirs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "creditmeter-lua-"));
    try {
      cpSync(new URL("../../server/src/ledger/lua/", import.meta.url), dir, { recursive: true });
      appendFileSync(join(dir, "lib", "context.lua"), "\n-- the next release\n");
      const other = functionLibrary("touch-3", pathToFileURL(`${dir}/`));
      await admin.functionFlush();
      // Two processes of this build start at once: both find no function, both load it.
      const [one, two] = [ledgerOn(admin), ledgerOn(admin)];
      await Promise.all([one.putAccount("b", { plan: "free" }), two.putAccount("b", { plan: "pro" })]);
      await admin.sendCommand(["FUNCTION", "LOAD", other.code]);
      // This build's touch-3 (a balance read) loads its library next to the other build's.
      expect([(await one.balance("b")).plan, (await two.balance("b")).plan]).toEqual(["free", "pro"]);
      const ours = new ScriptRunner(admin).functionName("touch-3");
      expect(other.name).not.toBe(ours);
      expect(await libraries()).toEqual(expect.arrayContaining([ours, other.name]));
      // Each build's touch-3 answers from its own library, called by name.
      const k = one.keys("nobody");
      const args = ["3", k.account, k.holds, k.log, k.prefix, String(400 * 86_400_000)];
      const mine = JSON.parse(String(await admin.sendCommand(["FCALL", ours, ...args]))) as { error?: string };
      const theirs = JSON.parse(String(await admin.sendCommand(["FCALL", other.name, ...args]))) as { error?: string };
      expect(mine.error).toBe("unknown_account");
      expect(theirs).toEqual(mine);
      // Loaded again (a restart of this build): "already exists", counted as loaded, nothing replaced.
      await expect(admin.sendCommand(["FUNCTION", "LOAD", other.code])).rejects.toThrow(/already exists/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // No FCALL at all (as Redis 6 has none), or FCALL but no FUNCTION LOAD (the library cannot be loaded).
  it.each([
    ["FCALL nor FUNCTION", ["-fcall", "-function"]],
    ["FUNCTION LOAD", ["-function"]],
  ])("a user without %s rights: EVALSHA from the first refusal on, the same results", async (_what, rules) => {
    await admin.functionFlush();
    const user = `nofn-${randomUUID()}`;
    const password = randomUUID();
    await admin.sendCommand(["ACL", "SETUSER", user, "on", `>${password}`, "~*", "&*", "+@all", ...rules]);
    const limited: RedisClientType = createClient({ url: server.url, username: user, password });
    limited.on("error", () => undefined);
    await limited.connect();
    try {
      const runner = new ScriptRunner(limited);
      expect(runner.mode).toBe("functions");
      const ledger = ledgerOn(limited);
      await ledger.putAccount("c", { plan: "free" });
      await ledger.startCycle("c", cycle("c", 10));
      const first = charge("c", "s-1");
      expect((await ledger.applyEvent(first)).result?.status).toBe("applied");
      expect((await ledger.applyEvent(first)).result?.status).toBe("duplicate");
      expect((await ledger.balance("c")).available).toBe(9);
      // The runner's own switch, seen through a runner of its own.
      const k = ledger.keys("c");
      const reply = await runner.run("touch-3", [k.account, k.holds, k.log], [k.prefix, 400 * 86_400_000]);
      expect(runner.mode).toBe("evalsha");
      expect(JSON.parse(reply)).toMatchObject({ account: { sub_rem: "9", used: "1" } });
      expect(await libraries()).toEqual([]);
    } finally {
      await limited.close();
    }
  });
});
