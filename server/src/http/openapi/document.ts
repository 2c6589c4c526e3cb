import { z } from "zod";
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponseObject } from "zod-openapi";
import { OPERATIONS, type Answer, type Operation } from "./operations.js";

/** A stable operationId from method and path: `get_v1_accounts_accountId_balance`. */
function operationId(op: Operation): string {
  return `${op.method}${op.path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+/g, "_")}`.replace(/_+$/, "");
}

function answer(a: Answer): ZodOpenApiResponseObject {
  if (a.text) return { description: a.description, content: { "text/plain": { schema: z.string() } } };
  if (!a.schema) return { description: a.description };
  return { description: a.description, content: { "application/json": { schema: a.schema } } };
}

function operation(op: Operation): ZodOpenApiOperationObject {
  const responses = Object.fromEntries(Object.entries(op.responses).map(([status, a]) => [status, answer(a)]));
  return {
    operationId: operationId(op),
    summary: op.summary,
    tags: [op.tag],
    // `metrics` is open when CREDITMETER_METRICS_PUBLIC=true: both are stated.
    security: op.auth === "none" ? [] : op.auth === "metrics" ? [{ bearer: [] }, {}] : [{ bearer: [] }],
    ...(op.params || op.query ? { requestParams: { ...(op.params ? { path: op.params } : {}), ...(op.query ? { query: op.query } : {}) } } : {}),
    ...(op.body ? { requestBody: { required: !op.body.safeParse(undefined).success, content: { "application/json": { schema: op.body } } } } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of every REST operation, generated from the operations table. */
export function buildOpenApiDocument(version: string): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  for (const op of OPERATIONS) paths[op.path] = { ...paths[op.path], [op.method]: operation(op) };
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "creditmeter",
      version,
      description: "Credit metering for AI video generation: events, balances, API keys and webhooks (CONTRACT.md v1.1).",
    },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "A JWT (HS256 or the JWKS) or an API key (`cmk_…`)" },
      },
    },
    paths,
  });
}
