import { z } from "zod";
import {
  AccountId,
  CreditmeterError,
  DEFAULT_PRICE_BOOK,
  SessionId,
  fromZodError,
  type ActionId,
  type DenyReason,
  type EventResult,
  type PriceBook,
} from "@creditmeter/shared";
import type { ReporterConnection } from "./redis-connection.js";
import type { ReporterHttpOptions } from "./http-api.js";

/** How a StageReporter is set up. */
export interface StageReporterOptions {
  /** A node-redis client (connected or not; the reporter never closes it) or `{ url }`. */
  connection: ReporterConnection;
  /** The BullMQ queue name (CREDITMETER_QUEUE on the server). */
  queueName?: string;
  /** The BullMQ key prefix (CREDITMETER_QUEUE_PREFIX on the server). */
  prefix?: string;
  accountId: string;
  sessionId: string;
  /** How long `started` (and `{ wait: true }` calls) wait for the answer once the event is queued. */
  decisionTimeoutMs?: number;
  /** The clock stamped into `occurredAt`. */
  now?: () => Date;
  /** The price book events are checked against; the server's must agree. */
  priceBook?: PriceBook;
  /** Idempotency retention the server uses: older events are refused (30 days by default). */
  retentionMs?: number;
  /** Connection errors (node-redis reconnects by itself); ignored unless given. */
  onError?: (error: Error) => void;
  /**
   * The server's REST API, for `plan` and `quote` (CONTRACT §10), which are not queue events:
   * its base URL and a `worker` token or API key. Events still go through the queue.
   */
  http?: ReporterHttpOptions;
}

const Settings = z.object({
  queueName: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[^:]+$/, "must not contain ':'")
    .default("credit-events"),
  prefix: z.string().min(1).max(100).default("{creditmeter}"),
  accountId: AccountId,
  sessionId: SessionId,
  decisionTimeoutMs: z.number().int().min(1).max(600_000).default(10_000),
  retentionMs: z
    .number()
    .int()
    .min(60_000)
    .default(30 * 24 * 3600_000),
});
const HttpUrl = z.url({ protocol: /^https?$/ });
export type ReporterSettings = z.infer<typeof Settings> & { now: () => Date; priceBook: PriceBook };

/** Parses the options, throwing a CreditmeterError (`invalid_input: <field>: …`) when one is bad. */
export function parseReporterOptions(options: StageReporterOptions): ReporterSettings {
  const { connection: _connection, now, priceBook, onError: _onError, http, ...rest } = options;
  if (http !== undefined && !HttpUrl.safeParse(http.url).success) {
    throw new CreditmeterError("invalid_input", "invalid_input: http.url: must be an http(s) URL", "http.url");
  }
  const parsed = Settings.safeParse(rest);
  if (!parsed.success) throw fromZodError("invalid_input", parsed.error);
  return { ...parsed.data, now: now ?? (() => new Date()), priceBook: priceBook ?? DEFAULT_PRICE_BOOK };
}

/** What a step's start declares: the quantities the hold is quoted from. */
export interface StartDetails {
  action: ActionId;
  /** Required for `animation`. */
  model?: string;
  /** Per-scene actions; 1 when absent. */
  scenes?: number;
  /** Per-second actions: the estimate. */
  seconds?: number;
  /** 1 for the first try; a new start after a denial is attempt + 1 (a new event). */
  attempt?: number;
}

/** What a finished step declares: the actual quantities charged. */
export interface CompleteDetails {
  action: ActionId;
  model?: string;
  scenes?: number;
  /** Per-second actions: the actual seconds (required for them). */
  seconds?: number;
}

/** Set `wait` to resolve with the server's answer instead of as soon as the event is queued. */
export interface SendOptions {
  wait?: boolean;
}

/** The server's answer to a `stage.started`. */
export interface StartDecision {
  /** True when the hold was placed now or, for a repeated call, was placed the first time. */
  granted: boolean;
  held: number;
  available: number;
  status: EventResult["status"];
  eventId: string;
  /** Why a start was denied (CONTRACT §2 v1.1): the account's credits, or the session's budget. */
  denyReason?: DenyReason;
}

/** The server's answer to any event, with the id it was queued under. */
export type EventOutcome = EventResult & { eventId: string };
