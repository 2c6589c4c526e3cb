/**
 * An account's slot half moved (CLUSTER SETSLOT … MIGRATING/IMPORTING and MIGRATE key by key, as
 * `redis-cli --cluster reshard` does): its four declared keys are on the new node, a key the script
 * builds from the prefix (an idempotency generation, a session) is still on the old one. The client
 * follows the old node's ASK to the new one, where Redis serves a missing undeclared key as empty
 * (one key, ASKING, importing slot). Without the scripts' presence checks (lib/idem.lua
 * idem_present and legacy_get, lib/session.lua session_get) a redelivered charge was charged again
 * there (its record in a generation or in the layout before's evt: key) and a session's budget was
 * not seen; now such a call fails before any write, and once the slot has
 * moved the event is answered as it should be (docs/scale-out.md "Slot migration"). The keys read
 * without a check of their own are here too: the step hashes of older layouts (guarded by the
 * checks read before them), the planned sessions' index and the trim marker (each case says why).
 */
import { randomUUID } from "node:crypto";
import calculateSlot from "cluster-key-slot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCluster, createClient, type RedisClusterType } from "redis";
import type { StageEvent } from "@creditmeter/shared";
import { RedisLedger, type LedgerOptions, type LedgerOutcome } from "@creditmeter/server";
import type { ArchiveReads } from "../../server/src/ledger/api.js";
import { plannedField } from "../../server/src/ledger/forecast-view.js";
import { accountKeys } from "../../server/src/ledger/keys.js";
import { functionLibrary } from "../../server/src/ledger/lua-assembly.js";
import { SCRIPT_NAMES } from "../../server/src/ledger/scripts.js";
import { LEDGER_DEFAULTS, cycle, stageEvent } from "../support/ledger.js";
import { clusterUnsupported, startCluster, type TestCluster } from "./redis-cluster.js";

const unsupported = clusterUnsupported();

/** An account whose slot is half moved (halfMoved): its ledger, its keys, and how to end the move. */
interface HalfMoved {
  ledger: RedisLedger;
  accountId: string;
  k: ReturnType<typeof accountKeys>;
  finish: () => Promise<void>;
}

/** A plain client on one node (the CLUSTER and MIGRATE commands of a migration go to a node). */
async function node(port: number): Promise<ReturnType<typeof createClient>> {
  const c = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
  c.on("error", () => undefined);
  await c.connect();
  return c;
}

