/**
 * The reference model of the whole ledger (CONTRACT §2–§4), the simulator's oracle: every
 * operation the real ledger is given, the model is given too, and it says what must come back.
 */
import type { StageEvent } from "@creditmeter/shared";
import type { Flags } from "../flags.js";
import type { Coverage } from "../coverage.js";
import type { Plan } from "./prices.js";
import { applyEvent, type EventRecord, type ModelResult } from "./events.js";
import { dismiss, evaluate, showing, type Level } from "./alerts.js";
import {
  available,
  catchUp,
  draw,
  entry,
  held,
  newAccount,
  reachBudget,
  remaining,
  repay,
  session,
  shrinkHolds,
  type ModelAccount,
  type ModelSession,
} from "./state.js";

/** A session's budget as the snapshot shows it (CONTRACT §10). */
export interface ModelBudget {
  credits: number;
  remaining: number;
  reachedAt: string | null;
}

/** The balance fields the model predicts (CONTRACT §4; `seq` is only checked never to go back). */
export interface ModelBalance {
  accountId: string;
  plan: Plan;
  available: number;
  used: number;
  held: number;
  overdraft: number;
  usagePercent: number;
  cycle: { cycleId: string; start: string; end: string } | null;
  buckets: {
    id: string;
    kind: "subscription" | "pack" | "adjustment";
    granted: number;
    remaining: number;
    expiresAt: string | null;
  }[];
  alert: { level: Level; threshold: number; dismissed: boolean } | null;
}

/** An alert raised by a change (CONTRACT §6 `balance:alert`, without its time). */
export interface RaisedAlert {
  accountId: string;
  level: Level;
  threshold: number;
  available: number;
}

export type GrantAnswer = ModelBalance | { error: string };

const iso = (ms: number): string => new Date(ms).toISOString();

export class Model {
  readonly accounts = new Map<string, ModelAccount>();
  /** Idempotency records per account (an eventId is remembered per account, CONTRACT §2). */
  private readonly records = new Map<string, Map<string, EventRecord>>();
  /** Grants by "<kind>:<accountId>:<id>": the body first posted and the answer it got. */
  private readonly grants = new Map<string, { body: string; answer: ModelBalance }>();
  /** Whether the last grant changed the ledger (not a repeat, conflict or unknown account). */
  lastGrantApplied = false;
  /** The alerts the last operation raised, in order (per event for a batch). */
  raised: (RaisedAlert | null)[] = [];
  /** The session whose budget the last operation used up, per event for a batch (CONTRACT §10). */
  reached: (string | null)[] = [];

  /** Looks at the alerts after a change; records what it raised. */
  private alerts(a: ModelAccount): RaisedAlert | null {
    const av = available(a);
    const r = evaluate(a.alerts, av, a.used + held(a) + av);
    if (r) this.cov.count(`alert ${r.level}`);
    return r ? { accountId: a.id, ...r } : null;
  }

  constructor(
    private readonly flags: Flags,
    private readonly cov: Coverage,
    private readonly holdTtlMs: number,
  ) {}

  private get expiryKind(): "expiry" | "release" {
    return this.flags.expiryEntries ? "expiry" : "release";
  }

  balance(a: ModelAccount): ModelBalance {
    const av = available(a);
    const h = held(a);
    const total = a.used + h + av;
    const buckets: ModelBalance["buckets"] = [];
    if (a.cycle)
      buckets.push({
        id: a.cycle.id,
        kind: "subscription",
        granted: a.cycle.granted,
        remaining: a.subRem,
        expiresAt: iso(a.cycle.end),
      });
    for (const b of a.others)
      buckets.push({ id: b.id, kind: b.kind, granted: b.granted, remaining: b.remaining, expiresAt: null });
    return {
      accountId: a.id,
      plan: a.plan,
      available: av,
      used: a.used,
      held: h,
      overdraft: a.overdraft,
      usagePercent: total === 0 ? 0 : Math.round((100 * a.used) / total),
      cycle: a.cycle ? { cycleId: a.cycle.id, start: iso(a.cycle.start), end: iso(a.cycle.end) } : null,
      buckets,
      alert: showing(a.alerts, total),
    };
  }

