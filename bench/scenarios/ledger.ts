import { execFileSync } from "node:child_process";
import { DEFAULT_PRICE_BOOK, type StageEvent } from "@creditmeter/shared";
import { accountKeys } from "../../server/src/ledger/keys.js";
import { call4a } from "../support/call-layouts.js";
import { fingerprintArgument } from "../../server/src/ledger/fingerprint.js";
import { assembleLua } from "../../server/src/ledger/scripts.js";
import { benchLedger, deploy, seedAccounts } from "../support/deploy.js";
import { report, table } from "../support/report.js";
import { fmt } from "../support/stats.js";
import { mixedEvents } from "./throughput.js";
import { writesFloorMicrosPerEvent } from "../support/writes-floor.js";
import { commitFloor, type CommitFloor } from "../support/commit-floor.js";
import type { ScenarioOptions } from "./options.js";
import { scriptMicros } from "../support/command-stats.js";
import type { RedisLedger } from "@creditmeter/server";

function charge(accountId: string, i: number, tag: string): StageEvent {
  const id = `${tag}-${i}`;
  return {
    v: 1,
    eventId: id,
    type: "stage.completed",
    accountId,
    sessionId: `sess-${i % 10}`,
    stepId: id,
    action: "script",
    occurredAt: new Date().toISOString(),
  };
}

