/**
 * server/dist is what `npm start` and the image run, so test-only modules must stay out of it. The
 * build compiles every file under server/src its tsconfig.build.json does not exclude (tests and
 * `*.test-support.ts`, which the typecheck still covers): a test-only module named otherwise would
 * ship. So every file the build compiles must be imported, directly or not, by an entry point.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SERVER = fileURLToPath(new URL("../../server/", import.meta.url));
const ENTRIES = ["src/main.ts", "src/index.ts"].map((p) => join(SERVER, p));

/** The server's build tsconfig, parsed as `tsc -p tsconfig.build.json` parses it. */
function buildConfig(): ts.ParsedCommandLine {
  const path = join(SERVER, "tsconfig.build.json");
  const read = ts.readConfigFile(path, (p) => ts.sys.readFile(p));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, "\n"));
  return ts.parseJsonConfigFileContent(read.config, ts.sys, SERVER, undefined, path);
}

/** The files of `names` under server/src, sorted. */
const sources = (names: readonly string[]): string[] => names.filter((n) => n.startsWith(join(SERVER, "src/"))).sort();

describe("the server's build", () => {
  it("compiles no test-only module: every file it builds is reached from main.ts or index.ts", () => {
    const config = buildConfig();
    const built = sources(config.fileNames);
    expect(built).toEqual(expect.arrayContaining(ENTRIES));
    expect(built.filter((f) => /\.test(-support|-d)?\.ts$/.test(f))).toEqual([]);
    const program = ts.createProgram(ENTRIES, config.options);
    const reached = new Set(sources(program.getSourceFiles().map((f) => f.fileName)));
    expect(
      built.filter((f) => !reached.has(f)),
      "built but imported by no entry point: test-only? name it *.test-support.ts",
    ).toEqual([]);
  });
});