  /** PUT /v1/accounts/:id: creates the account or changes its plan. */
  putAccount(accountId: string, plan: Plan, now: number): ModelBalance {
    let a = this.accounts.get(accountId);
    if (!a) {
      a = newAccount(accountId, plan, now);
      this.accounts.set(accountId, a);
      this.records.set(accountId, new Map());
    }
    catchUp(a, now, this.expiryKind, this.cov);
    a.plan = plan;
    this.raised = [this.alerts(a)];
    return this.balance(a);
  }

  /** A balance read: time-due work first. */
  read(accountId: string, now: number): ModelBalance | { error: string } {
    const a = this.accounts.get(accountId);
    if (!a) return { error: "unknown_account" };
    catchUp(a, now, this.expiryKind, this.cov);
    this.raised = [this.alerts(a)];
    return this.balance(a);
  }

  /** Dismisses the showing alert of a level (time-due work and alerts looked at first). */
  dismissAlert(accountId: string, level: Level, now: number): ModelBalance | { error: string } {
    const a = this.accounts.get(accountId);
    if (!a) return { error: "unknown_account" };
    catchUp(a, now, this.expiryKind, this.cov);
    this.raised = [this.alerts(a)];
    const av = available(a);
    dismiss(a.alerts, level, a.used + held(a) + av);
    return this.balance(a);
  }

  /**
   * The common path of the three grants: unknown account, idempotent repeat, conflict; then
   * `apply` on the caught-up account, and the answer remembered for a repeat.
   */
  private grant(
    kind: string,
    accountId: string,
    id: string,
    body: object,
    now: number,
    apply: (a: ModelAccount) => { error: string } | undefined,
  ): GrantAnswer {
    this.lastGrantApplied = false;
    this.raised = [null];
    const a = this.accounts.get(accountId);
    if (!a) {
      this.cov.count("unknown account");
      return { error: "unknown_account" };
    }
    const key = `${kind}:${accountId}:${id}`;
    const text = JSON.stringify(body);
    const first = this.grants.get(key);
    if (first) {
      if (first.body !== text) {
        this.cov.count("grant conflict");
        return { error: "conflict" };
      }
      this.cov.count("grant repeat");
      // v1 answered the balance as it stood, without catching up with time.
      return this.flags.grantRepeatFirstAnswer ? first.answer : this.balance(a);
    }
    const refused = apply(a);
    if (refused) return refused;
    this.raised = [this.alerts(a)];
    const answer = this.balance(a);
    this.grants.set(key, { body: text, answer });
    this.lastGrantApplied = true;
    return answer;
  }

  private credit(a: ModelAccount, credits: number): number {
    if (a.overdraft > 0) this.cov.count("overdraft repaid");
    return repay(a, credits);
  }

  /** POST …/cycles (CONTRACT §3). */
  startCycle(
    accountId: string,
    c: { cycleId: string; credits: number; start: number; end: number },
    now: number,
  ): GrantAnswer {
    return this.grant("cycle", accountId, c.cycleId, { credits: c.credits, end: c.end, start: c.start }, now, (a) => {
      if (a.cycle && c.start <= a.cycle.start) {
        this.cov.count("late cycle");
        if (this.flags.lateCycleConflict) return { error: "conflict" };
      }
      catchUp(a, now, this.expiryKind, this.cov);
      if (a.subRem > 0) {
        const gone = a.subRem;
        a.subRem = 0;
        entry(a, now, "forfeit", gone);
        this.cov.count("forfeit");
      }
      a.cycle = { id: c.cycleId, start: c.start, end: c.end, granted: c.credits };
      a.subRem = this.credit(a, c.credits);
      a.used = c.start <= now ? a.charges.filter((x) => x.at >= c.start).reduce((s, x) => s + x.amount, 0) : 0;
      entry(a, now, "grant", c.credits);
      catchUp(a, now, this.expiryKind, this.cov);
      shrinkHolds(a, this.cov);
      return undefined;
    });
  }

