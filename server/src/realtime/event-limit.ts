import type { Socket } from "socket.io";
import type { AckError } from "@creditmeter/shared";

/** Per-socket budget of client events (CONTRACT §6 v1.1): a token bucket and a refusal cap. */
export interface EventLimitOptions {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: events a socket may send at once after a quiet spell. */
  burst: number;
  /** Refused events after which the socket is disconnected (it is flooding, not just eager). */
  refusalsBeforeDisconnect: number;
  /** Told once per socket it disconnects for flooding. */
  onFlood?: (socket: Socket, refused: number) => void;
}

/** A token bucket refilled continuously; `take` is O(1) and needs no timer. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token if there is one. */
  take(): boolean {
    const at = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((at - this.last) / 1000) * this.perSecond);
    this.last = at;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * A socket middleware: each event spends a token; without one the event's handler is not run and
 * its ack (if any) answers `{ ok: false, error: { code: "rate_limited" } }`. A socket refused
 * `refusalsBeforeDisconnect` times is disconnected: `alert:dismiss` alone costs a Lua write and an
 * account-wide broadcast per call, so an unbounded socket could load Redis and every panel.
 */
export function limitEvents(socket: Socket, opts: EventLimitOptions): void {
  const bucket = new TokenBucket(opts.perSecond, opts.burst);
  let refused = 0;
  const error: AckError = { code: "rate_limited", message: `rate_limited: more than ${opts.perSecond} events per second on this connection` };
  socket.use(function spendToken(packet, next) {
    if (bucket.take()) return next();
    refused += 1;
    const ack = packet[packet.length - 1];
    if (typeof ack === "function") (ack as (answer: { ok: false; error: AckError }) => void)({ ok: false, error });
    if (refused === opts.refusalsBeforeDisconnect) {
      opts.onFlood?.(socket, refused);
      socket.disconnect(true);
    }
  });
}
