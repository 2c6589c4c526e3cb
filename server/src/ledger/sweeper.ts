import type { Publisher } from "./api.js";
import type { RedisLedger } from "./redis-ledger.js";

export interface Sweeper {
  stop(): Promise<void>;
}

const BATCH = 200;

/** One pass: applies every due deadline (hold expiry, cycle end) and pushes what changed. */
export async function sweepOnce(ledger: RedisLedger, publisher: Publisher, now = Date.now()): Promise<number> {
  const due = await ledger.dueAccounts(now, BATCH);
  for (const { accountId, score } of due) {
    try {
      const outcome = await ledger.touch(accountId);
      if (outcome.changed) publisher.publish(outcome);
    } catch (err) {
      if (!(err instanceof Error && "code" in err && err.code === "unknown_account")) throw err;
    }
    // Drop the entry only if nobody moved it meanwhile, then re-offer the account's own next
    // deadline: a hold placed between the two steps is never lost from the index.
    await ledger.moveDeadline(accountId, score, "");
    const next = await ledger.accountDeadline(accountId);
    if (next) ledger.offerDeadlineFor(accountId, next);
  }
  return due.length;
}

/**
 * Runs sweepOnce every `intervalMs` so that expiries are pushed like any other change even when
 * no event touches the account. Several nodes may sweep at once: touching is idempotent.
 */
export function startSweeper(ledger: RedisLedger, publisher: Publisher, intervalMs: number, onError: (err: unknown) => void): Sweeper {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = sweepOnce(ledger, publisher)
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
