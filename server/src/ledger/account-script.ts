import { CreditmeterError, type Balance, type SessionSnapshot } from "@creditmeter/shared";
import type { LedgerOptions } from "./ledger-options.js";
import type { AccountKeys } from "./keys.js";
import type { LedgerOutcome } from "./outcome.js";
import { buildOutcome } from "./outcome-builder.js";
import { ScriptReply, accountSide, toSession } from "./reply.js";
import type { DeadlineIndex } from "./deadline-index.js";
import type { ScriptName, ScriptRunner } from "./scripts.js";
import { unknownAccount } from "./trail.js";

/** An outcome that carries the account's balance (every account script but a session's answers one). */
export type WithBalance = LedgerOutcome & { balance: Balance };

/**
 * One call of an account script (every script but apply-events-4a and the trail's): its first
 * keys and arguments, its reply parsed, and what every such call tells the hooks (an audit, a
 * moved deadline). RedisLedger and OpsWrites share it.
 */
export class AccountScript {
  constructor(
    private readonly scripts: ScriptRunner,
    private readonly opts: LedgerOptions,
    private readonly deadlines: DeadlineIndex,
  ) {}

  /** The retention argument of every script, carrying the virtual clock when a test set one. */
  get retentionMs(): string {
    const retention = String(this.opts.ledgerRetentionDays * 86_400_000);
    const clock = this.opts.virtualClock;
    return clock ? `${retention}@${Math.trunc(clock())}` : retention;
  }

  /** Runs `name` on the account of `k` (its account, holds and log keys first) and parses its reply. */
  async call(name: ScriptName, k: AccountKeys, extraKeys: string[], args: (string | number)[]): Promise<ScriptReply> {
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
}

/** Throws the CreditmeterError a refused reply means (`unknown_account`, `conflict` on `conflictWhat`); returns otherwise. */
export function throwIfRefused(reply: ScriptReply, accountId: string, conflictWhat?: string): void {
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

/** The outcome of a reply that must carry the account (a script bug when it does not). */
export function withBalance(accountId: string, reply: ScriptReply): WithBalance {
  const outcome = buildOutcome(accountId, reply);
  if (!outcome.balance) throw new Error("ledger script returned no account");
  return { ...outcome, balance: outcome.balance };
}

/** The snapshot (without `last`) of the session a script answered for. */
export function sessionOf(accountId: string, sessionId: string, reply: ScriptReply): SessionSnapshot {
  if (!reply.session || !reply.account) throw new Error("ledger script returned no session");
  const { last: _last, ...snapshot } = toSession(
    accountId,
    sessionId,
    reply.session,
    accountSide(reply.account, reply.burn),
  );
  return snapshot;
}