/** redis-benchmark's requests per second for one command line (its CSV output). */
function redisBenchmark(port: number, n: number, clients: number, pipeline: number, command: string[]): number {
  const csv = execFileSync(
    "redis-benchmark",
    [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-n",
      String(n),
      "-c",
      String(clients),
      "-P",
      String(pipeline),
      "-r",
      "100000000",
      "--csv",
      ...command,
    ],
    {
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  // The first column repeats the command, whose arguments hold commas: count from the end, where
  // rps is followed by six latency columns.
  const fields = (csv.trim().split("\n").pop() ?? "").split(",");
  return Number(fields[fields.length - 7]?.replaceAll('"', ""));
}

/** Redis's own time per event (INFO commandstats: FCALL or EVALSHA µs, the Lua and the calls inside) for batches of `size`. */
async function redisMicrosPerEvent(
  dep: Awaited<ReturnType<typeof deploy>>,
  events: StageEvent[],
  size: number,
  ledger: RedisLedger = dep.ledger,
): Promise<number> {
  await dep.client.configResetStat();
  for (let i = 0; i < events.length; i += size) await ledger.applyEvents(events.slice(i, i + size));
  return (await scriptMicros(dep.client)) / events.length;
}

/** Scenario 5: ledger operations per second straight against Redis, vs redis-benchmark of the same script. */
export async function ledger(opts: ScenarioOptions): Promise<unknown> {
  const n = opts.quick ? 3000 : 20_000;
  const dep = await deploy();
  try {
    const accounts = await seedAccounts(dep, 100);
    const pick = (i: number): string => accounts[i % accounts.length] ?? "acct-0";
    for (let i = 0; i < 500; i++) await dep.ledger.applyEvent(charge(pick(i), i, "warm"));

    let t = performance.now();
    for (let i = 0; i < n; i++) await dep.ledger.applyEvent(charge(pick(i), i, "seq"));
    const sequential = n / ((performance.now() - t) / 1000);

    const window = 64;
    t = performance.now();
    for (let i = 0; i < n; i += window) {
      await Promise.all(
        Array.from({ length: Math.min(window, n - i) }, (_, j) =>
          dep.ledger.applyEvent(charge(pick(i + j), i + j, "pipe")),
        ),
      );
    }
    const pipelined = n / ((performance.now() - t) / 1000);

    const batch = 20;
    t = performance.now();
    for (let i = 0; i < n; i += batch) {
      await dep.ledger.applyEvents(
        Array.from({ length: Math.min(batch, n - i) }, (_, j) =>
          charge(pick(Math.floor((i + j) / batch)), i + j, "batch"),
        ),
      );
    }
    const batched = n / ((performance.now() - t) / 1000);

    // The bench's event mix (started/progress/completed/failed, consecutive events of a session
    // together, as the queue delivers them), cut into batches as the consumer cuts what is in flight.
    const sizes = [1, 4, 16, 64];
    const perEvent: Record<string, number> = {};
    // The same ledger by EVALSHA (CREDITMETER_LEDGER_FUNCTIONS=false), each size's two runs back to
    // back, in alternating order: the machine's load drifts, and Functions vs EVALSHA is the A/B.
    const viaEvalsha = benchLedger(dep.client, dep.env.CREDITMETER_KEY_PREFIX ?? "", false);
    const perEventEvalsha: Record<string, number> = {};
    for (const [i, size] of sizes.entries()) {
      const viaFunctions = (): Promise<number> =>
        redisMicrosPerEvent(dep, mixedEvents(accounts, n, `mix${size}`), size).then((us) => (perEvent[size] = us));
      const evalsha = (): Promise<number> =>
        redisMicrosPerEvent(dep, mixedEvents(accounts, n, `mixe${size}`), size, viaEvalsha).then(
          (us) => (perEventEvalsha[size] = us),
        );
      if (i % 2 === 0) await viaFunctions().then(evalsha);
      else await evalsha().then(viaFunctions);
    }
    // The same mix through a script that only writes what the ledger writes (no rules): the floor.
    const floorBatch = 24;
    const writesFloor = await writesFloorMicrosPerEvent(dep, mixedEvents(accounts, n, "floor"), floorBatch);
    // The same mix committed by a script that only checks versions and writes values the consumer
    // computed (no rules, no building in Lua): the floor of "the consumer computes, Redis commits".
    const commitSizes = [16, 64];
    const commit: Record<string, CommitFloor> = {};
    for (const size of commitSizes)
      commit[size] = await commitFloor(dep, mixedEvents(accounts, n, `commit${size}`), size);

    // The very script the ledger runs (apply-events-4a) with a batch of one: a charge of one new step,
    // its keys and arguments built by the ledger's own eventArgs and BatchCall (so they never drift
    // from the script).
    const sha = await dep.client.scriptLoad(assembleLua("apply-events-4a"));
    const k = accountKeys(dep.env.CREDITMETER_KEY_PREFIX ?? "", pick(1));
    const rand = {
      ...charge(pick(1), 0, "rb"),
      eventId: "rb-__rand_int__",
      stepId: "rb-__rand_int__",
      sessionId: "sess-1",
    };
    const call = call4a(
      [rand],
      { priceBook: DEFAULT_PRICE_BOOK, holdTtlSeconds: 3600, idempotencyRetentionSeconds: 30 * 86400 },
      () => k,
      String(400 * 86_400_000),
    );
    // The event's and step's fields are hashes of the ids (fingerprint.ts): give them the random
    // number too (same lengths, 28 and 14), or every call after the first would be a repeat.
    const fp = fingerprintArgument(rand);
    const randomFields = "e__rand_int__".padEnd(28, "x") + "s__rand_int__".padEnd(14, "x") + fp.slice(42);
    const args = call.args.map((a) => (a === fp ? randomFields : a));
    const cmd = ["EVALSHA", sha, String(call.keys.length), ...call.keys, ...args];
    const rb1 = redisBenchmark(dep.redis.port, n, 1, 1, cmd);
    const rbPipe = redisBenchmark(dep.redis.port, n, 1, window, cmd);
    const rb50 = redisBenchmark(dep.redis.port, n, 50, 1, cmd);
    const rows = [
      [
        "RedisLedger.applyEvent, one at a time",
        fmt(sequential, 0),
        "redis-benchmark -c 1 -P 1",
        fmt(rb1, 0),
        fmt(sequential / rb1),
      ],
      [
        `RedisLedger.applyEvent, ${window} in flight (auto-pipelined)`,
        fmt(pipelined, 0),
        `redis-benchmark -c 1 -P ${window}`,
        fmt(rbPipe, 0),
        fmt(pipelined / rbPipe),
      ],
      ["", "", "redis-benchmark -c 50 -P 1", fmt(rb50, 0), ""],
      [`RedisLedger.applyEvents, batches of ${batch} (one account each)`, fmt(batched, 0), "", "", ""],
    ];
    const mixRows = [
      ...sizes.map((s) => [String(s), fmt(perEvent[s], 1), fmt(perEventEvalsha[s], 1)]),
      [`${floorBatch}, the ledger's writes only (bench/support/writes-floor.lua)`, "", fmt(writesFloor, 1)],
      ...commitSizes.map((s) => [
        `${s}, commit only: versions checked, precomputed values written (bench/support/commit-floor.lua)`,
        "",
        fmt(commit[s]?.redisMicrosPerEvent, 1),
      ]),
      ...commitSizes.map((s) => [
        `${s}, the state such a consumer reads first: account, records, holds, sessions (bench/support/read-floor.lua)`,
        "",
        fmt(commit[s]?.readMicrosPerEvent, 1),
      ]),
    ];
    const commitNote = commitSizes
      .map((s) => {
        const c = commit[s];
        return c
          ? `${s}: ${fmt(c.buildMicrosPerEvent, 1)} µs, ${fmt(c.stringsPerEvent, 1)} strings, ${fmt(c.bytesPerEvent, 0)} bytes`
          : "";
      })
      .join("; ");
    const md =
      table(["ledger (node-redis, one connection)", "ops/s", "same script, redis-benchmark", "ops/s", "ratio"], rows) +
      `\n\n${n} charges each (stage.completed of a 1-credit action on 100 accounts)\n\n` +
      table(
        ["events per script call", "Redis µs per event (INFO commandstats), Functions", "the same by EVALSHA"],
        mixRows,
      ) +
      `\n\n${n} events of the throughput scenario's mix per row; a no-op BullMQ job costs Redis about 40 µs on the project's machine (scenario 1 measures it). The commit-only call per event, Node time to build it (no rules) and what it sends: ${commitNote}.`;
    const data = {
      n,
      sequential,
      pipelined,
      window,
      batched,
      batch,
      redisMicrosPerEvent: perEvent,
      redisMicrosPerEventEvalsha: perEventEvalsha,
      writesFloor: { batch: floorBatch, redisMicrosPerEvent: writesFloor },
      commitFloor: commit,
      redisBenchmark: { c1P1: rb1, [`c1P${window}`]: rbPipe, c50P1: rb50 },
    };
    report("ledger", "5. Ledger alone vs redis-benchmark", md, data, opts.quick);
    return data;
  } finally {
    await dep.close();
  }
}
