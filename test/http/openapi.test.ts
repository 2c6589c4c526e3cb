// GET /v1/openapi.json: a valid OpenAPI 3.1 document (checked by a real validator) that documents
// every express route, and whose schemas the server's real answers match on every route.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { Express } from "express";
import { ApiKeyCreated, CreatedWebhook, type StageEvent } from "@creditmeter/shared";
import { createHttpApp } from "../../server/src/http/app.js";
import { OPERATIONS } from "../../server/src/http/openapi/operations.js";
import { testConfig } from "../../server/src/http/test-harness.test-support.js";
import { completed, cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { waitFor } from "../support/redis-server.js";

// ajv-formats is CommonJS with a default export that ESM sees one level down.
type AddFormats = (ajv: Ajv2020) => unknown;
const formatsModule = addFormatsModule as unknown as AddFormats & { default?: AddFormats };
const addFormats: AddFormats = formatsModule.default ?? formatsModule;

let d: Deployment;
let node: Awaited<ReturnType<typeof startNode>>;
let doc: Record<string, unknown>;

beforeAll(async () => {
  d = await deployment();
  node = await startNode(d);
  const res = await fetch(`${node.url}/v1/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Record<string, unknown>;
});
afterAll(async () => {
  await node.close();
  await d.close();
});

/** `/v1/accounts/:accountId/balance` → `/v1/accounts/{accountId}/balance`. */
function openApiPath(expressPath: string): string {
  const path = expressPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
  return path.length > 1 ? path.replace(/\/$/, "") : path;
}

interface RouterLayer {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: RouterLayer[] };
}

/** Every (method, path) an express app answers, found by walking its router stack. */
function expressRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: RouterLayer[], prefix: string): void => {
    for (const layer of stack) {
      const mount = typeof layer.rawPath === "string" && layer.rawPath !== "/" ? layer.rawPath : "";
      if (layer.route && typeof layer.route.path === "string") {
        for (const [method, on] of Object.entries(layer.route.methods))
          if (on && method !== "_all") out.push(`${method} ${openApiPath(prefix + layer.route.path)}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack, prefix + mount);
    }
  };
  walk((app as unknown as { router: { stack: RouterLayer[] } }).router.stack, "");
  return out;
}

describe("GET /v1/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document, open to anyone", async () => {
    expect(doc.openapi).toBe("3.1.0");
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("documents every REST route the server has, and nothing it lacks", async () => {
    // An app with every optional room mounted: each route is created, none is called.
    const unused = async (): Promise<never> => {
      throw new Error("not called");
    };
    const app = createHttpApp({
      config: testConfig(),
      ledger: {} as never,
      publisher: { publish: () => undefined },
      verifier: { verify: unused },
      enqueueEvent: unused,
      readiness: async () => true,
      metrics: { contentType: "text/plain", render: unused },
      events: { submit: unused, enqueueMany: unused, status: unused },
      apiKeys: { create: unused, list: unused, revoke: unused },
      failedJobs: { list: unused, retry: unused, discard: unused },
      webhooks: {} as never,
    });
    const rest = expressRoutes(app).filter((r) => / \/(v1\/|healthz|readyz|metrics)/.test(r));
    const documented = OPERATIONS.map((op) => `${op.method} ${op.path}`);
    expect(new Set(rest)).toEqual(new Set(documented));
    expect(Object.keys(doc.paths as object).sort()).toEqual([...new Set(OPERATIONS.map((op) => op.path))].sort());
  });
});

