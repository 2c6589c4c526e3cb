/**
 * The event script's call layout (apply-events-4a, ledger/batch-call.ts): each account's keys and
 * prefix once, its events together, each with only its own arguments, and an amount that differs by
 * plan sent for every plan. A batch whose accounts' events interleave must answer every event in its
 * place, exactly as one at a time; a call of another layout must be refused before any write.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { RedisClientType } from "redis";
import { CreditmeterError, type StageEvent } from "@creditmeter/shared";
import { RedisLedger, type LedgerOutcome } from "@creditmeter/server";
import { ScriptRunner } from "../../server/src/ledger/scripts.js";
import { deadlinesKey } from "../../server/src/ledger/keys.js";
import { LEDGER_DEFAULTS, cycle, stageEvent, testLedger } from "../support/ledger.js";
import { waitFor } from "../support/redis-server.js";
import { snapshotKeys } from "../support/pipeline.js";

const PLANS = { "m-free": "free", "m-plus": "plus", "m-pro": "pro" } as const;

/** What an outcome says about its event, without what differs by design (seq, time). */
function answer(o: LedgerOutcome | Error | undefined): unknown {
  if (o instanceof CreditmeterError) return { error: o.code };
  if (o instanceof Error) return { failed: o.message };
  if (!o) return null;
  return { result: o.result, charge: o.charge?.amount ?? null, progress: o.progress?.progress ?? null };
}

async function seeded(
  at = cycle("c", 500),
): Promise<{ ledger: RedisLedger; redis: RedisClientType; namespace: string }> {
  const made = await testLedger();
  for (const [id, plan] of Object.entries(PLANS)) {
    await made.ledger.putAccount(id, { plan });
    await made.ledger.startCycle(id, at);
  }
  return made;
}

async function state(ledger: RedisLedger): Promise<unknown> {
  return Promise.all(
    Object.keys(PLANS).map(async (id) => {
      const { seq: _seq, ...balance } = await ledger.balance(id);
      const { seq: _s, ...session } = await ledger.session(id, "s-1");
      const page = await ledger.ledgerPage(id, { limit: 100 });
      return { balance, session, entries: page.entries.map(({ id: _id, at: _at, ...e }) => e) };
    }),
  );
}

