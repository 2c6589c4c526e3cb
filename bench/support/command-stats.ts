import type { RedisClientType } from "redis";

/** Redis's own time per command (INFO commandstats) as command → { calls, usec }. */
export type CommandStats = Map<string, { calls: number; usec: number }>;

/** Reads INFO commandstats. */
export async function commandStats(client: Pick<RedisClientType, "info">): Promise<CommandStats> {
  const out: CommandStats = new Map();
  for (const m of (await client.info("commandstats")).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    out.set(m[1] ?? "", { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

/** What Redis spent per job between two readings, by command, most expensive first. */
export function perJob(
  before: CommandStats,
  after: CommandStats,
  jobs: number,
): { command: string; callsPerJob: number; usecPerJob: number }[] {
  return [...after]
    .map(([command, a]) => {
      const b = before.get(command) ?? { calls: 0, usec: 0 };
      return { command, callsPerJob: (a.calls - b.calls) / jobs, usecPerJob: (a.usec - b.usec) / jobs };
    })
    .filter((x) => x.callsPerJob > 0)
    .sort((x, y) => y.usecPerJob - x.usecPerJob);
}

/** Redis's µs in EVALSHA since the last CONFIG RESETSTAT (the scripts and every call inside them). */
export async function evalshaMicros(client: Pick<RedisClientType, "info">): Promise<number> {
  return (await commandStats(client)).get("evalsha")?.usec ?? NaN;
}

/**
 * Redis's µs in the ledger's scripts since the last CONFIG RESETSTAT, however they ran: FCALL
 * (Redis Functions), EVALSHA, or EVAL after a NOSCRIPT (a one-off FUNCTION LOAD is not counted).
 */
export async function scriptMicros(client: Pick<RedisClientType, "info">): Promise<number> {
  const stats = await commandStats(client);
  return ["fcall", "evalsha", "eval"].reduce((sum, c) => sum + (stats.get(c)?.usec ?? 0), 0);
}
