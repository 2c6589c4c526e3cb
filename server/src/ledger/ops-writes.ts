import {
  DEFAULT_THRESHOLDS,
  type AdjustmentBody,
  type AlertLevel,
  type CycleBody,
  type PackBody,
  type Plan,
  type PutAccountBody,
  type SessionSnapshot,
} from "@creditmeter/shared";
import type { ArchiveReads } from "./api.js";
import { AccountScript, sessionOf, throwIfRefused, withBalance, type WithBalance } from "./account-script.js";
import { plannedField } from "./forecast-view.js";
import type { AccountKeys } from "./keys.js";
import type { LedgerOptions } from "./ledger-options.js";
import { sumLegacyCharges, type LegacySum } from "./legacy-used.js";
import type { LedgerOutcome } from "./outcome.js";
import { buildOutcome } from "./outcome-builder.js";
import { withRaised } from "./owed-webhooks.js";
import { trimmedWithoutArchive } from "./trail.js";

const LEGACY_SUM_ROUNDS = 5;

/** Sorted-key JSON: the same body always has the same text, whatever the key order it came in. */
function canonical(body: object): string {
  return JSON.stringify(body, Object.keys(body).sort());
}

/**
 * The writes that are not stage events: an account's plan and thresholds, its grants (cycle, pack,
 * adjustment), an alert's dismissal, and a session's budget and plan. Each is one script; each
 * outcome keeps what it raised until queued (withRaised). RedisLedger delegates to it.
 */
export class OpsWrites {
  constructor(
    private readonly script: AccountScript,
    private readonly opts: LedgerOptions,
    private readonly keys: (accountId: string) => AccountKeys,
  ) {}

  /** Creates or updates an account's plan and thresholds. */
  async putAccount(accountId: string, body: PutAccountBody): Promise<WithBalance> {
    const thresholds = body.lowBalanceThresholds ?? DEFAULT_THRESHOLDS;
    const k = this.keys(accountId);
    const reply = await this.script.call("put-account-3", k, [], [body.plan, JSON.stringify(thresholds)]);
    // An alert the new thresholds fired is kept in the account until queued (opsWrite settles it).
    return withRaised(withBalance(accountId, reply), reply, { kind: "account", key: k.account });
  }

  /**
   * Starts a billing cycle; idempotent on cycleId. The script finds `used` from the running
   * totals; audit entries from before them (no `cum`) are summed here, outside Redis's script
   * engine, and the script is called again with that sum (see start-cycle-5.lua).
   */
  async startCycle(accountId: string, body: CycleBody, actor = ""): Promise<WithBalance> {
    const k = this.keys(accountId);
    const startMs = Date.parse(body.start);
    const endMs = Date.parse(body.end);
    // The same instant written two ways ("…00Z", "…00.000+00:00") is the same body, not a 409.
    const text = canonical({ ...body, start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() });
    let legacy: LegacySum = { after: "", sum: 0 };
    // Below the trail's trim marker the charges since `start` come from the archive.
    let archivedBelow = "";
    // Only a process of an older release still writing entries without `cum` (a rolling
    // upgrade) can make the script ask again after a sum; a few rounds cover it.
    for (let round = 0; round < LEGACY_SUM_ROUNDS; round += 1) {
      const reply = await this.script.call(
        "start-cycle-5",
        k,
        [k.grant("cycle", body.cycleId), k.grants],
        [body.cycleId, body.credits, startMs, endMs, text, legacy.after, legacy.sum, actor, archivedBelow],
      );
      if (reply.needs_archive_sum && reply.trimmed !== undefined) {
        // (Again) from scratch: a trim since the last round moved the marker.
        archivedBelow = String(reply.trimmed);
        legacy = { after: "", sum: await this.archive().chargesBetween(accountId, startMs, reply.trimmed) };
        continue;
      }
      if (reply.needs_legacy_sum) {
        legacy = await sumLegacyCharges(this.opts.redis, k.log, Math.max(startMs, Number(archivedBelow || 0)), legacy);
        continue;
      }
      throwIfRefused(reply, accountId, "cycleId");
      return withRaised(withBalance(accountId, reply), reply, {
        kind: "grant",
        key: k.grant("cycle", body.cycleId),
      });
    }
    throw new Error(`start-cycle: the audit trail of ${accountId} kept gaining entries without running totals`);
  }

