import { createHash } from "node:crypto";
import type { RedisClientType, RedisClusterType } from "redis";
import { assembleLua, functionLibrary } from "./lua-assembly.js";

export { assembleLua } from "./lua-assembly.js";

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
  /** The assembled source and its SHA-1, for EVALSHA / EVAL. */
  source: string;
  sha: string;
  /** The Redis Function library (lua-assembly.ts functionLibrary), for FCALL / FUNCTION LOAD. */
  fn: string;
  library: string;
}

// node-redis exposes several client shapes (RESP2/3, modules, cluster); the ledger needs only these.
type Commands = "evalSha" | "eval" | "fCall" | "sendCommand";
export type RedisLike = Pick<RedisClientType, Commands> | Pick<RedisClusterType, Commands | "masters">;

/** How scripts run: Redis Functions (FCALL), or EVALSHA where the server or the user cannot. */
export type ScriptMode = "functions" | "evalsha";

export interface ScriptRunnerOptions {
  /** false: EVALSHA only, as before Redis 7 (CREDITMETER_LEDGER_FUNCTIONS; benches and tests compare the two). */
  functions?: boolean;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// Refused before anything ran: no FCALL / FUNCTION before Redis 7, or an ACL without them. A NOPERM
// raised by a command inside a running function names the function (`@user_function`): that one
// may follow writes, so it is the caller's error, never a reason to run the script again.
const UNSUPPORTED = /^(ERR unknown command [`'"]?(fcall|function)\b|NOPERM\b.*'(fcall|function\|load)')/i;

/**
 * Runs ledger scripts as Redis Functions: one library per script, FUNCTION LOAD once per node,
 * FCALL per call, so the scripts' helpers are not defined again on every call (docs/decisions.md
 * "Ledger scripts as Redis Functions"). FCALL is routed by the first key like EVALSHA; on
 * "Function not found" (a new, restarted or flushed node) the library is loaded on that node,
 * routed by the same key, and the call made once more: nothing ran, so nothing runs twice.
 * Where the server refuses FCALL or FUNCTION LOAD (Redis < 7, an ACL), the runner falls back to
 * EVALSHA for good, decided by the first refusal: on NOSCRIPT it runs the source once with EVAL,
 * which also caches it (EVAL is routed by the first key; a SCRIPT LOAD carries none).
 */
export class ScriptRunner {
  private readonly scripts: Map<ScriptName, LoadedScript>;
  private current: ScriptMode;

  constructor(
    private readonly redis: RedisLike,
    opts: ScriptRunnerOptions = {},
  ) {
    this.current = opts.functions === false ? "evalsha" : "functions";
    this.scripts = new Map(
      SCRIPT_NAMES.map((name) => {
        const source = assembleLua(name);
        const library = functionLibrary(name);
        return [
          name,
          { source, sha: createHash("sha1").update(source).digest("hex"), fn: library.name, library: library.code },
        ];
      }),
    );
  }

  /** How scripts run now (it moves from functions to evalsha once, when the server refuses functions). */
  get mode(): ScriptMode {
    return this.current;
  }

  /** The Redis Function names of this build's scripts (tests: two builds' libraries side by side). */
  functionName(name: ScriptName): string {
    return this.loaded(name).fn;
  }

  /** Runs a script and returns its string reply (every ledger script answers JSON). */
  async run(name: ScriptName, keys: string[], args: (string | number)[]): Promise<string> {
    const script = this.loaded(name);
    const options = { keys, arguments: args.map(String) };
    if (this.current === "functions") {
      try {
        return String(await this.fcall(script, options));
      } catch (err) {
        if (!UNSUPPORTED.test(messageOf(err))) throw err;
        this.current = "evalsha";
      }
    }
    try {
      return String(await this.redis.evalSha(script.sha, options));
    } catch (err) {
      if (!messageOf(err).startsWith("NOSCRIPT")) throw err;
      return String(await this.redis.eval(script.source, options));
    }
  }

  private loaded(name: ScriptName): LoadedScript {
    const script = this.scripts.get(name);
    if (!script) throw new Error(`unknown ledger script ${name}`);
    return script;
  }

  private async fcall(script: LoadedScript, options: { keys: string[]; arguments: string[] }): Promise<unknown> {
    try {
      return await this.redis.fCall(script.fn, options);
    } catch (err) {
      if (!messageOf(err).startsWith("ERR Function not found")) throw err;
      await this.load(script, options.keys[0]);
      return await this.redis.fCall(script.fn, options);
    }
  }

  /**
   * FUNCTION LOAD without REPLACE on the node that owns `firstKey`: a library of the same name is
   * the same code (the name carries its hash), so "already exists" (a concurrent call, another
   * process of this build) counts as loaded, and another build's libraries are never replaced.
   */
  private async load(script: LoadedScript, firstKey: string | undefined): Promise<void> {
    const args = ["FUNCTION", "LOAD", script.library];
    try {
      if ("masters" in this.redis) await this.redis.sendCommand(firstKey, false, args);
      else await this.redis.sendCommand(args);
    } catch (err) {
      if (!messageOf(err).includes("already exists")) throw err;
    }
  }
}
