import { readdirSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

/** A package's build tsconfig, parsed as `tsc -p tsconfig.build.json` parses it. */
export function buildConfig(pkgDir: string): ts.ParsedCommandLine {
  const path = join(pkgDir, "tsconfig.build.json");
  const read = ts.readConfigFile(path, (p) => ts.sys.readFile(p));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, "\n"));
  return ts.parseJsonConfigFileContent(read.config, ts.sys, pkgDir, undefined, path);
}

/** The files of `names` under `<pkgDir>/src`, sorted. */
export const sources = (pkgDir: string, names: readonly string[]): string[] =>
  names.filter((n) => n.startsWith(join(pkgDir, "src/"))).sort();

/** Every file under `<pkgDir>/src` (recursively), sorted. */
export function allSources(pkgDir: string): string[] {
  const root = join(pkgDir, "src");
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
    .sort();
}

/** The files under `<pkgDir>/src` that `entries` import, directly or not (the entries included). */
export function reachedFrom(pkgDir: string, entries: readonly string[], options: ts.CompilerOptions): Set<string> {
  const program = ts.createProgram([...entries], options);
  return new Set(
    sources(
      pkgDir,
      program.getSourceFiles().map((f) => f.fileName),
    ),
  );
}

/** Tests, type tests and test-only modules: the names every build excludes and no package ships. */
export const TEST_ONLY = /\.test(-support|-d)?\.ts$/;