  /** Adds a never-expiring pack; idempotent on packId. */
  async addPack(accountId: string, body: PackBody, actor = ""): Promise<WithBalance> {
    const k = this.keys(accountId);
    const args = [body.packId, body.credits, canonical(body), actor];
    const reply = await this.script.call("add-pack-5", k, [k.grant("pack", body.packId), k.grants], args);
    throwIfRefused(reply, accountId, "packId");
    return withRaised(withBalance(accountId, reply), reply, { kind: "grant", key: k.grant("pack", body.packId) });
  }

  /** Applies a signed correction; idempotent on adjustmentId. */
  async adjust(accountId: string, body: AdjustmentBody, actor = ""): Promise<WithBalance> {
    const k = this.keys(accountId);
    const args = [body.adjustmentId, body.credits, body.reason, canonical(body), actor];
    const reply = await this.script.call("adjust-5", k, [k.grant("adjustment", body.adjustmentId), k.grants], args);
    throwIfRefused(reply, accountId, "adjustmentId");
    const key = k.grant("adjustment", body.adjustmentId);
    return withRaised(withBalance(accountId, reply), reply, { kind: "grant", key });
  }

  /** Hides the showing alert of `level` until the next crossing. */
  async dismissAlert(accountId: string, level: AlertLevel): Promise<WithBalance> {
    const k = this.keys(accountId);
    const reply = await this.script.call("dismiss-alert-3", k, [], [level]);
    throwIfRefused(reply, accountId);
    // An alert its time-due work raised is kept in the account until queued (the handler settles it).
    return withRaised(withBalance(accountId, reply), reply, { kind: "account", key: k.account });
  }

  /**
   * Sets (credits) or removes (null) a session's budget in one script (set-budget-5.lua): the
   * session's seq grows and its snapshot is in `sessions` to push, unless the budget was already
   * that (a repeat changes nothing). `budgetReached` when the new budget is already used up.
   */
  async setBudget(
    accountId: string,
    sessionId: string,
    credits: number | null,
  ): Promise<LedgerOutcome & { session: SessionSnapshot }> {
    const k = this.keys(accountId);
    const reply = await this.script.call(
      "set-budget-5",
      k,
      [k.session(sessionId), k.burn],
      [sessionId, credits === null ? "" : String(credits)],
    );
    throwIfRefused(reply, accountId);
    const session = sessionOf(accountId, sessionId, reply);
    const outcome = {
      ...buildOutcome(accountId, reply),
      session,
      budgetReached: reply.budget_reached ? session : null,
    };
    return withRaised(outcome, reply, { kind: "session", key: k.session(sessionId) }, session);
  }

  /**
   * Records (or with `totals` null, removes) a session's plan (CONTRACT §10): its total on each
   * plan (shared quoteOnEveryPlan). A session change: the outcome carries its snapshot to push.
   */
  async setPlan(
    accountId: string,
    sessionId: string,
    totals: Record<Plan, number> | null,
  ): Promise<LedgerOutcome & { session: SessionSnapshot }> {
    const k = this.keys(accountId);
    const reply = await this.script.call(
      "set-plan-6",
      k,
      [k.session(sessionId), k.burn, k.plans],
      [sessionId, plannedField(totals)],
    );
    throwIfRefused(reply, accountId);
    const outcome = { ...buildOutcome(accountId, reply), session: sessionOf(accountId, sessionId, reply) };
    // An alert its time-due work raised is kept in the account until queued (the route settles it).
    return withRaised(outcome, reply, { kind: "account", key: k.account });
  }

  /** The history archive, or the 503 a trimmed trail answers when this process has none. */
  private archive(): ArchiveReads {
    if (!this.opts.archive) throw trimmedWithoutArchive();
    return this.opts.archive;
  }
}
