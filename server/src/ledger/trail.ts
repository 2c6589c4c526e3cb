import { CreditmeterError, type LedgerPage, type LedgerQuery, type Usage, type UsageQuery } from "@creditmeter/shared";
import type { AppRedis } from "../redis/redis-client.js";
import type { ArchiveReads } from "./api.js";
import { accountKeys } from "./keys.js";
import { readLedgerPage, readUsage, usageWindow } from "./reads.js";
import type { ScriptRunner } from "./scripts.js";

/** The `unknown_account` error every ledger call answers for an account that does not exist. */
export function unknownAccount(accountId: string): CreditmeterError {
  return new CreditmeterError("unknown_account", `unknown_account: accountId: no account "${accountId}"`, "accountId");
}

/** What a read answers that needs entries trimmed into the history archive when this process has none (503). */
export function trimmedWithoutArchive(): CreditmeterError {
  return new CreditmeterError(
    "unavailable",
    "unavailable: this trail was trimmed into the history archive, and no CREDITMETER_DATABASE_URL is set",
  );
}

/**
 * An account's audit trail as the API reads it (CONTRACT §4): from Redis's hot trail, or, with
 * history in PostgreSQL, from the archive, which answers across the trim boundary (docs/history.md).
 */
export class AuditTrail {
  constructor(
    private readonly redis: AppRedis,
    private readonly namespace: string,
    private readonly scripts: ScriptRunner,
    private readonly archive?: ArchiveReads,
  ) {}

  /** Usage totals grouped for the detailed usage page. */
  async usage(accountId: string, query: UsageQuery): Promise<Usage> {
    const k = await this.requireAccount(accountId);
    // With history in PostgreSQL the trail may be trimmed: the archive answers below it.
    if (this.archive) return this.archive.usage(k, query);
    const usage = await readUsage(this.redis, k.log, query);
    await this.requireUntrimmed(accountId, usageWindow(query).from);
    return usage;
  }

  /** The audit trail, newest first, one page at a time. */
  async ledgerPage(accountId: string, query: LedgerQuery): Promise<LedgerPage> {
    const k = await this.requireAccount(accountId);
    if (this.archive) return this.archive.ledgerPage(k, query);
    const page = await readLedgerPage(this.redis, k.log, query);
    // A page that reached the trail's first entry may be missing the archived ones below it.
    if (page.nextCursor === null) await this.requireUntrimmed(accountId, Number.NEGATIVE_INFINITY);
    return page;
  }

  /**
   * Removes the trail's entries below `boundMs` (they must be in the archive: history/trim.ts
   * decides the bound) and records the marker in the same script. Returns how many went.
   */
  async trim(accountId: string, boundMs: number): Promise<number> {
    const k = accountKeys(this.namespace, accountId);
    return Number(await this.scripts.run("trim-log-2", [k.log, k.trimmed], [boundMs]));
  }

  /**
   * Without the archive, a read reaching below the trail's trim marker (set by a process that had
   * CREDITMETER_DATABASE_URL) would answer short: 503 unavailable instead, as start-cycle does.
   * Checked after the read, so a trim during it is seen too.
   */
  private async requireUntrimmed(accountId: string, fromMs: number): Promise<void> {
    const trimmed = Number((await this.redis.get(accountKeys(this.namespace, accountId).trimmed)) ?? 0);
    if (trimmed > 0 && fromMs < trimmed) throw trimmedWithoutArchive();
  }

  private async requireAccount(accountId: string): Promise<ReturnType<typeof accountKeys>> {
    const k = accountKeys(this.namespace, accountId);
    if (!(await this.redis.exists(k.account))) throw unknownAccount(accountId);
    return k;
  }
}
