import type { Queue } from "bullmq";
import type { WebhookEventType, WebhookPayload } from "@creditmeter/shared";
import type { Publisher } from "../ledger/api.js";
import type { LedgerOutcome, RaisedRecord } from "../ledger/outcome.js";
import { deliveryId, type DeliveryJob } from "./jobs.js";
import type { WebhookStore } from "./store.js";

/** One webhook-worthy thing an outcome carries, with the key that names it in every process. */
export interface WebhookEvent {
  type: WebhookEventType;
  accountId: string;
  key: string;
  createdAt: string;
  data: Record<string, unknown>;
}

/**
 * The webhook events of a ledger outcome. Keys are what the ledger decided, not when this
 * process saw it: the stage event's id, else the account's (or session's) seq after the change.
 */
export function webhookEvents(outcome: LedgerOutcome): WebhookEvent[] {
  const events: WebhookEvent[] = [];
  const { accountId } = outcome;
  // A duplicate's reraise carries what its first application raised: the same keys, so the same
  // delivery ids as the first time (docs/webhooks.md "The gap"); so does each raise an earlier call
  // that is not a stage event still owes (`owed`). A call may raise an alert of its own and still
  // owe earlier ones: all, each under its own key.
  const reraises = [...(outcome.reraise ? [outcome.reraise] : []), ...(outcome.owed ?? [])];
  const alerts = [
    { alert: outcome.alert, seq: outcome.balance?.seq },
    ...reraises.map((r) => ({ alert: r.alert, seq: r.seq ?? outcome.balance?.seq })),
  ];
  for (const { alert, seq } of alerts) {
    if (!alert) continue;
    const cause = outcome.eventId ? `event.${outcome.eventId}` : seq !== undefined ? `seq.${seq}` : `at.${alert.at}`;
    events.push({
      type: "balance.alert",
      accountId,
      key: `alert.${alert.level}.${cause}`,
      createdAt: alert.at,
      data: { ...alert },
    });
  }
  const denied = outcome.denied ?? outcome.reraise?.denied;
  if (denied) {
    const d = denied;
    const cause = outcome.eventId ? `event.${outcome.eventId}` : `step.${d.sessionId}.${d.stepId}.${d.at}`;
    events.push({ type: "stage.denied", accountId, key: `denied.${cause}`, createdAt: d.at, data: { ...d } });
  }
  for (const reached of [outcome.budgetReached, ...reraises.map((r) => r.budgetReached)]) {
    if (!reached) continue;
    // Named by the budget and the moment it was reached (ledger time, in the session): one per
    // budget set, and the same key when a duplicate re-raises it after a crash.
    const b = reached.budget;
    const key = b?.reachedAt
      ? `budget.${reached.sessionId}.${b.credits}.at.${b.reachedAt}`
      : `budget.${reached.sessionId}.seq.${reached.seq}`;
    events.push({
      type: "session.budget_reached",
      accountId,
      key,
      createdAt: b?.reachedAt ?? new Date().toISOString(),
      data: { ...reached },
    });
  }
  // One per key: a re-raise that is also this call's own (the same budget still reached) goes once.
  return events.filter((e, i) => events.findIndex((o) => o.key === e.key && o.type === e.type) === i);
}

export interface OutboxOptions {
  store: WebhookStore;
  queue: Queue;
  /** BullMQ options of every delivery job: attempts, the custom backoff, retention of finished jobs. */
  jobOptions: {
    attempts: number;
    removeOnComplete: { age: number; count: number };
    removeOnFail: { age: number; count: number };
  };
  onError(err: unknown, event: WebhookEvent): void;
  /** Records in the event's idempotency record that its webhooks are queued (RedisLedger.markWebhooksQueued). */
  markQueued(accountId: string, eventId: string): Promise<void>;
  /** The same for an ops change or a budget set, in the record that keeps what it raised (RedisLedger.markRaisedQueued). */
  markRaisedQueued(accountId: string, record: RaisedRecord): Promise<void>;
}

/**
 * Turns ledger outcomes into delivery jobs on the webhooks queue, one per event and subscribed
 * webhook. The job id is the delivery id, so a second process queueing the same event adds
 * nothing. Once queued, BullMQ keeps it in Redis through kills and restarts. Outcomes of stage
 * events are the consumer's to queue, with `settle`, before their job completes, and so are those
 * of ops changes and budget sets (`raisedRecord`), before their request answers; `publish` queues
 * the others (maintenance) after the fact (docs/webhooks.md "The gap").
 */
export class WebhookOutbox implements Publisher {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly opts: OutboxOptions) {}

  /** Fire and forget, for outcomes that keep no record of what they raised (the others go through `settle`). */
  publish(outcome: LedgerOutcome): void {
    if (outcome.eventId || outcome.raisedRecord) return;
    for (const event of webhookEvents(outcome)) {
      const p = this.enqueue(event).catch((err: unknown) => this.opts.onError(err, event));
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    }
  }

  /**
   * Queues the webhooks a stage event's outcome raised (or, for a duplicate, still owes), then marks
   * the event's record so that later duplicates owe nothing; resolves once both are in Redis, and
   * rejects if either failed (the job is then retried, and its duplicate owes them again). The
   * consumer awaits this before the job completes; the ops routes and the budget set (an outcome
   * with `raisedRecord`) before they answer, and their caller's retry owes them again. An outcome
   * that raised nothing costs no I/O.
   */
  async settle(outcome: LedgerOutcome): Promise<void> {
    const { eventId, raisedRecord } = outcome;
    if (!eventId && !raisedRecord) return;
    const events = webhookEvents(outcome);
    await Promise.all(events.map((e) => this.enqueue(e)));
    if (eventId) {
      if (events.length > 0) await this.opts.markQueued(outcome.accountId, eventId);
    } else if (raisedRecord) {
      // Marked even when nothing is left to queue (a budget reached since superseded): settled.
      await this.opts.markRaisedQueued(outcome.accountId, raisedRecord);
    }
  }

  /** Queues `event` for every webhook subscribed to it; resolves once the jobs are in Redis. */
  async enqueue(event: WebhookEvent): Promise<void> {
    const webhooks = await this.opts.store.subscribers(event.type, event.accountId);
    if (webhooks.length === 0) return;
    const jobs = webhooks.map((w) => {
      const payload: WebhookPayload = {
        id: deliveryId(w.id, event.accountId, event.key),
        type: event.type,
        createdAt: event.createdAt,
        data: event.data,
      };
      const data: DeliveryJob = { v: 1, webhookId: w.id, payload };
      return {
        name: event.type,
        data,
        opts: { ...this.opts.jobOptions, jobId: payload.id, backoff: { type: "webhook" } },
      };
    });
    await this.opts.queue.addBulk(jobs);
    const now = new Date().toISOString();
    await Promise.all(
      jobs.map((j) =>
        this.opts.store.recordEnqueued(j.data.webhookId, {
          id: j.data.payload.id,
          type: event.type,
          attempts: 0,
          lastStatus: null,
          lastError: null,
          deliveredAt: null,
          nextAttemptAt: now,
          createdAt: event.createdAt,
        }),
      ),
    );
  }

  /** Waits for the jobs being queued (graceful stop). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
