import { CreditmeterError } from "@creditmeter/shared";
import type { LedgerOutcome } from "../ledger/outcome.js";

/** What the ops routes and the budget set need of the webhook outbox (WebhookOutbox.settle). */
export interface WebhookSettler {
  /** Resolves once the webhooks the outcome raised (or still owes) are queued and its record marked. */
  settle(outcome: LedgerOutcome): Promise<void>;
}

/**
 * Queues the webhooks an ops change or a budget set raised before its caller is answered
 * (docs/webhooks.md "The gap"). The change is applied and kept what it raised: when queueing fails
 * the caller gets 503 `unavailable` and retries the same request, a repeat that raises them again
 * (same delivery ids) until they are queued.
 */
export async function settleWebhooks(outbox: WebhookSettler | undefined, outcome: LedgerOutcome): Promise<void> {
  if (!outbox || !outcome.raisedRecord) return;
  try {
    await outbox.settle(outcome);
  } catch {
    throw new CreditmeterError(
      "unavailable",
      "unavailable: the change is applied but its webhooks could not be queued; retry the same request (it is idempotent)",
    );
  }
}
