import type { AppRedis } from "../redis/redis-client.js";
import { accountKeys, deadlinesKey } from "./keys.js";
import type { ScriptRunner } from "./scripts.js";

/**
 * The deadlines index (a sorted set of accounts by their next time-due work: a hold's expiry, a
 * cycle's end) that the sweeper walks. Only a hint: every read applies due work itself, so an entry
 * missing for a moment delays a push, never changes a balance.
 */
export class DeadlineIndex {
  constructor(
    private readonly redis: AppRedis,
    private readonly namespace: string,
    private readonly scripts: ScriptRunner,
    private readonly onError?: (err: unknown) => void,
  ) {}

  /** Adds the account's deadline, keeping an earlier one; fire and forget (a failure goes to onError). */
  offer(accountId: string, deadline: string): void {
    this.redis
      .zAdd(deadlinesKey(this.namespace), { score: Number(deadline), value: accountId }, { LT: true })
      .catch((err: unknown) => this.onError?.(err));
  }

  /** Moves the account's entry unless it changed since `seen` was read (see deadline-cas-1.lua). */
  async move(accountId: string, seen: number, next: string): Promise<boolean> {
    const reply = await this.scripts.run("deadline-cas-1", [deadlinesKey(this.namespace)], [accountId, seen, next]);
    return reply === "1";
  }

  /** Accounts whose deadline has passed, with the score read. */
  async due(now: number, limit: number): Promise<{ accountId: string; score: number }[]> {
    const rows = await this.redis.zRangeWithScores(deadlinesKey(this.namespace), 0, now, {
      BY: "SCORE",
      LIMIT: { offset: 0, count: limit },
    });
    return rows.map((r) => ({ accountId: r.value, score: r.score }));
  }

  /** The account's own next deadline ("" for none), read after a CAS removal to close the race. */
  async ofAccount(accountId: string): Promise<string> {
    return (await this.redis.hGet(accountKeys(this.namespace, accountId).account, "next_deadline")) ?? "";
  }
}
