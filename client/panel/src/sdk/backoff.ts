/** Jittered exponential backoff, the same shape as socket.io-client's own reconnection delay. */
export function jitteredDelay(
  attempt: number,
  opts: { baseMs: number; maxMs: number; randomizationFactor: number },
  random: () => number = Math.random,
): number {
  const raw = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 20));
  const deviation = raw * opts.randomizationFactor * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(opts.maxMs, raw + deviation)));
}
