/**
 * An account's slot half moved (CLUSTER SETSLOT … MIGRATING/IMPORTING and MIGRATE key by key, as
 * `redis-cli --cluster reshard` does): its four declared keys are on the new node, a key the script
 * builds from the prefix (an idempotency generation, a session) is still on the old one. The client
 * follows the old node's ASK to the new one, where Redis serves a missing undeclared key as empty
 * (one key, ASKING, importing slot). Without the scripts' presence checks (lib/idem.lua
 * idem_present and legacy_get, lib/session.lua session_get) a redelivered charge was charged again
 * there (its record in a generation or in the layout before's evt: key) and a session's budget was
 * not seen; now such a call fails before any write, and once the slot has
 * moved the event is answered as it should be (docs/scale-out.md "Slot migration").
 */
import { randomUUID } from "node:crypto";
import calculateSlot from "cluster-key-slot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCluster, createClient, type RedisClusterType } from "redis";
import type { StageEvent } from "@creditmeter/shared";
import { RedisLedger, type LedgerOutcome } from "@creditmeter/server";
import { accountKeys } from "../../server/src/ledger/keys.js";
import { functionLibrary } from "../../server/src/ledger/lua-assembly.js";
import { SCRIPT_NAMES } from "../../server/src/ledger/scripts.js";
import { LEDGER_DEFAULTS, cycle, stageEvent } from "../support/ledger.js";
import { clusterUnsupported, startCluster, type TestCluster } from "./redis-cluster.js";

const unsupported = clusterUnsupported();

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
  ) {
    const namespace = `t-${randomUUID()}`;
    const accountId = `acct-${randomUUID()}`;
    const ledger = new RedisLedger({ redis, namespace, ...LEDGER_DEFAULTS });
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

  it("a redelivered charge whose idempotency generation has not moved yet is not charged again", async () => {
    let charge: StageEvent | undefined;
    const { ledger, accountId, k, finish } = await halfMoved(
      (_all, keys) => declared(keys),
      async (l, id) => {
        // An open hold: without one the holds hash is absent, and a script naming it is refused
        // (TRYAGAIN) until the slot has moved.
        await l.applyEvent(stageEvent({ type: "stage.started", action: "script", accountId: id, stepId: "open" }));
        charge = stageEvent({ type: "stage.completed", action: "script", accountId: id, stepId: "s1" });
        const first = await l.applyEvent(charge);
        expect(first.result?.status).toBe("applied");
      },
    );
    if (!charge) throw new Error("no charge");
    const [again] = await ledger.applyEvents([charge]);
    // Refused while the slot is split (the consumer retries), or answered as the duplicate it is.
    if (!(again instanceof Error)) expect((again as LedgerOutcome).result?.status).toBe("duplicate");
    await finish();
    expect(await redis.hGet(k.account, "tot_charged")).toBe("1");
    const [after] = await ledger.applyEvents([charge]);
    expect((after as LedgerOutcome).result?.status).toBe("duplicate");
    expect((await ledger.balance(accountId)).available).toBe(98);
  }, 60_000);

  it("a redelivered charge recorded only in the layout before (evt:), not moved yet, is not charged again", async () => {
    let charge: StageEvent | undefined;
    const { ledger, accountId, k, finish } = await halfMoved(
      // Everything but the record of the layout before.
      (all) => all.filter((key) => !key.includes(":evt:")),
      async (l, id) => {
        await l.applyEvent(stageEvent({ type: "stage.started", action: "script", accountId: id, stepId: "open" }));
        // A charge, so that the account has its burn hash (a declared key) too.
        await l.applyEvent(stageEvent({ type: "stage.completed", action: "script", accountId: id, stepId: "paid" }));
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
    const [again] = await ledger.applyEvents([charge]);
    if (!(again instanceof Error)) expect((again as LedgerOutcome).result?.status).toBe("duplicate");
    await finish();
    expect(await redis.hGet(k.account, "tot_charged")).toBe("1");
    const [after] = await ledger.applyEvents([charge]);
    expect((after as LedgerOutcome).result?.status).toBe("duplicate");
    expect((await ledger.balance(accountId)).available).toBe(98);
  }, 60_000);

  it("a session that has not moved yet is not read as empty: its budget still holds", async () => {
    const { ledger, accountId, k, finish } = await halfMoved(
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
      accountId,
      sessionId: "s-b",
      stepId: "anim",
    });
    const [during] = await ledger.applyEvents([start]);
    if (!(during instanceof Error)) expect((during as LedgerOutcome).result?.decision).toBe("denied");
    await finish();
    expect(await redis.hGet(k.account, "held")).toBe("1");
    const [after] = await ledger.applyEvents([start]);
    expect((after as LedgerOutcome).result?.denyReason).toBe("session_budget");
  }, 60_000);
});
