// What Redis executed while a test's code ran, from MONITOR: commands and their arguments, those a
// script ran (FCALL, EVAL) told apart. Tests count work with it (entries a script may read), which
// a loaded machine does not change, where a time in µs does.
import { randomUUID } from "node:crypto";
import type { RedisClientType } from "redis";
import { waitFor } from "./redis-server.js";

/** One command Redis executed: its name (lower case) and arguments, and whether a script ran it. */
export interface ExecutedCommand {
  name: string;
  args: string[];
  fromScript: boolean;
}

/** `1796442411.334007 [0 lua] "XREVRANGE" "s" "+" "-" "COUNT" "1"` (a client shows its address instead of lua). */
const LINE = /^\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/s;
const ARG = /"((?:[^"\\]|\\.)*)"/g;

/** The command a MONITOR line shows, or null for a line of another shape. */
export function parseMonitorLine(line: string): ExecutedCommand | null {
  const m = LINE.exec(line);
  if (!m?.[1] || m[2] === undefined) return null;
  const words = [...m[2].matchAll(ARG)].map((a) => (a[1] ?? "").replace(/\\(["\\])/g, "$1"));
  const [name, ...args] = words;
  if (name === undefined) return null;
  return { name: name.toLowerCase(), args, fromScript: m[1] === "lua" };
}

/**
 * Runs `work` with MONITOR on (a connection of its own, duplicated from `redis`) and returns what
 * it returned and every command Redis executed meanwhile, in order. It ends at an ECHO of a marker
 * sent through `redis` after `work`, so commands `work` sent are all in, however late MONITOR's
 * lines arrive. The server must be the test's own: other clients' commands are in the list too.
 */
export async function recordCommands<T>(
  redis: RedisClientType,
  work: () => Promise<T>,
): Promise<{ result: T; commands: ExecutedCommand[] }> {
  const monitor = redis.duplicate();
  monitor.on("error", () => undefined);
  await monitor.connect();
  const commands: ExecutedCommand[] = [];
  const marker = `end-of-record-${randomUUID()}`;
  let ended = false;
  try {
    await monitor.monitor((line) => {
      const command = parseMonitorLine(String(line));
      if (!command || ended) return;
      if (command.name === "echo" && command.args[0] === marker) ended = true;
      else commands.push(command);
    });
    const result = await work();
    await redis.echo(marker);
    await waitFor(() => ended, 10_000, "MONITOR to show the end marker");
    return { result, commands };
  } finally {
    monitor.destroy();
  }
}

/**
 * The most stream entries the commands may have read from `key` (the COUNT of each XRANGE,
 * XREVRANGE or XREAD of it): Infinity when one reads without COUNT.
 */
export function streamEntriesRead(commands: ExecutedCommand[], key: string): number {
  let most = 0;
  for (const c of commands) {
    if (c.name !== "xrange" && c.name !== "xrevrange" && c.name !== "xread") continue;
    if (c.name === "xread" ? !c.args.includes(key) : c.args[0] !== key) continue;
    const at = c.args.findIndex((a) => a.toLowerCase() === "count");
    const count = at >= 0 ? Number(c.args[at + 1]) : Number.NaN;
    most += Number.isFinite(count) ? count : Infinity;
  }
  return most;
}
