// Every REST operation in one table: what GET /v1/openapi.json is generated from. Adding a route
// means adding its row here (test/http/openapi.test.ts fails for a route without one). Request
// schemas are the very ones the routes validate with; answers are the shared wire schemas.
import { z } from "zod";
import {
  AdjustmentBody,
  ApiKeyCreateBody,
  ApiKeyCreated,
  ApiKeyList,
  ApiKeyParams,
  Balance,
  BudgetBody,
  CreateWebhookBody,
  CreatedWebhook,
  CycleBody,
  ErrorBody,
  EventAccepted,
  EventBatchAnswer,
  EventBatchBody,
  EventDecided,
  EventStatus,
  EventWaitQuery,
  LedgerPage,
  LedgerQuery,
  PackBody,
  PlanBody,
  PriceBookSchema,
  PutAccountBody,
  QuoteAnswer,
  QuoteBody,
  RotateSecretBody,
  RotatedSecret,
  SessionSnapshot,
  StageEventSchema,
  Usage,
  UsageQuery,
  WebhookDeliveryList,
  WebhookList,
} from "@creditmeter/shared";
import { AccountParams, SessionParams } from "../validate.js";
import { EventParams } from "../routes/event-status.js";
import { JobParams, ListQuery as FailedListQuery } from "../routes/failed-jobs.js";
import { WebhookParams } from "../routes/webhooks.js";

/** One answer of an operation: JSON of `schema`, plain text, or no body. */
export interface Answer {
  description: string;
  schema?: z.ZodType;
  /** A text body (Prometheus metrics) instead of JSON. */
  text?: boolean;
}

/** One REST operation as the document states it. */
export interface Operation {
  method: "get" | "post" | "put" | "delete";
  /** OpenAPI style: `/v1/accounts/{accountId}/balance`. */
  path: string;
  summary: string;
  tag: "events" | "accounts" | "reads" | "api-keys" | "webhooks" | "ops" | "meta";
  /** `none`: open; `bearer`: a JWT or an API key; `metrics`: bearer unless CREDITMETER_METRICS_PUBLIC. */
  auth: "none" | "bearer" | "metrics";
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, Answer>;
}

const error = (description: string): Answer => ({ description, schema: ErrorBody });
/** The errors most authenticated operations can answer. */
const AUTH_ERRORS = { 401: error("unauthorized: missing, invalid or revoked token or key"), 403: error("forbidden") };
const INPUT = { 400: error("invalid_input naming the field (details.field)") };
const ACCOUNT = { 404: error("unknown_account") };
// History in PostgreSQL (CONTRACT §11): a read reaching past the hot trail while PostgreSQL is down.
const ARCHIVE = {
  503: error("unavailable: the read needs the ledger's history in PostgreSQL, which cannot be reached"),
};

const FailedJob = z.object({
  jobId: z.string(),
  name: z.string(),
  failedReason: z.string(),
  attemptsMade: z.number().int(),
  failedAt: z.string().nullable(),
  queuedAt: z.string(),
  eventId: z.string().nullable(),
  accountId: z.string().nullable(),
  sessionId: z.string().nullable(),
  data: z.unknown(),
});
const FailedPage = z.object({ total: z.number().int(), offset: z.number().int(), jobs: z.array(FailedJob) });

const opsWrite = (path: string, summary: string, body: z.ZodType): Operation => ({
  method: path.endsWith("}") ? "put" : "post",
  path,
  summary,
  tag: "accounts",
  auth: "bearer",
  params: AccountParams,
  body,
  responses: {
    200: { description: "the account's balance after the change", schema: Balance },
    ...INPUT,
    ...AUTH_ERRORS,
    ...ACCOUNT,
    409: error("conflict"),
  },
});