describe("apply-events-4a's call layout", () => {
  const clients: RedisClientType[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });

  it("answers a batch of accounts on every plan, their events interleaved, as one at a time", async () => {
    const at = cycle("c", 500);
    const [single, batched] = [await seeded(at), await seeded(at)];
    clients.push(single.redis, batched.redis);
    const ev = (accountId: string, stepId: string, rest: Partial<StageEvent> & Pick<StageEvent, "type" | "action">) =>
      stageEvent({ accountId, sessionId: "s-1", stepId, eventId: `${accountId}-${stepId}-${rest.type}`, ...rest });
    const imageFree = ev("m-free", "img", { type: "stage.started", action: "image", scenes: 2 });
    const events: StageEvent[] = [
      imageFree,
      ev("m-plus", "img", { type: "stage.started", action: "image", scenes: 2 }),
      ev("m-none", "x", { type: "stage.started", action: "script" }),
      ev("m-pro", "img", { type: "stage.started", action: "image", scenes: 2 }),
      ev("m-free", "vo", { type: "stage.started", action: "voiceover", seconds: 5 }),
      ev("m-plus", "img", { type: "stage.progress", action: "image", progress: 0.5 }),
      imageFree,
      ev("m-pro", "ani", { type: "stage.completed", action: "animation", model: "veo-3.1", seconds: 3 }),
      ev("m-free", "img", { type: "stage.completed", action: "image", scenes: 2 }),
      ev("m-plus", "img", { type: "stage.completed", action: "image", scenes: 2 }),
      // The same eventId on another account: idempotency is per account, so it is applied there too.
      {
        ...ev("m-plus", "vo", { type: "stage.started", action: "voiceover", seconds: 5 }),
        eventId: "m-free-vo-stage.started",
      },
      ev("m-pro", "img", { type: "stage.failed", action: "image", reason: "x" }),
      ev("m-free", "vo", { type: "stage.completed", action: "voiceover", seconds: 40 }),
    ];
    const one: unknown[] = [];
    for (const e of events) one.push(answer(await single.ledger.applyEvent(e).catch((err: unknown) => err as Error)));
    const many = await batched.ledger.applyEvents(events);
    expect(many.map(answer)).toEqual(one);
    expect(await state(batched.ledger)).toEqual(await state(single.ledger));
    // Each in its place, on its account's plan (an image is 3 credits a scene on free, 0 on plus and pro).
    const results = many.map((o) => (o instanceof Error ? o.message : o.result));
    expect(results.slice(0, 5)).toMatchObject([
      { status: "applied", held: 6 },
      { status: "applied", held: 0 },
      expect.stringMatching(/unknown_account/),
      { status: "applied", held: 0 },
      { status: "applied", held: 30 },
    ]);
    expect(results.slice(6)).toMatchObject([
      { status: "duplicate", decision: "granted" },
      { status: "applied", charged: 60 },
      { status: "applied", charged: 6 },
      { status: "applied", charged: 0 },
      { status: "applied", held: 30 },
      { status: "applied", charged: 0 },
      { status: "applied", charged: 40 },
    ]);
  });

  it("maps each account entry of the reply to its account when an account's only events are refused (conflicts)", async () => {
    const { ledger, redis, namespace } = await seeded();
    clients.push(redis);
    // Two holds of m-free: one of 1 s, one of an hour (another ledger on the same keys: its own hold TTL).
    const short = new RedisLedger({ redis, namespace, ...LEDGER_DEFAULTS, holdTtlSeconds: 1 });
    const first = stageEvent({
      accountId: "m-free",
      sessionId: "s-1",
      stepId: "a",
      type: "stage.started",
      action: "script",
    });
    await short.applyEvent(first);
    const placed = Date.now();
    await ledger.applyEvent(
      stageEvent({ accountId: "m-free", sessionId: "s-1", stepId: "b", type: "stage.started", action: "script" }),
    );
    await waitFor(() => Date.now() > placed + 1100, 10_000, "the short hold to expire");
    // m-free's only event reuses an eventId with another step: refused, so it answers no account
    // index; its first hold expires in the same script, which moves its next deadline to the second.
    const out = await ledger.applyEvents([
      stageEvent({ accountId: "m-plus", sessionId: "s-1", stepId: "p", type: "stage.started", action: "script" }),
      { ...first, stepId: "other" },
    ]);
    expect(out.map((o) => (o instanceof Error ? o.message.split(":")[0] : o.result?.status))).toEqual([
      "applied",
      "conflict",
    ]);
    // The deadline the script reported went to m-free's index entry, not to an account named "".
    expect(await redis.zScore(deadlinesKey(namespace), "")).toBeNull();
  });

  it("refuses a call of another layout, or an account sent twice, before any write", async () => {
    const { ledger, redis, namespace } = await seeded();
    clients.push(redis);
    const k = ledger.keys("m-free");
    const own = [k.account, k.holds, k.log, k.burn];
    const fp = "e".padEnd(28, "x") + "s".padEnd(14, "y");
    const started = (id: string) => [`${fp}saaaaaaaabbbbbbbb,scr,,,`, id, "s-1", id, "script", "1", "3600000"];
    const head = [String(400 * 86_400_000), "v1", String(30 * 86_400_000)];
    const runner = new ScriptRunner(redis);
    const before = await snapshotKeys(redis, namespace);
    // One argument too many.
    await expect(
      runner.run("apply-events-4a", own, [...head, k.prefix, "1", ...started("l-1"), "extra"]),
    ).rejects.toThrow(/layout/);
    // The layout before: seven keys and eighteen arguments per event.
    const old = [k.prefix, "2592000000", "l-2", "started", "s-1", "l-2", "script", "research", "", "1", "1", "1"];
    await expect(
      runner.run(
        "apply-events-4a",
        [...own, k.session("s-1"), k.step("s-1", "l-2"), k.event("l-2")],
        [head[0] ?? "", "v1", ...old, "3600000", `${fp}saaaaaaaabbbbbbbb,scr,,,`, "", "1", "1", "1"],
      ),
    ).rejects.toThrow();
    // The same account in two groups: two contexts would each write it back.
    await expect(
      runner.run(
        "apply-events-4a",
        [...own, ...own],
        [...head, k.prefix, "1", ...started("l-3"), k.prefix, "1", ...started("l-4")],
      ),
    ).rejects.toThrow(/sent twice/);
    expect(await snapshotKeys(redis, namespace)).toEqual(before);
    // The same call, well formed, is applied (so the refusals above were about the layout).
    const ok = await runner.run("apply-events-4a", own, [...head, k.prefix, "1", ...started("l-5")]);
    expect(JSON.parse(ok)).toMatchObject({ events: [{ status: "applied", held: 1 }] });
  });
});
