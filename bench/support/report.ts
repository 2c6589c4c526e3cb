import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RESULTS = fileURLToPath(new URL("../results/", import.meta.url));

function packageVersion(name: string): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(`${ROOT}node_modules/${name}/package.json`, "utf8"));
    return typeof pkg === "object" && pkg !== null && "version" in pkg ? String(pkg.version) : "unknown";
  } catch {
    return "unknown";
  }
}

/** What the figures depend on: the machine, the runtimes and the libraries in the path. */
export function machine(): Record<string, unknown> {
  const redis = execFileSync("redis-server", ["--version"], { encoding: "utf8" }).match(/v=(\S+)/)?.[1] ?? "unknown";
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    totalMemoryMB: Math.round(totalmem() / 2 ** 20),
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    redis,
    packages: Object.fromEntries(
      ["creditmeter", "bullmq", "redis", "socket.io", "socket.io-client", "@socket.io/redis-adapter"].map((name) => [
        name,
        name === "creditmeter" ? packageVersion("@creditmeter/server") : packageVersion(name),
      ]),
    ),
  };
}

/** A Markdown table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]): string => `| ${cells.map(String).join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Prints a scenario's table and writes bench/results/<name>.json with the machine it ran on. */
export function report(name: string, title: string, markdown: string, data: unknown, quick: boolean): void {
  process.stdout.write(`\n### ${title}${quick ? " (quick)" : ""}\n\n${markdown}\n`);
  mkdirSync(RESULTS, { recursive: true });
  const file = `${RESULTS}${name}.json`;
  writeFileSync(file, JSON.stringify({ scenario: name, title, quick, at: new Date().toISOString(), machine: machine(), results: data }, null, 2) + "\n");
  process.stdout.write(`\n(written to bench/results/${name}.json)\n`);
}
