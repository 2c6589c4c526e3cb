import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";

const LUA_DIR = new URL("./lua/", import.meta.url);
const INCLUDE = /^--- @include "([a-z/-]+)"$/gm;

function splice(source: string, seen: Set<string>, dir: URL): string {
  return source.replace(INCLUDE, (_line, dep: string) => {
    if (seen.has(dep)) return "";
    seen.add(dep);
    return assembleLua(dep, seen, dir);
  });
}

/**
 * Reads a Lua file and splices its `--- @include "lib/x"` lines in, each helper once; `dir` is
 * the scripts' folder (another release's, for bench/support/script-ab.ts).
 */
export function assembleLua(name: string, seen: Set<string> = new Set(), dir: URL = LUA_DIR): string {
  return splice(readFileSync(new URL(`${name}.lua`, dir), "utf8"), seen, dir);
}

/** A ledger script as a Redis Function library: its name (also the function's) and its code. */
export interface FunctionLibrary {
  name: string;
  code: string;
}

/**
 * A script as a Redis Function library (FUNCTION LOAD once, FCALL per call): its helpers at the
 * library's top level, defined once per load instead of once per EVALSHA, and its own code (what
 * follows its last `--- @include`) as the registered function's body. The helpers read KEYS and
 * ARGV as globals do in EVAL; a function gets them as arguments, so they are upvalues the function
 * sets on entry (and clears on return) — the only state a call leaves in the library, and the next
 * call overwrites it before anything reads it. Everything else at the top level must be a
 * constant (lua-assembly.test.ts checks that nothing assigns to it).
 *
 * Function names are global in Redis: the library's and the function's name carry a hash of the
 * code, so two builds of the ledger on one Redis never collide or replace each other.
 */
export function functionLibrary(script: string, dir: URL = LUA_DIR): FunctionLibrary {
  const source = readFileSync(new URL(`${script}.lua`, dir), "utf8");
  let cut = 0;
  for (const m of source.matchAll(INCLUDE)) cut = m.index + m[0].length;
  const head = source.slice(0, cut);
  // The includes must come first (after the header comment): code before one would move from the
  // call into the library and run once per load.
  const beforeIncludes = head.replace(/--\[\[[\s\S]*?\]\]/g, "").replace(/^--.*$/gm, "");
  if (beforeIncludes.trim() !== "") throw new Error(`${script}.lua: code before its last --- @include`);
  const code = (name: string): string =>
    `#!lua name=${name}\nlocal KEYS, ARGV\n${splice(head, new Set(), dir)}\n` +
    `local function call()\n${source.slice(cut)}\nend\n` +
    `redis.register_function("${name}", function(keys, args)\n` +
    `  KEYS, ARGV = keys, args\n  local reply = call()\n  KEYS, ARGV = nil, nil\n  return reply\nend)\n`;
  const hash = createHash("sha1").update(code("")).digest("hex").slice(0, 16);
  const name = `creditmeter_${script.replaceAll("-", "_")}_${hash}`;
  return { name, code: code(name) };
}
