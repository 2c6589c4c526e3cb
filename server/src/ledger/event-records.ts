import type { AccountKeys } from "./keys.js";
import type { RaisedRecord } from "./outcome.js";
import { eventField } from "./fingerprint.js";
import type { ScriptRunner } from "./scripts.js";

/**
 * An event's idempotency record read on its own, and the marks that say the webhooks a change
 * raised are queued (read-event-2.lua, mark-webhooks-2.lua); RedisLedger delegates to it.
 */
export class EventRecords {
  constructor(
    private readonly scripts: ScriptRunner,
    private readonly keys: (accountId: string) => AccountKeys,
    /** The idempotency retention argument (with the virtual clock, as AccountScript.retentionMs). */
    private readonly idempotencyArg: () => string,
  ) {}

  /**
   * Records that the webhooks an event raised are queued (mark-webhooks-2.lua): a later redelivery
   * answered `duplicate` then owes none (LedgerOutcome.reraise). Only events that raised something call it.
   */
  async markWebhooksQueued(accountId: string, eventId: string): Promise<void> {
    const k = this.keys(accountId);
    await this.scripts.run(
      "mark-webhooks-2",
      [k.account, k.event(eventId)],
      [k.prefix, this.idempotencyArg(), eventField(eventId)],
    );
  }

  /**
   * Records that the webhooks an ops change or a budget set raised are queued (mark-webhooks-2.lua
   * on the grant's record or the session's hash): a retry then owes none (LedgerOutcome.raisedRecord).
   */
  async markRaisedQueued(accountId: string, record: RaisedRecord): Promise<void> {
    const k = this.keys(accountId);
    await this.scripts.run(
      "mark-webhooks-2",
      [k.account, record.key],
      [k.prefix, this.idempotencyArg(), record.raised.join("|"), record.kind],
    );
  }

  /**
   * An event's idempotency record as stored (read-event-2.lua: the compact text, or the JSON of the
   * layout before; event-record.ts reads both), or null when the ledger keeps none.
   */
  async readEventRecord(accountId: string, eventId: string): Promise<string | null> {
    const k = this.keys(accountId);
    const raw = await this.scripts.run(
      "read-event-2",
      [k.account, k.event(eventId)],
      [k.prefix, this.idempotencyArg(), eventField(eventId)],
    );
    return raw === "" ? null : raw;
  }
}