describe.skipIf(unsupported !== null)(`slot migration${unsupported ? ` (skipped: ${unsupported})` : ""}`, () => {
  let cluster: TestCluster;
  let redis: RedisClusterType;

  beforeAll(async () => {
    cluster = await startCluster();
    redis = createCluster({ rootNodes: cluster.ports.map((p) => ({ url: `redis://127.0.0.1:${p}` })) });
    redis.on("error", () => undefined);
    await redis.connect();
    // Every node has the libraries: an ASK'd FCALL on a node without them fails (a retry, not a
    // wrong answer), which would hide what this test looks at.
    for (const port of cluster.ports) {
      const c = await node(port);
      for (const name of SCRIPT_NAMES) await c.sendCommand(["FUNCTION", "LOAD", "REPLACE", functionLibrary(name).code]);
      await c.close();
    }
  }, 120_000);

  afterAll(async () => {
    await redis?.close();
    await cluster?.stop();
  });

  /**
   * A fresh account with 100 credits, then its slot set migrating from its owner to another master,
   * the keys `moved(keys)` names migrated. Returns the ledger, the keys, and how to end the migration.
   */
  async function halfMoved(
    moved: (all: string[], k: ReturnType<typeof accountKeys>) => string[],
    before: (ledger: RedisLedger, accountId: string) => Promise<void>,
    options: Pick<LedgerOptions, "archive"> = {},
  ): Promise<HalfMoved> {
    const namespace = `t-${randomUUID()}`;
    const accountId = `acct-${randomUUID()}`;
    const ledger = new RedisLedger({ redis, namespace, ...LEDGER_DEFAULTS, ...options });
    await ledger.putAccount(accountId, { plan: "free" });
    await ledger.startCycle(accountId, cycle("c1", 100));
    await before(ledger, accountId);
    const k = accountKeys(namespace, accountId);
    const slot = calculateSlot(k.account);
    const owner = redis.slots[slot]?.master;
    const target = redis.masters.find((m) => m.port !== owner?.port);
    if (!owner?.port || !target?.port) throw new Error("no two masters");
    const [a, b] = [await node(owner.port), await node(target.port)];
    const [aId, bId] = [await a.sendCommand(["CLUSTER", "MYID"]), await b.sendCommand(["CLUSTER", "MYID"])];
    await b.sendCommand(["CLUSTER", "SETSLOT", String(slot), "IMPORTING", String(aId)]);
    await a.sendCommand(["CLUSTER", "SETSLOT", String(slot), "MIGRATING", String(bId)]);
    const all = (await a.sendCommand(["CLUSTER", "GETKEYSINSLOT", String(slot), "1000"])) as string[];
    const migrate = async (keys: string[]): Promise<void> => {
      if (keys.length > 0)
        await a.sendCommand(["MIGRATE", "127.0.0.1", String(target.port), "", "0", "5000", "KEYS", ...keys]);
    };
    await migrate(moved(all, k));
    const finish = async (): Promise<void> => {
      await migrate((await a.sendCommand(["CLUSTER", "GETKEYSINSLOT", String(slot), "1000"])) as string[]);
      for (const port of cluster.ports) {
        const c = await node(port);
        await c.sendCommand(["CLUSTER", "SETSLOT", String(slot), "NODE", String(bId)]);
        await c.close();
      }
      await a.close();
      await b.close();
    };
    return { ledger, accountId, k, finish };
  }

  const declared = (k: ReturnType<typeof accountKeys>): string[] => [k.account, k.holds, k.log, k.burn];

  /**
   * Sends `event` while the slot is split, where it is refused (the consumer retries) or answered
   * as `expected` says, by `answer` of its outcome; ends the move; checks the account hash's
   * `field` against `value` (what one application leaves); sends it again: answered the same.
   */
  async function acrossTheMove(
    m: HalfMoved,
    event: StageEvent,
    answer: (outcome: LedgerOutcome) => unknown,
    expected: unknown,
    raw: { field: string; value: string },
  ): Promise<void> {
    const [during] = await m.ledger.applyEvents([event]);
    if (!(during instanceof Error)) expect(answer(during as LedgerOutcome)).toBe(expected);
    await m.finish();
    expect(await redis.hGet(m.k.account, raw.field)).toBe(raw.value);
    const [after] = await m.ledger.applyEvents([event]);
    if (after instanceof Error) throw after;
    expect(answer(after as LedgerOutcome)).toBe(expected);
  }

  const status = (o: LedgerOutcome): unknown => o.result?.status;

  /** An open hold and one charge: the account's four declared keys exist (a never-charged account has no `burn`). */
  async function openAndCharged(l: RedisLedger, id: string): Promise<void> {
    // Without an open hold the holds hash is absent, and a script naming it is refused (TRYAGAIN)
    // until the slot has moved.
    await l.applyEvent(stageEvent({ type: "stage.started", action: "script", accountId: id, stepId: "open" }));
    const paid = await l.applyEvent(
      stageEvent({ type: "stage.completed", action: "script", accountId: id, stepId: "paid" }),
    );
    expect(paid.result?.status).toBe("applied");
  }

  it("a redelivered charge whose idempotency generation has not moved yet is not charged again", async () => {
    let charge: StageEvent | undefined;
    const m = await halfMoved(
      (_all, keys) => declared(keys),
      async (l, id) => {
        await l.applyEvent(stageEvent({ type: "stage.started", action: "script", accountId: id, stepId: "open" }));
        charge = stageEvent({ type: "stage.completed", action: "script", accountId: id, stepId: "s1" });
        const first = await l.applyEvent(charge);
        expect(first.result?.status).toBe("applied");
      },
    );
    if (!charge) throw new Error("no charge");
    await acrossTheMove(m, charge, status, "duplicate", { field: "tot_charged", value: "1" });
    expect((await m.ledger.balance(m.accountId)).available).toBe(98);
  }, 60_000);

  it("a redelivered charge recorded only in the layout before (evt:), not moved yet, is not charged again", async () => {
    let charge: StageEvent | undefined;
    const m = await halfMoved(
      // Everything but the record of the layout before.
      (all) => all.filter((key) => !key.includes(":evt:")),
      async (l, id) => {
        await openAndCharged(l, id);
        charge = stageEvent({ type: "stage.completed", action: "script", accountId: id, stepId: "old" });
        // As the release before left it: no "ix" (its keys may exist), the charge's record an evt: key.
        const k0 = l.keys(id);
        await redis.hDel(k0.account, ["ix", "iy"]);
        const f = [charge.type, charge.sessionId, charge.stepId, charge.action, null, null, null];
        const record = `{"s":"applied","c":1,"h":0,"av":98,"su":1,"f":${JSON.stringify(f)}}`;
        await redis.set(k0.event(charge.eventId), record, { PX: 30 * 86_400_000 });
      },
    );
    if (!charge) throw new Error("no charge");
    // One charge ("paid") in the account's totals: the record of the layout before counts no other.
    await acrossTheMove(m, charge, status, "duplicate", { field: "tot_charged", value: "1" });
    expect((await m.ledger.balance(m.accountId)).available).toBe(98);
  }, 60_000);

  // The step hashes of the layouts two and three back (docs/ledger.md): read only after the evt:
  // and st: keys of the layout before, each an MGET with the account hash that fails the script on
  // a node importing the slot while that key is not there, so these HGETs never read there.
  it.each([
    ["two layouts back (steps:<s>)", (p: string) => p + "steps:s1", "paid2", "completed"],
    ["three layouts back (step:<s>/<step>)", (p: string) => p + "step:s1/paid2", "state", "completed"],
  ])(
    "a completion under a new eventId of a step completed %s, not moved yet, is not charged",
    async (_layout, stepKey, field, value) => {
      let prefix = "";
      const m = await halfMoved(
        (all) => all.filter((key) => key !== stepKey(prefix)),
        async (l, id) => {
          await openAndCharged(l, id);
          const k0 = l.keys(id);
          prefix = k0.prefix;
          // As a release two or three layouts back left it: no "ix", the step's state in its hash.
          await redis.hDel(k0.account, ["ix", "iy"]);
          await redis.hSet(stepKey(prefix), field, value);
          await redis.pExpire(stepKey(prefix), 30 * 86_400_000);
        },
      );
      const completion = stageEvent({
        type: "stage.completed",
        action: "script",
        accountId: m.accountId,
        sessionId: "s1",
        stepId: "paid2",
      });
      await acrossTheMove(m, completion, status, "ignored", { field: "tot_charged", value: "1" });
      expect((await m.ledger.balance(m.accountId)).available).toBe(98);
    },
    60_000,
  );

  // put-account-3 reads the account's planned sessions (lib/plans.lua `plans`) undeclared. On the
  // node importing the slot an index not moved yet would read as empty, and a plan change made
  // there would re-push none of them (until 2026-12-05). plans_refresh, finding none, asks with an
  // EXISTS of the account hash and the index, as session_get does: refused there before any write
  // (the ops client retries), and the retry after the move re-pushes them. The move completes (no
  // copy written on the importing node: MIGRATE would stop on BUSYKEY). The grant scripts, which
  // refresh them too, wait anyway (their new record is declared).
  it("a plan change with the planned sessions' index (plans) not moved yet is refused, and its retry re-pushes them", async () => {
    const totals = { free: 30, plus: 20, pro: 20 };
    const m = await halfMoved(
      (all, keys) => all.filter((key) => key !== keys.plans),
      async (l, id) => {
        await openAndCharged(l, id);
        await l.setPlan(id, "s-p", totals);
      },
    );
    const during = await m.ledger.putAccount(m.accountId, { plan: "pro" }).catch((err: unknown) => err);
    expect(during).toBeInstanceOf(Error);
    await m.finish();
    // Nothing written by the refused call: the plan is still free, the index and the session as set.
    expect(await redis.hGet(m.k.account, "plan")).toBe("free");
    expect(await redis.zRange(m.k.plans, 0, -1)).toEqual(["s-p"]);
    expect(await redis.hGet(m.k.session("s-p"), "planned")).toBe(plannedField(totals));
    const retried = await m.ledger.putAccount(m.accountId, { plan: "pro" });
    expect(retried.sessions.map((s) => s.sessionId)).toEqual(["s-p"]);
    expect(await redis.hGet(m.k.account, "plan")).toBe("pro");
    expect(retried.balance.available).toBe(98);
  }, 60_000);

  // start-cycle-5 reads the trail's trim marker (`trimmed`, lua/trim-log-2.lua) undeclared, with a
  // plain GET: read as absent, a cycle starting below it would count only the charges left in the
  // trail (`used` too low). It never runs on the importing node, though: the new cycle's grant record
  // is declared and does not exist there (TRYAGAIN), and a repeat answers from its record first.
  it("a new cycle with the trail's trim marker (trimmed) not moved yet still counts the archived charges", async () => {
    const sums: { fromMs: number; belowMs: number }[] = [];
    // The archive is PostgreSQL's (test/history covers it): here only the sum the ledger asks of it
    // matters: the one charge ("paid") the trim removed from the trail.
    const archive: ArchiveReads = {
      chargesBetween: (_id, fromMs, belowMs) => {
        sums.push({ fromMs, belowMs });
        return Promise.resolve(1);
      },
      usage: () => Promise.reject(new Error("not read by a cycle start")),
      ledgerPage: () => Promise.reject(new Error("not read by a cycle start")),
    };
    let trimmedAt = 0;
    const m = await halfMoved(
      (all, keys) => all.filter((key) => key !== keys.trimmed),
      async (l, id) => {
        await openAndCharged(l, id);
        trimmedAt = Date.now() + 1;
        expect(await l.trimLog(id, trimmedAt)).toBeGreaterThan(0);
      },
      { archive },
    );
    // After the first cycle's start (an hour ago: an older one is refused), before the charges the trim removed.
    const startMs = trimmedAt - 1_800_000;
    const body = { ...cycle("c2", 50), start: new Date(startMs).toISOString() };
    const during = await m.ledger.startCycle(m.accountId, body).catch((err: Error) => err);
    if (!(during instanceof Error)) expect(during.balance.used).toBe(1);
    await m.finish();
    const after = await m.ledger.startCycle(m.accountId, body);
    expect(after.balance.used).toBe(1);
    expect(after.balance.available).toBe(49);
    expect(sums.at(-1)).toEqual({ fromMs: startMs, belowMs: trimmedAt });
  }, 60_000);

  it("a session that has not moved yet is not read as empty: its budget still holds", async () => {
    const m = await halfMoved(
      // Everything but the session's hash.
      (all, keys) => all.filter((key) => key !== keys.session("s-b")),
      async (l, id) => {
        await l.setBudget(id, "s-b", 5);
        await l.applyEvent(
          stageEvent({ type: "stage.started", action: "script", accountId: id, sessionId: "s-o", stepId: "open" }),
        );
        const charged = await l.applyEvent(
          stageEvent({ type: "stage.completed", action: "script", accountId: id, sessionId: "s-b", stepId: "a" }),
        );
        expect(charged.result?.status).toBe("applied");
      },
    );
    // Two images hold 6 credits: more than the 4 left of the budget, far less than the account has.
    const start = stageEvent({
      type: "stage.started",
      action: "image",
      scenes: 2,
      accountId: m.accountId,
      sessionId: "s-b",
      stepId: "anim",
    });
    const reason = (o: LedgerOutcome): unknown => o.result?.denyReason;
    await acrossTheMove(m, start, reason, "session_budget", { field: "held", value: "1" });
  }, 60_000);
});
