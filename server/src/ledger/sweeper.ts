import type { Publisher } from "./api.js";
import type { LedgerOutcome } from "./outcome.js";
import type { RedisLedger } from "./redis-ledger.js";

export interface Sweeper {
  stop(): Promise<void>;
}

/** Called for each account whose sweep failed; the pass goes on with the next account. */
export type SweepAccountError = (accountId: string, err: unknown) => void;

/** What the sweeper does besides pushing: the webhook outbox, and a test hook. */
export interface SweepHooks {
  /** Queues the webhooks a touch raised or still owes (WebhookOutbox.settle); awaited before the index moves. */
  settle?: (outcome: LedgerOutcome) => Promise<void>;
  /** Tests only (Config.testKillAfterLedger): called with "sweep:<accountId>" right after its touch. */
  afterLedger?: (id: string) => void;
}

const BATCH = 200;
/** How long an account whose sweep failed leaves the head of the index (it is retried then). */
export const SWEEP_RETRY_MS = 60_000;

function isUnknownAccount(err: unknown): boolean {
  return err instanceof Error && "code" in err && err.code === "unknown_account";
}

/**
 * Applies one account's due work, pushes it, queues its webhooks, and only then moves its index
 * entry to its next deadline: a process killed before leaves the entry due, and the next sweep's
 * touch answers the alert it kept (touch-3.lua `owed`) with the same delivery id (docs/webhooks.md "The gap").
 */
async function sweepAccount(
  ledger: RedisLedger,
  publisher: Publisher,
  accountId: string,
  score: number,
  hooks: SweepHooks,
): Promise<void> {
  try {
    const outcome = await ledger.touch(accountId);
    hooks.afterLedger?.(`sweep:${accountId}`);
    if (outcome.changed) publisher.publish(outcome);
    // A failure throws: the entry is retried in SWEEP_RETRY_MS, and that touch owes it again.
    if (outcome.raisedRecord && hooks.settle) await hooks.settle(outcome);
  } catch (err) {
    if (!isUnknownAccount(err)) throw err;
  }
  // Drop the entry only if nobody moved it meanwhile, then re-offer the account's own next
  // deadline: a hold placed between the two steps is never lost from the index.
  await ledger.deadlines.move(accountId, score, "");
  const next = await ledger.deadlines.ofAccount(accountId);
  if (next) ledger.deadlines.offer(accountId, next);
}

/**
 * One pass: applies every due deadline (hold expiry, cycle end) and pushes what changed. One
 * account that fails does not stop the pass: it is reported, moved SWEEP_RETRY_MS ahead in the
 * index (so it cannot hold the head of every pass) and the next account is swept. Its due work
 * still happens lazily at its next operation or balance read.
 */
export async function sweepOnce(
  ledger: RedisLedger,
  publisher: Publisher,
  now = Date.now(),
  onAccountError?: SweepAccountError,
  hooks: SweepHooks = {},
): Promise<number> {
  const due = await ledger.deadlines.due(now, BATCH);
  for (const { accountId, score } of due) {
    try {
      await sweepAccount(ledger, publisher, accountId, score, hooks);
    } catch (err) {
      onAccountError?.(accountId, err);
      // Best effort: if even this fails (Redis gone), the entry stays and the next pass retries.
      await ledger.deadlines.move(accountId, score, String(now + SWEEP_RETRY_MS)).catch(() => false);
    }
  }
  return due.length;
}

/**
 * Runs sweepOnce every `intervalMs` so that expiries are pushed like any other change even when
 * no event touches the account. Several nodes may sweep at once: touching is idempotent.
 */
export function startSweeper(
  ledger: RedisLedger,
  publisher: Publisher,
  intervalMs: number,
  onError: (err: unknown) => void,
  onAccountError?: SweepAccountError,
  hooks: SweepHooks = {},
): Sweeper {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = sweepOnce(ledger, publisher, Date.now(), onAccountError, hooks)
      .then(() => undefined, onError)
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
