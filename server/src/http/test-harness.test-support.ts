// Test support for the HTTP layer's tests (`*.test-support.ts`: typechecked, never built into
// dist/): an app on a loopback port, a ledger guard that fails loudly when called, and a small fetch wrapper.
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import type { StageEvent } from "@creditmeter/shared";
import { loadConfig, type Config } from "../config/config.js";
import type { LedgerApi } from "../ledger/api.js";
import type { LedgerOutcome } from "../ledger/outcome.js";
import { mintToken } from "../auth/mint-token.js";
import { createAuthVerifier } from "../auth/verifier.js";
import type { Principal } from "../auth/principal.js";
import { createHttpApp } from "./app.js";
import type { HttpDeps } from "./deps.js";

export const TEST_SECRET = "http-test-secret-0123456789";

/** A full Config from an explicit environment (never process.env), with a unique key prefix. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const base = loadConfig({ CREDITMETER_AUTH_SECRET: TEST_SECRET, CREDITMETER_KEY_PREFIX: `t-${randomUUID()}` });
  return { ...base, ...overrides };
}

/** A LedgerApi that must never be reached: every method records the call and throws. */
export function guardLedger(calls: string[]): LedgerApi {
  const refuse = (name: string) => async (): Promise<never> => {
    calls.push(name);
    throw new Error(`ledger.${name} must not be called`);
  };
  return {
    putAccount: refuse("putAccount"),
    startCycle: refuse("startCycle"),
    addPack: refuse("addPack"),
    adjust: refuse("adjust"),
    dismissAlert: refuse("dismissAlert"),
    setBudget: refuse("setBudget"),
    balance: refuse("balance"),
    session: refuse("session"),
    setPlan: refuse("setPlan"),
    usage: refuse("usage"),
    ledgerPage: refuse("ledgerPage"),
  };
}

export interface TestApp {
  url: string;
  config: Config;
  ledgerCalls: string[];
  enqueued: StageEvent[];
  published: LedgerOutcome[];
  token(role: Principal["role"], sub?: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts createHttpApp on 127.0.0.1 with guard dependencies, overridable one by one. */
export async function startTestApp(overrides: Partial<HttpDeps> = {}): Promise<TestApp> {
  const config = overrides.config ?? testConfig();
  const ledgerCalls: string[] = [];
  const enqueued: StageEvent[] = [];
  const published: LedgerOutcome[] = [];
  const deps: HttpDeps = {
    config,
    ledger: guardLedger(ledgerCalls),
    publisher: { publish: (outcome) => void published.push(outcome) },
    verifier: createAuthVerifier(config),
    enqueueEvent: async (event) => void enqueued.push(event),
    readiness: async () => true,
    metrics: { contentType: "text/plain; version=0.0.4; charset=utf-8", render: async () => "creditmeter_up 1\n" },
    ...overrides,
  };
  const server = createHttpApp(deps).listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    config,
    ledgerCalls,
    enqueued,
    published,
    token: (role, sub = "acme") => mintToken(config.authSecret, { sub, role, ttlSeconds: 300 }),
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

export interface CallOptions {
  token?: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent verbatim, with `contentType` (default application/json). */
  raw?: string;
  contentType?: string;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: unknown;
}

/** One HTTP request with fetch; the body is parsed as JSON when the answer says it is JSON. */
export async function call(app: TestApp, method: string, path: string, opts: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.json !== undefined) body = JSON.stringify(opts.json);
  if (opts.raw !== undefined) body = opts.raw;
  if (body !== undefined) headers["content-type"] = opts.contentType ?? "application/json";
  const res = await fetch(`${app.url}${path}`, { method, headers, body });
  const text = await res.text();
  const isJson = res.headers.get("content-type")?.includes("application/json") ?? false;
  return { status: res.status, headers: res.headers, body: isJson ? JSON.parse(text) : text };
}
