/**
 * Runs one history against the real ledger (the production Lua scripts on a real redis-server,
 * with the virtual clock) and the reference model side by side, comparing after every operation.
 */
import { randomUUID } from "node:crypto";
import type { RedisClientType } from "redis";
import {
  CreditmeterError,
  DEFAULT_PRICE_BOOK,
  type Balance,
  type BalanceAlert,
  type LedgerEntry,
  type SessionSnapshot,
} from "@creditmeter/shared";
import { RedisLedger } from "@creditmeter/server";
import type { Flags } from "./flags.js";
import { Coverage } from "./coverage.js";
import { Mismatch, expectEntries, expectSame } from "./compare.js";
import { Model, type ModelBalance } from "./model/model.js";
import { checkBalance, checkTrail, newSeen, type Seen } from "./invariants.js";
import { describeOp, type History, type Op } from "./ops.js";

export interface SimEnv {
  redis: RedisClientType;
  flags: Flags;
  /** Kills redis-server and starts it again on its AOF; absent where the run does not own it. */
  restart?: () => Promise<void>;
}

export interface SimFailure {
  seed: number;
  /** Index of the failing operation in the history. */
  step: number;
  op: string;
  check: string;
  expected: unknown;
  actual: unknown;
}

export interface RunResult {
  failure: SimFailure | null;
  coverage: Coverage;
  ops: number;
}

const codeOf = (err: unknown): string =>
  err instanceof CreditmeterError ? err.code : `error: ${err instanceof Error ? err.message : String(err)}`;

/** A refused event as the model states it: the code, and for a conflict the field it names. */
function refusal(err: Error): { error: string; field?: string } {
  return err instanceof CreditmeterError && err.code === "conflict"
    ? { error: "conflict", field: err.field ?? "(none)" }
    : { error: codeOf(err) };
}

/** An alert as the model states it (without its time). */
function raisedOf(
  a: BalanceAlert | null,
): { accountId: string; level: string; threshold: number; available: number } | null {
  return a ? { accountId: a.accountId, level: a.level, threshold: a.threshold, available: a.available } : null;
}

/** The session fields the model predicts (all but ids and `seq`). */
function sessionFields(s: SessionSnapshot): Pick<SessionSnapshot, "used" | "reserved" | "byStage" | "budget"> {
  return { used: s.used, reserved: s.reserved, byStage: s.byStage, budget: s.budget };
}

/** The balance fields the model predicts. */
function comparable(b: Balance): ModelBalance {
  const { seq: _seq, ...rest } = b;
  return rest;
}

function newerThan(id: string, than: string | null): boolean {
  if (than === null) return true;
  const [a1 = 0, a2 = 0] = id.split("-").map(Number);
  const [b1 = 0, b2 = 0] = than.split("-").map(Number);
  return a1 > b1 || (a1 === b1 && a2 > b2);
}

class Runner {
  now: number;
  readonly cov = new Coverage();
  readonly model: Model;
  readonly ledger: RedisLedger;
  private readonly seen = new Map<string, Seen>();
  private readonly modelEntriesSeen = new Map<string, number>();

  constructor(
    readonly history: History,
    readonly env: SimEnv,
  ) {
    this.now = history.start;
    this.model = new Model(env.flags, this.cov, history.holdTtlSeconds * 1000);
    this.ledger = new RedisLedger({
      redis: env.redis,
      namespace: `sim-${history.seed}-${randomUUID()}`,
      priceBook: DEFAULT_PRICE_BOOK,
      holdTtlSeconds: history.holdTtlSeconds,
      idempotencyRetentionSeconds: 30 * 86_400,
      ledgerRetentionDays: 400,
      virtualClock: () => this.now,
      onError: () => undefined,
    });
  }

  private seenOf(accountId: string): Seen {
    let s = this.seen.get(accountId);
    if (!s) {
      s = newSeen();
      this.seen.set(accountId, s);
    }
    return s;
  }

