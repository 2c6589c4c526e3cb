import { createHash } from "node:crypto";

const DAY_MS = 86_400_000;

/**
 * The gap before retry n (n = 1 after the first failed attempt): base × 2^(n−1), lengthened by a
 * jitter of 0–20 % so that receivers coming back from an outage are not hit all at once. The
 * jitter is derived from the delivery id and n, so the gap recorded as `nextAttemptAt` and the one
 * BullMQ waits are the same number. Each gap is at least 2 / 1.2 ≈ 1.67× the one before (≥ 1.5×).
 */
export function retryDelayMs(baseMs: number, n: number, deliveryId: string): number {
  const digest = createHash("sha256").update(`${deliveryId}.${n}`).digest();
  const jitter = digest.readUInt16BE(0) / 65_536 / 5;
  return Math.round(baseMs * 2 ** (n - 1) * (1 + jitter));
}

/**
 * Attempts in all (the first plus retries) so that the retries span at least 24 h without the
 * jitter: the fewest r with base × (2^r − 1) ≥ 24 h. With the default base of 30 s: 12 retries over
 * about 34 h, 13 attempts.
 */
export function attemptsFor(baseMs: number): number {
  const retries = Math.ceil(Math.log2(DAY_MS / baseMs + 1));
  return retries + 1;
}
