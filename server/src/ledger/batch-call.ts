// One apply-events-4a call (see its header): what is the same for every event of an account (its
// keys, its prefix) is sent once per account, each event only its own arguments (event-batch.ts
// eventArgs). Redis spends ~0.16 µs per argument and node-redis writes each as its own chunk
// (docs/performance.md "Lean call layout (eighth session)").
import type { AccountKeys } from "./keys.js";
import type { EventArgs } from "./event-batch.js";

/** An event as added to a call: its arguments and what the caller wants back with its answer. */
export interface CallEvent<T> {
  sent: EventArgs;
  item: T;
}

/** The call's keys and arguments, and the added items in the order the script answers them. */
export interface BuiltCall<T> {
  keys: string[];
  args: string[];
  order: T[];
}

/**
 * Builds one call. The script answers each account's events together, accounts in the order they
 * were first added and each account's events in the order added: events of different accounts share
 * no state, so this applies them exactly as the order added would.
 */
export class BatchCall<T> {
  private readonly accounts = new Map<string, { keys: AccountKeys; events: CallEvent<T>[] }>();

  /** Adds an event of the account whose keys are `keys`. */
  add(keys: AccountKeys, sent: EventArgs, item: T): void {
    const account = this.accounts.get(keys.account);
    if (account) account.events.push({ sent, item });
    else this.accounts.set(keys.account, { keys, events: [{ sent, item }] });
  }

  /** The call, given the ledger retention argument (retention ms, "@<now>" under a virtual clock) and the price book's version. */
  build(ledgerRetention: string, priceBookVersion: string): BuiltCall<T> {
    const keys: string[] = [];
    const tail: string[] = [];
    const order: T[] = [];
    let idempotencyMs = 0;
    for (const { keys: k, events } of this.accounts.values()) {
      keys.push(k.account, k.holds, k.log, k.burn);
      tail.push(k.prefix, String(events.length));
      for (const { sent, item } of events) {
        for (const a of sent.args) tail.push(a);
        order.push(item);
        // The longest: an eventId remembered a few minutes longer than it must be costs nothing.
        if (sent.idempotencyMs > idempotencyMs) idempotencyMs = sent.idempotencyMs;
      }
    }
    return { keys, args: [ledgerRetention, priceBookVersion, String(idempotencyMs), ...tail], order };
  }
}
