/**
 * `npm run sim -- [--seed S] [--steps N] [--minutes M] [--restarts] [--replay file.json]`
 * Runs seeded histories against a private redis-server (AOF on, so `--restarts` can kill it) and
 * the reference model; on a mismatch prints the seed, step, operation, expected and actual,
 * shrinks the history and writes the reproduction to test-results/sim-<seed>.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient, type RedisClientType } from "redis";
import { startRedis, waitFor, type TestRedis } from "../support/redis-server.js";
import { FLAGS } from "./flags.js";
import { Coverage } from "./coverage.js";
import { generate } from "./generate.js";
import { runHistory, type SimEnv, type SimFailure } from "./run.js";
import { shrink } from "./shrink.js";
import type { History } from "./ops.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    steps: { type: "string", default: "400" },
    minutes: { type: "string" },
    restarts: { type: "boolean", default: false },
    replay: { type: "string" },
    "no-shrink": { type: "boolean", default: false },
  },
});

function report(f: SimFailure): string {
  return [
    `MISMATCH seed=${f.seed} step=${f.step}`,
    `  op:       ${f.op}`,
    `  check:    ${f.check}`,
    `  expected: ${JSON.stringify(f.expected)}`,
    `  actual:   ${JSON.stringify(f.actual)}`,
  ].join("\n");
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "creditmeter-sim-"));
  const aof = ["--appendonly", "yes", "--appendfsync", "always", "--dir", dir];
  let server: TestRedis = await startRedis(aof);
  const redis: RedisClientType = createClient({ url: server.url, socket: { reconnectStrategy: () => 50 } });
  redis.on("error", () => undefined);
  await redis.connect();
  const env: SimEnv = {
    redis,
    flags: FLAGS,
    restart: async () => {
      server.process.kill("SIGKILL");
      await new Promise<void>((resolve) =>
        server.process.exitCode !== null ? resolve() : server.process.once("exit", () => resolve()),
      );
      server = await startRedis(aof, server.port);
      await waitFor(() => redis.isReady, 10_000, "the client to reconnect");
    },
  };
  const total = new Coverage();
  const steps = Number(values.steps);
  let runs = 0;
  let failed = false;
  const one = async (history: History): Promise<void> => {
    runs += 1;
    const result = await runHistory(history, env);
    total.add(result.coverage);
    console.log(`seed ${history.seed}: ${result.failure ? "MISMATCH" : "ok"} (${result.ops} operations)`);
    if (!result.failure) return;
    failed = true;
    console.log(report(result.failure));
    if (values["no-shrink"]) return;
    const small = await shrink(history, env, result.failure);
    mkdirSync("test-results", { recursive: true });
    const file = `test-results/sim-${history.seed}.json`;
    writeFileSync(file, JSON.stringify(small.history, null, 1));
    console.log(`shrunk to ${small.history.ops.length} operations (${small.runs} runs):`);
    console.log(report(small.failure));
    small.history.ops.forEach((op, i) => console.log(`  ${String(i).padStart(3)} ${JSON.stringify(op)}`));
    console.log(
      `replay: npm run sim -- --replay ${file}    (the full run: npm run sim -- --seed ${history.seed} --steps ${steps}${values.restarts ? " --restarts" : ""})`,
    );
  };
  try {
    if (values.replay) {
      await one(JSON.parse(readFileSync(values.replay, "utf8")) as History);
    } else if (values.minutes) {
      const until = Date.now() + Number(values.minutes) * 60_000;
      while (Date.now() < until && !failed) {
        const seed = Math.floor(Math.random() * 2 ** 32);
        await one(generate({ seed, steps, restarts: values.restarts }));
      }
    } else {
      const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(values.seed);
      await one(generate({ seed, steps, restarts: values.restarts }));
    }
  } finally {
    await redis.close().catch(() => undefined);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${runs} run(s), ${failed ? "FAILED" : "all matched the model"}; coverage:`);
  console.log(total.report());
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