/** The operations table (CONTRACT §3–5, §7). */
export const OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/healthz",
    summary: "Liveness",
    tag: "meta",
    auth: "none",
    responses: { 200: { description: "alive", schema: z.object({ ok: z.literal(true) }) } },
  },
  {
    method: "get",
    path: "/readyz",
    summary: "Readiness: Redis reachable and the consumer running; 503 while starting or draining",
    tag: "meta",
    auth: "none",
    responses: {
      200: { description: "ready", schema: z.object({ ready: z.boolean() }) },
      503: { description: "not ready", schema: z.object({ ready: z.boolean() }) },
    },
  },
  {
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics",
    tag: "meta",
    auth: "metrics",
    responses: { 200: { description: "Prometheus text format", text: true }, ...AUTH_ERRORS },
  },
  {
    method: "get",
    path: "/v1/openapi.json",
    summary: "This document",
    tag: "meta",
    auth: "none",
    responses: { 200: { description: "OpenAPI 3.1", schema: z.record(z.string(), z.unknown()) } },
  },
  {
    method: "get",
    path: "/v1/pricing",
    summary: "The price book in force",
    tag: "meta",
    auth: "none",
    responses: { 200: { description: "the price book", schema: PriceBookSchema } },
  },
  {
    method: "post",
    path: "/v1/events",
    summary: "Queue a stage event; with ?wait, answer its decision once applied",
    tag: "events",
    auth: "bearer",
    query: EventWaitQuery,
    body: StageEventSchema,
    responses: {
      200: { description: "applied within the wait: the processor's result", schema: EventDecided },
      202: { description: "queued (not applied within the wait)", schema: EventAccepted },
      400: error("invalid_event naming the field; nothing queued"),
      ...AUTH_ERRORS,
      404: error("unknown_account (the event failed after queueing)"),
      409: error("conflict: the eventId was used with another body"),
      413: error("invalid_event: body over the limit"),
    },
  },
  {
    method: "post",
    path: "/v1/events/batch",
    summary: "Queue 1–500 events; invalid ones are listed by index and not queued",
    tag: "events",
    auth: "bearer",
    body: EventBatchBody,
    responses: {
      202: { description: "what was queued and what was refused", schema: EventBatchAnswer },
      ...INPUT,
      ...AUTH_ERRORS,
      413: error("body over the limit"),
    },
  },
  {
    method: "get",
    path: "/v1/accounts/{accountId}/events/{eventId}",
    summary: "Where an event stands: queued, applied (with its result), failed or unknown",
    tag: "events",
    auth: "bearer",
    params: EventParams,
    responses: { 200: { description: "the event's state", schema: EventStatus }, ...INPUT, ...AUTH_ERRORS },
  },
  {
    method: "post",
    path: "/v1/quote",
    summary:
      "What items would be charged on a plan (or an account's plan), and whether its credits cover them; changes nothing",
    tag: "reads",
    auth: "bearer",
    body: QuoteBody,
    responses: {
      200: { description: "the quote", schema: QuoteAnswer },
      400: error("invalid_input naming items[i].field"),
      ...AUTH_ERRORS,
      ...ACCOUNT,
    },
  },
  opsWrite("/v1/accounts/{accountId}", "Create or update an account", PutAccountBody),
  opsWrite("/v1/accounts/{accountId}/cycles", "Start a billing cycle", CycleBody),
  opsWrite("/v1/accounts/{accountId}/packs", "Add a credit pack", PackBody),
  opsWrite("/v1/accounts/{accountId}/adjustments", "A signed correction", AdjustmentBody),
  {
    method: "get",
    path: "/v1/accounts/{accountId}/balance",
    summary: "The balance",
    tag: "reads",
    auth: "bearer",
    params: AccountParams,
    responses: { 200: { description: "balance", schema: Balance }, ...INPUT, ...AUTH_ERRORS, ...ACCOUNT },
  },
  {
    method: "get",
    path: "/v1/accounts/{accountId}/sessions/{sessionId}",
    summary: "A session's totals",
    tag: "reads",
    auth: "bearer",
    params: SessionParams,
    responses: {
      200: { description: "session snapshot", schema: SessionSnapshot },
      ...INPUT,
      ...AUTH_ERRORS,
      ...ACCOUNT,
    },
  },
  {
    method: "put",
    path: "/v1/accounts/{accountId}/sessions/{sessionId}/budget",
    summary: "Set (credits) or remove (null) a session's budget: the account's user or ops",
    tag: "accounts",
    auth: "bearer",
    params: SessionParams,
    body: BudgetBody,
    responses: {
      200: { description: "the session snapshot after the change", schema: SessionSnapshot },
      ...INPUT,
      ...AUTH_ERRORS,
      ...ACCOUNT,
    },
  },
  {
    method: "put",
    path: "/v1/accounts/{accountId}/sessions/{sessionId}/plan",
    summary: "Record the work a session expects (items: [] removes it); answers the snapshot with its forecast",
    tag: "reads",
    auth: "bearer",
    params: SessionParams,
    body: PlanBody,
    responses: {
      200: { description: "the session snapshot after the change", schema: SessionSnapshot },
      400: error("invalid_input naming items[i].field"),
      ...AUTH_ERRORS,
      ...ACCOUNT,
    },
  },
  {
    method: "get",
    path: "/v1/accounts/{accountId}/usage",
    summary: "Usage totals",
    tag: "reads",
    auth: "bearer",
    params: AccountParams,
    query: UsageQuery,
    responses: { 200: { description: "usage", schema: Usage }, ...INPUT, ...AUTH_ERRORS, ...ACCOUNT, ...ARCHIVE },
  },
  {
    method: "get",
    path: "/v1/accounts/{accountId}/ledger",
    summary: "The audit trail, newest first",
    tag: "reads",
    auth: "bearer",
    params: AccountParams,
    query: LedgerQuery,
    responses: {
      200: { description: "one page", schema: LedgerPage },
      ...INPUT,
      ...AUTH_ERRORS,
      ...ACCOUNT,
      ...ARCHIVE,
    },
  },
  {
    method: "post",
    path: "/v1/api-keys",
    summary: "Create an API key (shown once)",
    tag: "api-keys",
    auth: "bearer",
    body: ApiKeyCreateBody,
    responses: { 201: { description: "the key", schema: ApiKeyCreated }, ...INPUT, ...AUTH_ERRORS },
  },
  {
    method: "get",
    path: "/v1/api-keys",
    summary: "List API keys (never the key)",
    tag: "api-keys",
    auth: "bearer",
    responses: { 200: { description: "keys", schema: ApiKeyList }, ...AUTH_ERRORS },
  },
  {
    method: "delete",
    path: "/v1/api-keys/{id}",
    summary: "Revoke an API key",
    tag: "api-keys",
    auth: "bearer",
    params: ApiKeyParams,
    responses: { 204: { description: "revoked" }, ...INPUT, ...AUTH_ERRORS, 404: error("not_found") },
  },
  {
    method: "post",
    path: "/v1/webhooks",
    summary: "Register a webhook (its secret shown once)",
    tag: "webhooks",
    auth: "bearer",
    body: CreateWebhookBody,
    responses: { 201: { description: "the webhook", schema: CreatedWebhook }, ...INPUT, ...AUTH_ERRORS },
  },
  {
    method: "get",
    path: "/v1/webhooks",
    summary: "List webhooks",
    tag: "webhooks",
    auth: "bearer",
    responses: { 200: { description: "webhooks", schema: WebhookList }, ...AUTH_ERRORS },
  },
  {
    method: "delete",
    path: "/v1/webhooks/{id}",
    summary: "Delete a webhook",
    tag: "webhooks",
    auth: "bearer",
    params: WebhookParams,
    responses: { 204: { description: "deleted" }, ...AUTH_ERRORS, 404: error("not_found") },
  },
  {
    method: "get",
    path: "/v1/webhooks/{id}/deliveries",
    summary: "A webhook's deliveries, newest first",
    tag: "webhooks",
    auth: "bearer",
    params: WebhookParams,
    responses: {
      200: { description: "deliveries", schema: WebhookDeliveryList },
      ...AUTH_ERRORS,
      404: error("not_found"),
    },
  },
  {
    method: "post",
    path: "/v1/webhooks/{id}/rotate-secret",
    summary: "Rotate a webhook's secret (the old one signs too during the grace)",
    tag: "webhooks",
    auth: "bearer",
    params: WebhookParams,
    body: RotateSecretBody.optional(),
    responses: {
      200: { description: "the new secret", schema: RotatedSecret },
      ...INPUT,
      ...AUTH_ERRORS,
      404: error("not_found"),
    },
  },
  {
    method: "get",
    path: "/v1/ops/failed",
    summary: "Failed jobs, newest first",
    tag: "ops",
    auth: "bearer",
    query: FailedListQuery,
    responses: { 200: { description: "one page", schema: FailedPage }, ...INPUT, ...AUTH_ERRORS },
  },
  {
    method: "post",
    path: "/v1/ops/failed/{jobId}/retry",
    summary: "Move a failed job back to the queue",
    tag: "ops",
    auth: "bearer",
    params: JobParams,
    responses: {
      200: { description: "retried", schema: z.object({ jobId: z.string(), retried: z.literal(true) }) },
      ...AUTH_ERRORS,
      404: error("not_found"),
    },
  },
  {
    method: "delete",
    path: "/v1/ops/failed/{jobId}",
    summary: "Discard a failed job",
    tag: "ops",
    auth: "bearer",
    params: JobParams,
    responses: {
      200: { description: "discarded", schema: z.object({ jobId: z.string(), discarded: z.literal(true) }) },
      ...AUTH_ERRORS,
      404: error("not_found"),
    },
  },
];
