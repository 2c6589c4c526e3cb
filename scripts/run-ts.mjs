// Runs a TypeScript entry point on the sources: `node scripts/run-ts.mjs <file> [args...]`
// (node --conditions=source --import tsx <file>), so `npm run demo` and `npm run bench` need no build.
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error("usage: node scripts/run-ts.mjs <file.ts> [args...]");
  process.exit(2);
}
const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", resolve(root, file), ...args], {
  cwd: root,
  stdio: "inherit",
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
