import calculateSlot from "cluster-key-slot";
import { isCluster, type AppRedis } from "../redis/redis-client.js";
import {
  CreditmeterError,
  DEFAULT_THRESHOLDS,
  type AdjustmentBody,
  type AlertLevel,
  type Balance,
  type CycleBody,
  type LedgerPage,
  type LedgerQuery,
  type PackBody,
  type Plan,
  type PutAccountBody,
  type SessionSnapshot,
  type StageEvent,
  type Usage,
  type UsageQuery,
} from "@creditmeter/shared";
import type { ArchiveReads, LedgerApi } from "./api.js";
import type { Config } from "../config/config.js";
import { accountKeys, type AccountKeys } from "./keys.js";
import type { LedgerOutcome, RaisedRecord } from "./outcome.js";
import { withRaised } from "./owed-webhooks.js";
import { ScriptReply, accountSide, toSession } from "./reply.js";
import { plannedField } from "./forecast-view.js";
import { ScriptRunner, type ScriptName } from "./scripts.js";
import { buildOutcome } from "./outcome-builder.js";
import { BatchReply, accountIdsOf, batchOutcomes, eventArgs, type BatchedEvent } from "./event-batch.js";
import { BatchCall } from "./batch-call.js";
import { AuditTrail, trimmedWithoutArchive, unknownAccount } from "./trail.js";
import { DeadlineIndex } from "./deadline-index.js";
import { sumLegacyCharges, type LegacySum } from "./legacy-used.js";
import type { LedgerOptions } from "./ledger-options.js";
import { EventRecords } from "./event-records.js";

const LEGACY_SUM_ROUNDS = 5;

export type { LedgerOptions } from "./ledger-options.js";

type WithBalance = LedgerOutcome & { balance: Balance };

/** Sorted-key JSON: the same body always has the same text, whatever the key order it came in. */
function canonical(body: object): string {
  return JSON.stringify(body, Object.keys(body).sort());
}

/** The credit ledger on Redis: every change one atomic, idempotent Lua script (see lua/). */
export class RedisLedger implements LedgerApi {
  private readonly scripts: ScriptRunner;
  private readonly trail: AuditTrail;
  /** The index of accounts' next time-due work, which the sweeper walks. */
  readonly deadlines: DeadlineIndex;
  private readonly records: EventRecords;

  constructor(private readonly opts: LedgerOptions) {
    this.scripts = new ScriptRunner(opts.redis, { functions: opts.functions });
    this.trail = new AuditTrail(opts.redis, opts.namespace, this.scripts, opts.archive);
    this.deadlines = new DeadlineIndex(opts.redis, opts.namespace, this.scripts, opts.onError);
    this.records = new EventRecords(
      this.scripts,
      (id) => this.keys(id),
      () => this.idempotencyArg,
    );
  }

  /** The ledger a server with this configuration uses (one mapping from Config, for every caller). */
  static fromConfig(
    redis: AppRedis,
    config: Pick<
      Config,
      | "keyPrefix"
      | "priceBook"
      | "holdTtlSeconds"
      | "idempotencyRetentionSeconds"
      | "ledgerRetentionDays"
      | "ledgerFunctions"
    >,
    hooks: Pick<LedgerOptions, "onMaintenance" | "onError" | "onAudit" | "archive"> = {},
  ): RedisLedger {
    return new RedisLedger({
      redis,
      namespace: config.keyPrefix,
      priceBook: config.priceBook,
      holdTtlSeconds: config.holdTtlSeconds,
      idempotencyRetentionSeconds: config.idempotencyRetentionSeconds,
      ledgerRetentionDays: config.ledgerRetentionDays,
      functions: config.ledgerFunctions,
      ...hooks,
    });
  }

  /** The keys of an account (for tests and the Redis-level assertions that need raw keys). */
  keys(accountId: string): AccountKeys {
    return accountKeys(this.opts.namespace, accountId);
  }

  /** The retention argument of every script, carrying the virtual clock when a test set one. */
  private get retentionMs(): string {
    const retention = String(this.opts.ledgerRetentionDays * 86_400_000);
    const clock = this.opts.virtualClock;
    return clock ? `${retention}@${Math.trunc(clock())}` : retention;
  }

  private async call(
    name: ScriptName,
    k: AccountKeys,
    extraKeys: string[],
    args: (string | number)[],
  ): Promise<ScriptReply> {
    const raw = await this.scripts.run(
      name,
      [k.account, k.holds, k.log, ...extraKeys],
      [k.prefix, this.retentionMs, ...args],
    );
    const reply = ScriptReply.parse(JSON.parse(raw));
    if (reply.changed !== false) this.opts.onAudit?.([k.accountId]);
    // Scripts report the deadline only when it moved: most events leave the index alone.
    if (reply.deadline) this.deadlines.offer(k.accountId, reply.deadline);
    return reply;
  }

