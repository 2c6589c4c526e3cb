import type { Publisher } from "./api.js";
import type { RedisLedger } from "./redis-ledger.js";

export interface Sweeper {
  stop(): Promise<void>;
}

/** Called for each account whose sweep failed; the pass goes on with the next account. */
export type SweepAccountError = (accountId: string, err: unknown) => void;

const BATCH = 200;
/** How long an account whose sweep failed leaves the head of the index (it is retried then). */
export const SWEEP_RETRY_MS = 60_000;

function isUnknownAccount(err: unknown): boolean {
  return err instanceof Error && "code" in err && err.code === "unknown_account";
}

/** Applies one account's due work, pushes it, and moves its index entry to its next deadline. */
async function sweepAccount(
  ledger: RedisLedger,
  publisher: Publisher,
  accountId: string,
  score: number,
): Promise<void> {
  try {
    const outcome = await ledger.touch(accountId);
    if (outcome.changed) publisher.publish(outcome);
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
): Promise<number> {
  const due = await ledger.deadlines.due(now, BATCH);
  for (const { accountId, score } of due) {
    try {
      await sweepAccount(ledger, publisher, accountId, score);
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
): Sweeper {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = sweepOnce(ledger, publisher, Date.now(), onAccountError)
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