  /** A grant: real answer (balance or error code) against the model's. */
  private async grant(
    op: Op & { accountId: string },
    real: () => Promise<{ balance: Balance; alert: BalanceAlert | null }>,
    model: () => ModelBalance | { error: string },
  ): Promise<void> {
    const expected = model();
    let alert: BalanceAlert | null = null;
    const actual = await real().then(
      (r) => {
        alert = r.alert;
        return comparable(r.balance);
      },
      (err: unknown) => ({ error: codeOf(err) }),
    );
    expectSame(`${op.op} answer`, expected, actual);
    expectSame(`${op.op} alert raised`, this.model.raised[0] ?? null, raisedOf(alert));
    if (op.op === "adjust" && this.model.lastGrantApplied) {
      const s = this.seenOf(op.accountId);
      if (op.credits > 0) s.adjustments.refunds += op.credits;
      else s.adjustments.debits -= op.credits;
    }
  }

  async apply(op: Op): Promise<string[]> {
    switch (op.op) {
      case "clock":
        this.now += op.ms;
        return [];
      case "restart":
        if (!this.env.restart) return [];
        await this.env.restart();
        this.cov.count("restart");
        return [];
      case "account": {
        const expected = this.model.putAccount(op.accountId, op.plan, this.now);
        const out = await this.ledger.putAccount(op.accountId, { plan: op.plan });
        expectSame("account answer", expected, comparable(out.balance));
        expectSame("account alert raised", this.model.raised[0] ?? null, raisedOf(out.alert));
        return [op.accountId];
      }
      case "dismiss": {
        const expected = this.model.dismissAlert(op.accountId, op.level, this.now);
        const out = await this.ledger.dismissAlert(op.accountId, op.level);
        expectSame("dismiss answer", expected, comparable(out.balance));
        expectSame("dismiss alert raised", this.model.raised[0] ?? null, raisedOf(out.alert));
        return [op.accountId];
      }
      case "budget": {
        const expected = this.model.setBudget(op.accountId, op.sessionId, op.credits, this.now);
        const actual = await this.ledger.setBudget(op.accountId, op.sessionId, op.credits).then(
          (out) => out,
          (err: unknown) => ({ error: codeOf(err) }),
        );
        if ("error" in expected || "error" in actual) {
          expectSame("budget answer", expected, "error" in actual ? actual : sessionFields(actual.session));
          return [];
        }
        expectSame("budget answer", this.model.sessionView(expected), sessionFields(actual.session));
        expectSame("budget alert raised", this.model.raised[0] ?? null, raisedOf(actual.alert));
        expectSame("budget reached by the set", this.model.reached[0] ?? null, actual.budgetReached?.sessionId ?? null);
        return [op.accountId];
      }
      case "read": {
        const expected = this.model.read(op.accountId, this.now);
        const actual = await this.ledger
          .balance(op.accountId)
          .then(comparable, (err: unknown) => ({ error: codeOf(err) }));
        expectSame("balance read", expected, actual);
        return [op.accountId];
      }
      case "cycle": {
        const body = {
          cycleId: op.cycleId,
          credits: op.credits,
          start: new Date(op.start).toISOString(),
          end: new Date(op.end).toISOString(),
        };
        await this.grant(
          op,
          () => this.ledger.startCycle(op.accountId, body),
          () => this.model.startCycle(op.accountId, op, this.now),
        );
        return [op.accountId];
      }
      case "pack":
        await this.grant(
          op,
          () => this.ledger.addPack(op.accountId, { packId: op.packId, credits: op.credits }),
          () => this.model.addPack(op.accountId, op.packId, op.credits, this.now),
        );
        return [op.accountId];
      case "adjust": {
        const body = { adjustmentId: op.adjustmentId, credits: op.credits, reason: op.reason };
        await this.grant(
          op,
          () => this.ledger.adjust(op.accountId, body),
          () => this.model.adjust(op.accountId, op.adjustmentId, op.credits, op.reason, this.now),
        );
        return [op.accountId];
      }
      case "batch":
        await this.batch(op.events);
        if (op.crash) {
          this.cov.count("crash replay");
          await this.batch(op.events);
        }
        return [...new Set(op.events.map((e) => e.accountId))];
    }
  }

