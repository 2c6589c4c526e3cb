/**
 * Property test of the ledger's invariants after every operation, whatever the sequence.
 * It reads the account hash's raw conservation totals (tot_*), which no API exposes: that is why
 * this file looks at Redis keys directly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { RedisClientType } from "redis";
import type { RedisLedger } from "@creditmeter/server";
import { stageEvent, testLedger } from "../support/ledger.js";

type Op =
  | { kind: "started"; step: number; seconds: number }
  | { kind: "completed"; step: number; seconds: number }
  | { kind: "failed"; step: number }
  | { kind: "pack"; credits: number }
  | { kind: "adjust"; credits: number }
  | { kind: "cycle"; credits: number };

const step = fc.integer({ min: 1, max: 6 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("started" as const), step, seconds: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("completed" as const), step, seconds: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("failed" as const), step }),
  fc.record({ kind: fc.constant("pack" as const), credits: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ kind: fc.constant("adjust" as const), credits: fc.integer({ min: -150, max: 150 }).filter((n) => n !== 0) }),
  fc.record({ kind: fc.constant("cycle" as const), credits: fc.integer({ min: 0, max: 300 }) }),
);

describe("ledger invariants (property)", () => {
  let ledger: RedisLedger;
  let redis: RedisClientType;
  let run = 0;
  beforeAll(async () => {
    ({ ledger, redis } = await testLedger());
  });
  afterAll(async () => {
    await redis.close();
  });

  it("hold after every operation of any sequence: available ≥ 0, held ≤ remaining, credits conserved", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        run += 1;
        const accountId = `inv-${run}`;
        await ledger.putAccount(accountId, { plan: "free" });
        let charged = 0;
        let id = 0;
        let lastStart = 0;
        for (const o of ops) {
          id += 1;
          const stepId = "step" in o ? `st-${o.step}` : "";
          if (o.kind === "started" || o.kind === "completed") {
            const out = await ledger.applyEvent(stageEvent({ accountId, type: `stage.${o.kind}`, action: "talking_head", stepId, seconds: o.seconds }));
            charged += out.result?.charged ?? 0;
          } else if (o.kind === "failed") {
            await ledger.applyEvent(stageEvent({ accountId, type: "stage.failed", action: "talking_head", stepId }));
          } else if (o.kind === "pack") {
            await ledger.addPack(accountId, { packId: `p-${id}`, credits: o.credits });
          } else if (o.kind === "adjust") {
            await ledger.adjust(accountId, { adjustmentId: `a-${id}`, credits: o.credits, reason: "property" });
          } else {
            // Each cycle starts after the one before (an older one is refused, CONTRACT §3 v1.1).
            const now = Math.max(Date.now(), lastStart + 1);
            lastStart = now;
            await ledger.startCycle(accountId, { cycleId: `c-${id}`, credits: o.credits, start: new Date(now).toISOString(), end: new Date(now + 86_400_000).toISOString() });
          }
          const bal = await ledger.balance(accountId);
          const raw = await redis.hGetAll(ledger.keys(accountId).account);
          const t = (f: string): number => Number(raw[f] ?? 0);
          const remaining = bal.buckets.reduce((s, b) => s + b.remaining, 0);
          expect(bal.available).toBeGreaterThanOrEqual(0);
          expect(bal.held).toBeLessThanOrEqual(remaining);
          expect(bal.available).toBe(remaining - bal.held);
          expect(t("tot_charged")).toBe(charged);
          expect(t("tot_granted") + bal.overdraft).toBe(remaining + t("tot_charged") + t("tot_debited") + t("tot_expired") + t("tot_forfeited"));
        }
        // Every charge is traceable to one eventId in the audit trail.
        const entries = (await ledger.ledgerPage(accountId, { limit: 500 })).entries.filter((e) => e.kind === "charge");
        expect(entries.reduce((s, e) => s + e.amount, 0)).toBe(charged);
        expect(new Set(entries.map((e) => e.eventId)).size).toBe(entries.length);
      }),
      { numRuns: 40 },
    );
  });
});
