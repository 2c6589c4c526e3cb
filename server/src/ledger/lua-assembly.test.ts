/**
 * The ledger's scripts as Redis Function libraries (lua-assembly.ts). A library's top level lives
 * as long as the library, across calls: anything a call could change there would leak into the
 * next call. These tests check the text; test/integration/ledger-functions.redis.test.ts checks
 * the behaviour (the same answers as EVALSHA, which starts every call afresh).
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { functionLibrary } from "./lua-assembly.js";
import { SCRIPT_NAMES } from "./scripts.js";

const LUA = new URL("./lua/", import.meta.url);
const LIBS = readdirSync(new URL("lib/", LUA)).filter((f) => f.endsWith(".lua"));
const ALL_LUA = [
  ...LIBS.map((f) => readFileSync(new URL(`lib/${f}`, LUA), "utf8")),
  ...SCRIPT_NAMES.map((s) => readFileSync(new URL(`${s}.lua`, LUA), "utf8")),
].join("\n");

/** A file without its comments (block comments first: they may hold "--" lines). */
function code(text: string): string {
  return text.replace(/--\[\[[\s\S]*?\]\]/g, "").replace(/--.*$/gm, "");
}

describe("ledger scripts as Function libraries", () => {
  it("every script builds, its name and its function's carrying a hash of the code", () => {
    for (const script of SCRIPT_NAMES) {
      const lib = functionLibrary(script);
      expect(lib.name).toMatch(new RegExp(`^creditmeter_${script.replaceAll("-", "_")}_[0-9a-f]{16}$`));
      expect(lib.code.startsWith(`#!lua name=${lib.name}\n`)).toBe(true);
      expect(lib.code).toContain(`redis.register_function("${lib.name}", function(keys, args)`);
    }
  });

  it("another build (one comment changed) gets other names; the same build the same ones", () => {
    const dir = mkdtempSync(join(tmpdir(), "creditmeter-lua-"));
    try {
      cpSync(LUA, dir, { recursive: true });
      const other = pathToFileURL(`${dir}/`);
      expect(functionLibrary("touch-3", other).name).toBe(functionLibrary("touch-3").name);
      appendFileSync(join(dir, "lib", "context.lua"), "\n-- another release\n");
      expect(functionLibrary("touch-3", other).name).not.toBe(functionLibrary("touch-3").name);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a library's top level holds only functions and constants that no code assigns to", () => {
    const constants: string[] = [];
    const tables: string[] = [];
    for (const file of LIBS) {
      // Top-level statements start in column 0; a function's body and a table's lines are indented.
      for (const line of code(readFileSync(new URL(`lib/${file}`, LUA), "utf8")).split("\n")) {
        if (line === "" || /^\s/.test(line) || /^(end|\}|\))\)?$/.test(line)) continue;
        if (/^local function \w+\(/.test(line)) continue;
        const constant = /^local ([A-Z][A-Z0-9_]*) = (\{?)/.exec(line);
        expect(
          constant,
          `${file}: top-level statement that is not a function or an UPPER_CASE constant: ${line}`,
        ).not.toBeNull();
        if (constant?.[1]) constants.push(constant[1]);
        if (constant?.[1] && constant[2]) tables.push(constant[1]);
      }
    }
    expect(constants.length).toBeGreaterThan(10);
    const text = code(ALL_LUA);
    for (const name of constants) {
      // Assigned (`X =`, `X[k] =`, `X.f =`, `X[k].f =`), or changed by a table function.
      const assigned = new RegExp(`(^|[^\\w.])${name}(\\s*(\\[[^\\]]*\\]|\\.\\w+))*\\s*=[^=]`, "gm");
      const writes = [...text.matchAll(assigned)].filter(
        (m) => !/local\s*$/.test(text.slice(0, m.index + (m[1] ?? "").length)),
      );
      expect(
        writes.map((m) => m[0].trim()),
        name,
      ).toEqual([]);
      expect(text).not.toMatch(new RegExp(`table\\.(insert|remove|sort)\\(\\s*${name}\\b`));
    }
    // A table is only read where it is named (`T[k]`, `T.f`, `ipairs(T)`): never handed out, so
    // nothing can keep it (a call's context holding a shared table) and change it later.
    for (const name of tables) {
      const uses = [...text.matchAll(new RegExp(`(ipairs\\(|local )?\\b${name}\\b(.)`, "g"))];
      const bare = uses.filter((m) => !m[1] && !["[", "."].includes(m[2] ?? ""));
      expect(
        bare.map((m) => m[0]),
        name,
      ).toEqual([]);
    }
  });
});