  private fail(reply: ScriptReply, accountId: string, conflictWhat?: string): void {
    if (reply.error === "unknown_account") throw unknownAccount(accountId);
    if (reply.error === "conflict" && reply.reason === "older_cycle") {
      const current = reply.current ?? "";
      throw new CreditmeterError(
        "conflict",
        `conflict: cycleId: the current cycle "${current}" starts at or after this one's start (a late, older cycle)`,
        "cycleId",
        { currentCycleId: current },
      );
    }
    if (reply.error === "conflict") {
      throw new CreditmeterError(
        "conflict",
        `conflict: ${conflictWhat ?? "id"} was already used with a different body`,
        conflictWhat,
      );
    }
  }

  private withBalance(accountId: string, reply: ScriptReply): WithBalance {
    const outcome = buildOutcome(accountId, reply);
    if (!outcome.balance) throw new Error("ledger script returned no account");
    return { ...outcome, balance: outcome.balance };
  }

  /** Applies a parsed stage event; throws `unknown_account` for an account that does not exist. */
  async applyEvent(event: StageEvent): Promise<LedgerOutcome> {
    const [outcome] = await this.applyEvents([event]);
    if (outcome === undefined) throw new Error("the ledger returned no outcome for an event");
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }

  /**
   * Applies parsed stage events in order, as if one at a time, in one script call per Redis
   * Cluster slot (one in all on a single Redis). Each event gets its outcome, the
   * CreditmeterError that refused it (`unknown_account`, `invalid_event`, `conflict`) without touching the rest,
   * or the Error of its slot's call when that call failed (other slots keep their outcomes).
   */
  async applyEvents(events: StageEvent[]): Promise<(LedgerOutcome | Error)[]> {
    const out: (LedgerOutcome | Error)[] = new Array<LedgerOutcome | Error>(events.length);
    const groups = new Map<number, BatchCall<{ at: number; batched: BatchedEvent }>>();
    const cluster = isCluster(this.opts.redis);
    events.forEach((event, i) => {
      const sent = eventArgs(event, this.opts);
      if (sent instanceof CreditmeterError) return (out[i] = sent);
      const k = this.keys(event.accountId);
      const slot = cluster ? calculateSlot(k.account) : 0;
      const group = groups.get(slot) ?? new BatchCall();
      group.add(k, sent, { at: i, batched: { event, stage: sent.stage } });
      groups.set(slot, group);
    });
    await Promise.all(
      [...groups.values()].map(async (group) => {
        // The script answers each account's events together (batch-call.ts): `order` is how.
        const call = group.build(this.retentionMs, this.opts.priceBook.version);
        const at = call.order.map((o) => o.at);
        const batch = call.order.map((o) => o.batched);
        let raw: string;
        try {
          raw = await this.scripts.run("apply-events-4a", call.keys, call.args);
        } catch (err) {
          for (const i of at) out[i] = err instanceof Error ? err : new Error(String(err));
          return;
        }
        const reply = BatchReply.parse(JSON.parse(raw));
        const ids = accountIdsOf(batch, reply);
        this.opts.onAudit?.([...new Set(batch.map((b) => b.event.accountId))]);
        reply.accounts.forEach((acc, i) => {
          const id = ids[i];
          if (acc.deadline && id !== undefined) this.deadlines.offer(id, acc.deadline);
        });
        batchOutcomes(batch, reply, ids).forEach((o, j) => {
          const i = at[j] ?? -1;
          out[i] = o === "unknown_account" ? unknownAccount(events[i]?.accountId ?? "") : o;
        });
      }),
    );
    return out;
  }

