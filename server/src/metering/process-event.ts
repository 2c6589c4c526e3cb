import { UnrecoverableError } from "bullmq";
import {
  CreditmeterError,
  parseStageEvent,
  type EventResult,
  type PriceBook,
  type StageEvent,
} from "@creditmeter/shared";
import type { Publisher } from "../ledger/api.js";
import type { LedgerOutcome } from "../ledger/outcome.js";

export interface ProcessDeps {
  ledger: { applyEvent(event: StageEvent): Promise<LedgerOutcome> };
  publisher: Publisher;
  /**
   * Queues the webhooks an outcome raised (or, for a duplicate, still owes) and resolves once they
   * are in Redis (WebhookOutbox.settle). Awaited before the job completes, so a crash before then
   * leaves the job to be redelivered, and its duplicate raises them again.
   */
  outbox?: { settle(outcome: LedgerOutcome): Promise<void> };
  priceBook: PriceBook;
  idempotencyRetentionSeconds: number;
  /** How long to keep retrying the ledger while Redis is unreachable before giving the job back. */
  ledgerRetryMs?: number;
  onRejected?: (reason: string, data: unknown) => void;
  onApplied?: (outcome: LedgerOutcome, ledgerMs: number, event: StageEvent) => void;
  /** Tests only: called right after the ledger applied `event`, before anything else (Config.testKillAfterLedger). */
  afterLedger?: (event: StageEvent) => void;
}

/** Retries an idempotent ledger call through short Redis outages (the eventId makes repeats no-ops). */
async function withRetry<T>(fn: () => Promise<T>, budgetMs: number): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof CreditmeterError || Date.now() + delay > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * The metering processor: parses the job data at the boundary, applies it to the ledger and
 * publishes the outcome. Invalid input and unknown accounts are UnrecoverableError (no retry,
 * nothing charged) whose message starts with `invalid_event`/`unknown_account` and names the field.
 */
export async function processEvent(data: unknown, deps: ProcessDeps): Promise<EventResult> {
  try {
    const event = parseStageEvent(data, {
      book: deps.priceBook,
      now: Date.now(),
      retentionMs: deps.idempotencyRetentionSeconds * 1000,
    });
    const started = performance.now();
    const outcome = await withRetry(() => deps.ledger.applyEvent(event), deps.ledgerRetryMs ?? 30_000);
    deps.afterLedger?.(event);
    deps.onApplied?.(outcome, performance.now() - started, event);
    deps.publisher.publish(outcome);
    const outbox = deps.outbox;
    // Retried like the ledger: a failure fails the job, whose retry (a duplicate) owes them again.
    if (outbox) await withRetry(() => outbox.settle(outcome), deps.ledgerRetryMs ?? 30_000);
    if (!outcome.result) throw new Error("the ledger returned no result for an event");
    return outcome.result;
  } catch (err) {
    if (err instanceof CreditmeterError) {
      deps.onRejected?.(err.message, data);
      throw new UnrecoverableError(err.message);
    }
    throw err;
  }
}
