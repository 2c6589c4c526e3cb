/**
 * The simulator's fixed seeds inside `npm test` (docs/simulation.md): each history is generated
 * from its seed, run against the real Lua ledger on the suite's redis-server with a virtual clock,
 * and compared with the reference model after every operation. A failure prints the replay command.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClientType } from "redis";
import { testRedis } from "../support/ledger.js";
import { FLAGS } from "./flags.js";
import { generate } from "./generate.js";
import { runHistory } from "./run.js";

/** Seeds run by `npm test`: a spread of shapes (accounts, plans, hold lifetimes), ~250 operations each. */
const SEEDS = [1, 2, 3, 4, 5, 6];
const STEPS = 250;
/** `npm run test:faults` adds this many random seeds (printed, so a failure replays). */
const EXTRA = Number(process.env.CREDITMETER_SIM_RUNS ?? 0);
const extraSeeds = Array.from({ length: EXTRA }, () => Math.floor(Math.random() * 2 ** 32));

describe("simulation: the real ledger against the reference model", () => {
  let redis: RedisClientType;
  beforeAll(async () => {
    redis = await testRedis();
  });
  afterAll(async () => {
    await redis.close();
  });

  it.each([...SEEDS, ...extraSeeds])("seed %i matches the model after every operation", async (seed) => {
    const result = await runHistory(generate({ seed, steps: STEPS, restarts: false }), { redis, flags: FLAGS });
    const f = result.failure;
    const why = f
      ? `seed ${f.seed} step ${f.step}: ${f.op}\n${f.check}\nexpected ${JSON.stringify(f.expected)}\nactual   ${JSON.stringify(f.actual)}\nreplay: npm run sim -- --seed ${seed} --steps ${STEPS}`
      : "";
    expect(why).toBe("");
  });
});
