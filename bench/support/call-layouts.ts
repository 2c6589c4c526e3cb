// The event script's call in each layout the benches compare (bench only): this release's
// (apply-events-4a, ledger/batch-call.ts) and the one before it (apply-events-7n: seven keys and
// eighteen arguments per event, kept here so that script-ab.ts can run an older release's script
// on the same events). Both answer their events in the order `order` gives (indexes into `events`).
import { PLANS, chargeBasis, quoteCharge, quoteHold, type PriceBook, type StageEvent } from "@creditmeter/shared";
import { BatchCall } from "../../server/src/ledger/batch-call.js";
import { eventArgs } from "../../server/src/ledger/event-batch.js";
import { fingerprintArgument } from "../../server/src/ledger/fingerprint.js";
import type { AccountKeys } from "../../server/src/ledger/keys.js";

export interface LayoutOptions {
  priceBook: PriceBook;
  holdTtlSeconds: number;
  idempotencyRetentionSeconds: number;
}

/** A call's keys and arguments, and the batch's index of each event in the order of the answers. */
export interface LayoutCall {
  keys: string[];
  args: string[];
  order: number[];
}

/** The apply-events-4a call of `events` (what RedisLedger.applyEvents sends for one slot). */
export function call4a(
  events: StageEvent[],
  opts: LayoutOptions,
  keysOf: (accountId: string) => AccountKeys,
  ledgerRetention: string,
): LayoutCall {
  const call = new BatchCall<number>();
  events.forEach((e, i) => {
    const sent = eventArgs(e, opts);
    if (sent instanceof Error) throw sent;
    call.add(keysOf(e.accountId), sent, i);
  });
  const built = call.build(ledgerRetention, opts.priceBook.version);
  return { keys: built.keys, args: built.args, order: built.order };
}

const VERB = {
  "stage.started": "started",
  "stage.progress": "progress",
  "stage.completed": "completed",
  "stage.failed": "failed",
} as const;

/** The apply-events-7n call of `events` (the layout before 4a; `keysPerEvent` < 7 for older scripts still). */
export function call7n(
  events: StageEvent[],
  opts: LayoutOptions,
  keysOf: (accountId: string) => AccountKeys,
  ledgerRetention: string,
  keysPerEvent = 7,
): LayoutCall {
  const keys: string[] = [];
  const args: string[] = [ledgerRetention, opts.priceBook.version];
  for (const event of events) {
    const k = keysOf(event.accountId);
    const quote = event.type === "stage.completed" ? quoteCharge : quoteHold;
    const amounts: number[] = [];
    const rates: number[] = [];
    let units: number | null = null;
    for (const plan of PLANS) {
      if (event.type !== "stage.started" && event.type !== "stage.completed") {
        amounts.push(0);
        rates.push(0);
        continue;
      }
      const q = quote(opts.priceBook, event, plan);
      const basis = chargeBasis(opts.priceBook, event, plan);
      if (!q.ok || !basis.ok) throw new Error(`invalid event ${event.eventId}`);
      amounts.push(q.credits);
      rates.push(basis.rate);
      units = basis.units;
    }
    const entry = opts.priceBook.actions[event.action];
    const idempotencyMs =
      opts.idempotencyRetentionSeconds * 1000 + Math.max(0, Date.parse(event.occurredAt) - Date.now());
    const all = [
      k.account,
      k.holds,
      k.log,
      k.session(event.sessionId),
      k.step(event.sessionId, event.stepId),
      k.event(event.eventId),
      k.burn,
    ];
    keys.push(...all.slice(0, keysPerEvent));
    args.push(
      ...[
        k.prefix,
        idempotencyMs,
        event.eventId,
        VERB[event.type],
        event.sessionId,
        event.stepId,
        event.action,
        entry.stage,
        event.model ?? "",
        ...amounts,
        (entry.holdTtlSeconds ?? opts.holdTtlSeconds) * 1000,
        fingerprintArgument(event),
        units ?? "",
        ...rates,
      ].map(String),
    );
  }
  return { keys, args, order: events.map((_, i) => i) };
}
