import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import type { RedisClientType } from "redis";

const LUA_DIR = new URL("./lua/", import.meta.url);
const INCLUDE = /^--- @include "([a-z/-]+)"$/gm;

/**
 * Reads a Lua file and splices its `--- @include "lib/x"` lines in, each helper once; `dir` is
 * the scripts' folder (another release's, for bench/support/script-ab.ts).
 */
export function assembleLua(name: string, seen: Set<string> = new Set(), dir: URL = LUA_DIR): string {
  const source = readFileSync(new URL(`${name}.lua`, dir), "utf8");
  return source.replace(INCLUDE, (_line, dep: string) => {
    if (seen.has(dep)) return "";
    seen.add(dep);
    return assembleLua(dep, seen, dir);
  });
}

/** The ledger's scripts, one per operation, named `<verb>-<number of keys>` like BullMQ's. */
export const SCRIPT_NAMES = [
  "apply-events-4a",
  "start-cycle-5",
  "add-pack-5",
  "adjust-5",
  "put-account-3",
  "dismiss-alert-3",
  "set-budget-5",
  "set-plan-6",
  "read-session-5",
  "touch-3",
  "deadline-cas-1",
  "trim-log-2",
  "mark-webhooks-2",
  "read-event-2",
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

interface LoadedScript {
  source: string;
  sha: string;
}

// node-redis exposes several client shapes (RESP2/3, modules, cluster); the ledger needs only these.
export type RedisLike = Pick<RedisClientType, "evalSha" | "eval">;

/**
 * Runs ledger scripts by SHA (EVALSHA); on NOSCRIPT (a restarted or new Redis node) it runs the
 * source once with EVAL, which also caches it. EVAL is routed by the first key like EVALSHA, so on
 * a cluster the script lands on the node that owns the account's slot (a SCRIPT LOAD carries no
 * key and would reach a random master). The SHA is of the content, so two releases never share a script.
 */
export class ScriptRunner {
  private readonly scripts: Map<ScriptName, LoadedScript>;

  constructor(private readonly redis: RedisLike) {
    this.scripts = new Map(
      SCRIPT_NAMES.map((name) => {
        const source = assembleLua(name);
        return [name, { source, sha: createHash("sha1").update(source).digest("hex") }];
      }),
    );
  }

  /** Runs a script and returns its string reply (every ledger script answers JSON). */
  async run(name: ScriptName, keys: string[], args: (string | number)[]): Promise<string> {
    const script = this.scripts.get(name);
    if (!script) throw new Error(`unknown ledger script ${name}`);
    const options = { keys, arguments: args.map(String) };
    try {
      return String(await this.redis.evalSha(script.sha, options));
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      return String(await this.redis.eval(script.source, options));
    }
  }
}