  /** Creates or updates an account's plan and thresholds. */
  async putAccount(accountId: string, body: PutAccountBody): Promise<WithBalance> {
    const thresholds = body.lowBalanceThresholds ?? DEFAULT_THRESHOLDS;
    const k = this.keys(accountId);
    const reply = await this.call("put-account-3", k, [], [body.plan, JSON.stringify(thresholds)]);
    // An alert the new thresholds fired is kept in the account until queued (opsWrite settles it).
    return withRaised(this.withBalance(accountId, reply), reply, { kind: "account", key: k.account });
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
      const reply = await this.call(
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
      this.fail(reply, accountId, "cycleId");
      return withRaised(this.withBalance(accountId, reply), reply, {
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
    const reply = await this.call("add-pack-5", k, [k.grant("pack", body.packId), k.grants], args);
    this.fail(reply, accountId, "packId");
    return withRaised(this.withBalance(accountId, reply), reply, { kind: "grant", key: k.grant("pack", body.packId) });
  }

  /** Applies a signed correction; idempotent on adjustmentId. */
  async adjust(accountId: string, body: AdjustmentBody, actor = ""): Promise<WithBalance> {
    const k = this.keys(accountId);
    const args = [body.adjustmentId, body.credits, body.reason, canonical(body), actor];
    const reply = await this.call("adjust-5", k, [k.grant("adjustment", body.adjustmentId), k.grants], args);
    this.fail(reply, accountId, "adjustmentId");
    const key = k.grant("adjustment", body.adjustmentId);
    return withRaised(this.withBalance(accountId, reply), reply, { kind: "grant", key });
  }

  /** Hides the showing alert of `level` until the next crossing. */
  async dismissAlert(accountId: string, level: AlertLevel): Promise<WithBalance> {
    const k = this.keys(accountId);
    const reply = await this.call("dismiss-alert-3", k, [], [level]);
    this.fail(reply, accountId);
    // An alert its time-due work raised is kept in the account until queued (the handler settles it).
    return withRaised(this.withBalance(accountId, reply), reply, { kind: "account", key: k.account });
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
    const reply = await this.call(
      "set-budget-5",
      k,
      [k.session(sessionId), k.burn],
      [sessionId, credits === null ? "" : String(credits)],
    );
    this.fail(reply, accountId);
    const session = this.sessionOf(accountId, sessionId, reply);
    const outcome = {
      ...buildOutcome(accountId, reply),
      session,
      budgetReached: reply.budget_reached ? session : null,
    };
    return withRaised(outcome, reply, { kind: "session", key: k.session(sessionId) }, session);
  }

  /** Applies what time made due (cycle end, hold expiry) and returns the account's state. */
  async touch(accountId: string): Promise<WithBalance> {
    const k = this.keys(accountId);
    const reply = await this.call("touch-3", k, [], []);
    this.fail(reply, accountId);
    return withRaised(this.withBalance(accountId, reply), reply, { kind: "account", key: k.account });
  }

  /** The balance as it stands now (time-due work applied first, and pushed if it changed). */
  async balance(accountId: string): Promise<Balance> {
    const outcome = await this.touch(accountId);
    // An alert it raised, or one still owed, goes to the outbox too (onMaintenance settles it).
    if (outcome.changed || outcome.raisedRecord) this.opts.onMaintenance?.(outcome);
    return outcome.balance;
  }

  /**
   * A session's totals and forecast; zeros for a session with no events, `unknown_account` for no
   * account. One script (read-session-5) reads the session, its account and its recent spend at
   * one instant, after the time-due work every read does (pushed if it changed anything).
   */
  async session(accountId: string, sessionId: string): Promise<SessionSnapshot> {
    const k = this.keys(accountId);
    const reply = await this.call("read-session-5", k, [k.session(sessionId), k.burn], [sessionId]);
    this.fail(reply, accountId);
    const outcome = withRaised(this.withBalance(accountId, reply), reply, { kind: "account", key: k.account });
    // As balance(): an alert it raised, or one still owed, goes to the outbox too (onMaintenance settles it).
    if (outcome.changed || outcome.raisedRecord) this.opts.onMaintenance?.(outcome);
    return this.sessionOf(accountId, sessionId, reply);
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
    const reply = await this.call(
      "set-plan-6",
      k,
      [k.session(sessionId), k.burn, k.plans],
      [sessionId, plannedField(totals)],
    );
    this.fail(reply, accountId);
    const outcome = { ...buildOutcome(accountId, reply), session: this.sessionOf(accountId, sessionId, reply) };
    // An alert its time-due work raised is kept in the account until queued (the route settles it).
    return withRaised(outcome, reply, { kind: "account", key: k.account });
  }

  /** The snapshot (without `last`) of the session a script answered for. */
  private sessionOf(accountId: string, sessionId: string, reply: ScriptReply): SessionSnapshot {
    if (!reply.session || !reply.account) throw new Error("ledger script returned no session");
    const { last: _last, ...snapshot } = toSession(
      accountId,
      sessionId,
      reply.session,
      accountSide(reply.account, reply.burn),
    );
    return snapshot;
  }

  /** Usage totals grouped for the detailed usage page. */
  usage(accountId: string, query: UsageQuery): Promise<Usage> {
    return this.trail.usage(accountId, query);
  }

  /** The audit trail, newest first, one page at a time. */
  ledgerPage(accountId: string, query: LedgerQuery): Promise<LedgerPage> {
    return this.trail.ledgerPage(accountId, query);
  }

  /** Removes the trail's entries below `boundMs`, already archived (AuditTrail.trim). */
  trimLog(accountId: string, boundMs: number): Promise<number> {
    return this.trail.trim(accountId, boundMs);
  }

  private archive(): ArchiveReads {
    if (!this.opts.archive) throw trimmedWithoutArchive();
    return this.opts.archive;
  }

  /** Records that an event's raised webhooks are queued (EventRecords.markWebhooksQueued). */
  markWebhooksQueued(accountId: string, eventId: string): Promise<void> {
    return this.records.markWebhooksQueued(accountId, eventId);
  }

  /** Records that an ops change's or budget set's raised webhooks are queued (EventRecords.markRaisedQueued). */
  markRaisedQueued(accountId: string, record: RaisedRecord): Promise<void> {
    return this.records.markRaisedQueued(accountId, record);
  }

  /** An event's idempotency record as stored, or null (EventRecords.readEventRecord). */
  readEventRecord(accountId: string, eventId: string): Promise<string | null> {
    return this.records.readEventRecord(accountId, eventId);
  }

  /** The idempotency retention argument of read-event-2 and mark-webhooks-2 (with the virtual clock, as retentionMs). */
  private get idempotencyArg(): string {
    const retention = String(this.opts.idempotencyRetentionSeconds * 1000);
    const clock = this.opts.virtualClock;
    return clock ? `${retention}@${Math.trunc(clock())}` : retention;
  }
}