  private async batch(events: (Op & { op: "batch" })["events"]): Promise<void> {
    for (const e of events) {
      const s = this.seenOf(e.accountId);
      if (!s.stepOf.has(e.eventId)) s.stepOf.set(e.eventId, `${e.sessionId}/${e.stepId}`);
    }
    const expected = this.model.applyEvents(events, this.now);
    const actual = await this.ledger.applyEvents(events);
    const balances = new Map<string, Balance>();
    actual.forEach((out, i) => {
      const e = events[i];
      const got = out instanceof Error ? refusal(out) : out.result;
      expectSame(`event ${i} (${e?.type ?? "?"} ${e?.eventId ?? "?"}) result`, expected[i], got);
      const raised = out instanceof Error ? null : raisedOf(out.alert);
      expectSame(`event ${i} (${e?.eventId ?? "?"}) alert raised`, this.model.raised[i] ?? null, raised);
      const reached = out instanceof Error ? null : (out.budgetReached?.sessionId ?? null);
      expectSame(`event ${i} (${e?.eventId ?? "?"}) budget reached`, this.model.reached[i] ?? null, reached);
      if (!(out instanceof Error) && out.balance) balances.set(out.accountId, out.balance);
    });
    for (const [accountId, b] of balances) {
      const m = this.model.accounts.get(accountId);
      if (m) expectSame(`balance of ${accountId} after the batch`, this.model.balance(m), comparable(b));
    }
  }

  /** After an operation: balance (read), sessions, new audit entries and the invariants. */
  async check(accountId: string): Promise<void> {
    const m = this.model.accounts.get(accountId);
    if (!m) return;
    const expected = this.model.read(accountId, this.now);
    const b = await this.ledger.balance(accountId);
    expectSame(`balance of ${accountId}`, expected, comparable(b));
    const seen = this.seenOf(accountId);
    checkBalance(b, seen);
    for (const [sid, ms] of m.sessions) {
      const real = await this.ledger.session(accountId, sid);
      expectSame(`session ${accountId}/${sid}`, this.model.sessionView(ms), sessionFields(real));
      const last = seen.sessionSeq.get(sid) ?? 0;
      if (real.seq < last) throw new Mismatch(`invariant: session ${sid} seq never decreases`, `>= ${last}`, real.seq);
      seen.sessionSeq.set(sid, real.seq);
    }
    const fresh = await this.newEntries(accountId, seen);
    const from = this.modelEntriesSeen.get(accountId) ?? 0;
    expectEntries(`ledger entries of ${accountId}`, m.entries.slice(from), fresh);
    this.modelEntriesSeen.set(accountId, m.entries.length);
    checkTrail(b, seen);
  }

  private async newEntries(accountId: string, seen: Seen): Promise<LedgerEntry[]> {
    const fresh: LedgerEntry[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.ledger.ledgerPage(accountId, { limit: 100, ...(cursor ? { cursor } : {}) });
      const newer = page.entries.filter((e) => newerThan(e.id, seen.lastEntryId));
      fresh.push(...newer);
      if (newer.length < page.entries.length || !page.nextCursor) break;
      cursor = page.nextCursor;
    }
    fresh.reverse();
    const last = fresh.at(-1);
    if (last) seen.lastEntryId = last.id;
    seen.entries.push(...fresh);
    return fresh;
  }
}

/** Runs a history; the first mismatch stops it and is returned with where it happened. */
export async function runHistory(history: History, env: SimEnv): Promise<RunResult> {
  const r = new Runner(history, env);
  for (let i = 0; i < history.ops.length; i++) {
    const op = history.ops[i] as Op;
    try {
      const touched = await r.apply(op);
      for (const accountId of touched) await r.check(accountId);
    } catch (err) {
      const m =
        err instanceof Mismatch
          ? err
          : new Mismatch(`exception: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, null, null);
      return {
        failure: {
          seed: history.seed,
          step: i,
          op: describeOp(op),
          check: m.check,
          expected: m.expected,
          actual: m.actual,
        },
        coverage: r.cov,
        ops: i + 1,
      };
    }
  }
  return { failure: null, coverage: r.cov, ops: history.ops.length };
}
