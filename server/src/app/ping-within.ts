/**
 * True when Redis answers PING within `timeoutMs`. `isReady` alone stays true while a frozen
 * Redis (paused, partitioned without a reset) keeps the TCP connection open, so readiness asks.
 */
export async function pingWithin(redis: { ping(): Promise<string> }, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const answer = redis.ping().then(
    (pong) => pong === "PONG",
    () => false,
  );
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}
