import calculateSlot from "cluster-key-slot";
import { isCluster, type AppRedis } from "../redis/redis-client.js";
import {
  CreditmeterError,
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
import type { LedgerApi } from "./api.js";
import type { Config } from "../config/config.js";
import { accountKeys, type AccountKeys } from "./keys.js";
import type { LedgerOutcome, RaisedRecord } from "./outcome.js";
import { withRaised } from "./owed-webhooks.js";
import {
  BatchReply,
  accountIdsOf,
  batchOutcomes,
  catchUpOutcomes,
  eventArgs,
  type BatchedEvent,
} from "./event-batch.js";
import { BatchCall } from "./batch-call.js";
import { AuditTrail, unknownAccount } from "./trail.js";
import { DeadlineIndex } from "./deadline-index.js";
import type { LedgerOptions } from "./ledger-options.js";
import { EventRecords } from "./event-records.js";
import { ScriptRunner } from "./scripts.js";
import { AccountScript, sessionOf, throwIfRefused, withBalance, type WithBalance } from "./account-script.js";
import { OpsWrites } from "./ops-writes.js";

export type { LedgerOptions } from "./ledger-options.js";

/**
 * The credit ledger on Redis: every change one atomic, idempotent Lua script (see lua/). Stage
 * events and reads are here; the other writes are OpsWrites', the trail's AuditTrail's.
 */
export class RedisLedger implements LedgerApi {
  private readonly scripts: ScriptRunner;
  private readonly script: AccountScript;
  private readonly trail: AuditTrail;
  /** The index of accounts' next time-due work, which the sweeper walks. */
  readonly deadlines: DeadlineIndex;
  private readonly records: EventRecords;
  private readonly ops: OpsWrites;

  constructor(private readonly opts: LedgerOptions) {
    this.scripts = new ScriptRunner(opts.redis, { functions: opts.functions });
    this.trail = new AuditTrail(opts.redis, opts.namespace, this.scripts, opts.archive);
    this.deadlines = new DeadlineIndex(opts.redis, opts.namespace, this.scripts, opts.onError);
    this.script = new AccountScript(this.scripts, opts, this.deadlines);
    this.records = new EventRecords(
      this.scripts,
      (id) => this.keys(id),
      () => this.idempotencyArg,
    );
    this.ops = new OpsWrites(this.script, opts, (id) => this.keys(id));
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
   * or the Error of its slot's call when that call failed (other slots keep their outcomes). What
   * the catch-up changed in an account whose every event was refused goes to onMaintenance.
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
        const call = group.build(this.script.retentionMs, this.opts.priceBook.version);
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
        // An account whose every event was a conflict: its catch-up has no outcome to ride on.
        for (const caughtUp of catchUpOutcomes(reply, ids, (id) => this.keys(id).account))
          this.opts.onMaintenance?.(caughtUp);
      }),
    );
    return out;
  }

  /** Creates or updates an account's plan and thresholds (OpsWrites.putAccount). */
  putAccount(accountId: string, body: PutAccountBody): Promise<WithBalance> {
    return this.ops.putAccount(accountId, body);
  }

  /** Starts a billing cycle; idempotent on cycleId (OpsWrites.startCycle). */
  startCycle(accountId: string, body: CycleBody, actor = ""): Promise<WithBalance> {
    return this.ops.startCycle(accountId, body, actor);
  }

  /** Adds a never-expiring pack; idempotent on packId (OpsWrites.addPack). */
  addPack(accountId: string, body: PackBody, actor = ""): Promise<WithBalance> {
    return this.ops.addPack(accountId, body, actor);
  }

  /** Applies a signed correction; idempotent on adjustmentId (OpsWrites.adjust). */
  adjust(accountId: string, body: AdjustmentBody, actor = ""): Promise<WithBalance> {
    return this.ops.adjust(accountId, body, actor);
  }

  /** Hides the showing alert of `level` until the next crossing (OpsWrites.dismissAlert). */
  dismissAlert(accountId: string, level: AlertLevel): Promise<WithBalance> {
    return this.ops.dismissAlert(accountId, level);
  }

  /** Sets (credits) or removes (null) a session's budget (OpsWrites.setBudget). */
  setBudget(
    accountId: string,
    sessionId: string,
    credits: number | null,
  ): Promise<LedgerOutcome & { session: SessionSnapshot }> {
    return this.ops.setBudget(accountId, sessionId, credits);
  }

  /** Records (or with `totals` null, removes) a session's plan (OpsWrites.setPlan). */
  setPlan(
    accountId: string,
    sessionId: string,
    totals: Record<Plan, number> | null,
  ): Promise<LedgerOutcome & { session: SessionSnapshot }> {
    return this.ops.setPlan(accountId, sessionId, totals);
  }

  /** Applies what time made due (cycle end, hold expiry) and returns the account's state. */
  async touch(accountId: string): Promise<WithBalance> {
    const k = this.keys(accountId);
    const reply = await this.script.call("touch-3", k, [], []);
    throwIfRefused(reply, accountId);
    return withRaised(withBalance(accountId, reply), reply, { kind: "account", key: k.account });
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
    const reply = await this.script.call("read-session-5", k, [k.session(sessionId), k.burn], [sessionId]);
    throwIfRefused(reply, accountId);
    const outcome = withRaised(withBalance(accountId, reply), reply, { kind: "account", key: k.account });
    // As balance(): an alert it raised, or one still owed, goes to the outbox too (onMaintenance settles it).
    if (outcome.changed || outcome.raisedRecord) this.opts.onMaintenance?.(outcome);
    return sessionOf(accountId, sessionId, reply);
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