describe("real answers match the document", () => {
  it("on every documented operation", async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(doc, "openapi.json");
    const seen = new Set<string>();
    const ops = await d.token("ops", "ops");
    const worker = await d.token("farm", "worker");

    /** Calls the server and checks the answer against the document's schema for its status. */
    async function check(
      method: string,
      docPath: string,
      path: string,
      token: string | undefined,
      body?: unknown,
    ): Promise<unknown> {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(`${node.url}${path}`, {
        method: method.toUpperCase(),
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      const op = OPERATIONS.find((o) => o.method === method && o.path === docPath);
      expect(op, `${method} ${docPath} is documented`).toBeDefined();
      const answer = op?.responses[res.status];
      expect(answer, `${method} ${docPath} documents status ${res.status}: ${text.slice(0, 300)}`).toBeDefined();
      seen.add(`${method} ${docPath}`);
      if (!answer?.schema) return text;
      const pointer = [
        "paths",
        docPath,
        method,
        "responses",
        String(res.status),
        "content",
        "application/json",
        "schema",
      ]
        .map((s) => encodeURIComponent(s.replace(/~/g, "~0").replace(/\//g, "~1")))
        .join("/");
      const validate = ajv.getSchema(`openapi.json#/${pointer}`);
      const json: unknown = JSON.parse(text);
      expect(validate, pointer).toBeDefined();
      const ok = validate?.(json);
      expect(ok, `${method} ${path} ${res.status}: ${JSON.stringify(validate?.errors)} in ${text.slice(0, 500)}`).toBe(
        true,
      );
      return json;
    }

    const acct = `a-${randomUUID().slice(0, 8)}`;
    const ev = (fields: Partial<StageEvent> = {}): StageEvent => ({
      ...completed(acct, "s1", "script"),
      type: "stage.started",
      ...fields,
    });
    await check("get", "/healthz", "/healthz", undefined);
    await check("get", "/readyz", "/readyz", undefined);
    await check("get", "/metrics", "/metrics", ops);
    await check("get", "/v1/openapi.json", "/v1/openapi.json", undefined);
    await check("get", "/v1/pricing", "/v1/pricing", undefined);
    await check("put", "/v1/accounts/{accountId}", `/v1/accounts/${acct}`, ops, { plan: "free" });
    await check("post", "/v1/accounts/{accountId}/cycles", `/v1/accounts/${acct}/cycles`, ops, cycleOf("c1", 50));
    await check("post", "/v1/accounts/{accountId}/packs", `/v1/accounts/${acct}/packs`, ops, {
      packId: "p1",
      credits: 10,
    });
    await check("post", "/v1/accounts/{accountId}/adjustments", `/v1/accounts/${acct}/adjustments`, ops, {
      adjustmentId: "adj1",
      credits: -1,
      reason: "test",
    });
    await check("post", "/v1/accounts/{accountId}/packs", `/v1/accounts/${acct}/packs`, ops, {
      packId: "p1",
      credits: 11,
    });
    const first = ev();
    await check("post", "/v1/events", "/v1/events", worker, first);
    await check("post", "/v1/events", "/v1/events?wait=5000", worker, ev());
    await check("post", "/v1/events", "/v1/events", worker, { ...ev(), colour: "red" });
    await check("post", "/v1/events", "/v1/events?wait=5000", worker, ev({ accountId: "ghost-account" }));
    await check("post", "/v1/events/batch", "/v1/events/batch", worker, { events: [ev(), { nope: 1 }] });
    await waitFor(
      async () => {
        const s = (await check(
          "get",
          "/v1/accounts/{accountId}/events/{eventId}",
          `/v1/accounts/${acct}/events/${first.eventId}`,
          ops,
        )) as { state: string };
        return s.state === "applied";
      },
      10_000,
      "applied",
    );
    await check("get", "/v1/accounts/{accountId}/balance", `/v1/accounts/${acct}/balance`, ops);
    await check("get", "/v1/accounts/{accountId}/balance", `/v1/accounts/nobody/balance`, ops);
    await check("get", "/v1/accounts/{accountId}/balance", `/v1/accounts/${acct}/balance`, undefined);
    await check("get", "/v1/accounts/{accountId}/sessions/{sessionId}", `/v1/accounts/${acct}/sessions/s1`, ops);
    await check("post", "/v1/quote", "/v1/quote", worker, { accountId: acct, items: [{ action: "image", scenes: 2 }] });
    await check("post", "/v1/quote", "/v1/quote", worker, { items: [{ action: "script", seconds: 2 }] });
    const budgetPath = "/v1/accounts/{accountId}/sessions/{sessionId}/budget";
    await check("put", budgetPath, `/v1/accounts/${acct}/sessions/s1/budget`, ops, { credits: 100 });
    await check("put", budgetPath, `/v1/accounts/${acct}/sessions/s1/budget`, ops, { credits: -1 });
    await check("put", budgetPath, `/v1/accounts/nobody/sessions/s1/budget`, ops, { credits: null });
    await check("put", budgetPath, `/v1/accounts/${acct}/sessions/s1/budget`, worker, { credits: null });
    await check(
      "put",
      "/v1/accounts/{accountId}/sessions/{sessionId}/plan",
      `/v1/accounts/${acct}/sessions/s1/plan`,
      worker,
      { items: [{ action: "script", count: 2 }] },
    );
    await check("get", "/v1/accounts/{accountId}/sessions/{sessionId}", `/v1/accounts/${acct}/sessions/s1`, ops);
    await check(
      "put",
      "/v1/accounts/{accountId}/sessions/{sessionId}/plan",
      `/v1/accounts/${acct}/sessions/s1/plan`,
      worker,
      { items: [{ action: "image", seconds: 2 }] },
    );
    await check("get", "/v1/accounts/{accountId}/usage", `/v1/accounts/${acct}/usage?groupBy=stage`, ops);
    await check("get", "/v1/accounts/{accountId}/ledger", `/v1/accounts/${acct}/ledger?limit=5`, ops);

    const key = ApiKeyCreated.parse(
      await check("post", "/v1/api-keys", "/v1/api-keys", ops, { name: "k", role: "worker", accountId: acct }),
    );
    await check("post", "/v1/events", "/v1/events", key.key, ev());
    await check("get", "/v1/api-keys", "/v1/api-keys", ops);
    await check("delete", "/v1/api-keys/{id}", `/v1/api-keys/${key.id}`, ops);
    await check("delete", "/v1/api-keys/{id}", `/v1/api-keys/${key.id}`, ops);

    const hook = CreatedWebhook.parse(
      await check("post", "/v1/webhooks", "/v1/webhooks", ops, {
        url: "http://127.0.0.1:9/hook",
        events: ["stage.denied"],
      }),
    );
    await check("get", "/v1/webhooks", "/v1/webhooks", ops);
    await check("get", "/v1/webhooks/{id}/deliveries", `/v1/webhooks/${hook.id}/deliveries`, ops);
    await check("post", "/v1/webhooks/{id}/rotate-secret", `/v1/webhooks/${hook.id}/rotate-secret`, ops, {});
    await check("delete", "/v1/webhooks/{id}", `/v1/webhooks/${hook.id}`, ops);

    const failed = ev({ accountId: "ghost-account" });
    await d.enqueue([failed]);
    await waitFor(async () => (await d.queue.getJobState(failed.eventId)) === "failed", 10_000, "failed job");
    await check("get", "/v1/ops/failed", "/v1/ops/failed?limit=5", ops);
    await check("post", "/v1/ops/failed/{jobId}/retry", `/v1/ops/failed/${failed.eventId}/retry`, ops);
    await waitFor(async () => (await d.queue.getJobState(failed.eventId)) === "failed", 10_000, "failed again");
    await check("delete", "/v1/ops/failed/{jobId}", `/v1/ops/failed/${failed.eventId}`, ops);
    await check("delete", "/v1/ops/failed/{jobId}", `/v1/ops/failed/${failed.eventId}`, ops);

    expect([...seen].sort()).toEqual([...new Set(OPERATIONS.map((o) => `${o.method} ${o.path}`))].sort());
  });
});