  /** POST …/packs (CONTRACT §3). */
  addPack(accountId: string, packId: string, credits: number, now: number): GrantAnswer {
    return this.grant("pack", accountId, packId, { credits, packId }, now, (a) => {
      catchUp(a, now, this.expiryKind, this.cov);
      const left = this.credit(a, credits);
      if (left > 0) a.others.push({ id: packId, kind: "pack", granted: credits, remaining: left });
      entry(a, now, "grant", credits);
      return undefined;
    });
  }

  /** POST …/adjustments (CONTRACT §3): a refund is a bucket, a debit is taken like a charge. */
  adjust(accountId: string, adjustmentId: string, credits: number, reason: string, now: number): GrantAnswer {
    return this.grant("adjustment", accountId, adjustmentId, { adjustmentId, credits, reason }, now, (a) => {
      catchUp(a, now, this.expiryKind, this.cov);
      if (credits > 0) {
        const left = this.credit(a, credits);
        if (left > 0) a.others.push({ id: adjustmentId, kind: "adjustment", granted: credits, remaining: left });
      } else {
        this.cov.count("debit adjustment");
        const debit = -credits;
        const drawn = draw(a, Math.min(debit, remaining(a)));
        if (drawn < debit) this.cov.count("overdraft");
        a.overdraft += debit - drawn;
        shrinkHolds(a, this.cov);
      }
      entry(a, now, "adjustment", this.flags.positiveAdjustmentAmounts ? Math.abs(credits) : credits);
      return undefined;
    });
  }

  /** The session as the ledger shows it (CONTRACT §4, §10 `budget`), without `seq`. */
  sessionView(s: ModelSession): {
    used: number;
    reserved: number;
    byStage: ModelSession["byStage"];
    budget: ModelBudget | null;
  } {
    const b = s.budget;
    const budget = b
      ? {
          credits: b.credits,
          remaining: Math.max(0, b.credits - s.used - s.reserved),
          reachedAt: b.reachedAt === null ? null : iso(b.reachedAt),
        }
      : null;
    return { used: s.used, reserved: s.reserved, byStage: s.byStage, budget };
  }

  /**
   * PUT …/sessions/:sessionId/budget (CONTRACT §10), time-due work first. Setting the budget the
   * session already has changes nothing; another one re-arms `budget_reached`, which a budget
   * already used up reaches at once. `reached` says whether this call reached it.
   */
  setBudget(
    accountId: string,
    sessionId: string,
    credits: number | null,
    now: number,
  ): { error: string } | ModelSession {
    this.reached = [null];
    const a = this.accounts.get(accountId);
    if (!a) return { error: "unknown_account" };
    catchUp(a, now, this.expiryKind, this.cov);
    this.raised = [this.alerts(a)];
    const s = session(a, sessionId);
    if ((s.budget?.credits ?? null) === credits) {
      this.cov.count("budget set again");
      return s;
    }
    this.cov.count(credits === null ? "budget removed" : "budget set");
    s.budget = credits === null ? null : { credits, reachedAt: null };
    if (reachBudget(s, now)) {
      this.cov.count("budget reached by its set");
      this.reached = [sessionId];
    }
    return s;
  }

  /** A batch of stage events, in order, as the consumer hands them to the ledger. */
  applyEvents(events: StageEvent[], now: number): (ModelResult | { error: string; field?: string })[] {
    const caughtUp = new Set<string>();
    this.raised = [];
    this.reached = [];
    return events.map((e) => {
      const a = this.accounts.get(e.accountId);
      const records = this.records.get(e.accountId);
      if (!a || !records) {
        this.cov.count("unknown account");
        this.raised.push(null);
        this.reached.push(null);
        return { error: "unknown_account" };
      }
      if (!caughtUp.has(a.id)) {
        catchUp(a, now, this.expiryKind, this.cov);
        caughtUp.add(a.id);
      }
      let reached: string | null = null;
      const r = applyEvent(a, records, e, now, this.holdTtlMs, this.flags, this.cov, (sid) => (reached = sid));
      this.reached.push(reached);
      // Repeats and refusals answer before the alerts are looked at; every other event after its change.
      this.raised.push("error" in r || r.status === "duplicate" ? null : this.alerts(a));
      return r;
    });
  }
}
