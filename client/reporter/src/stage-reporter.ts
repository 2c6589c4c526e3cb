import { Queue } from "bullmq";
import {
  CreditmeterError,
  type EventResult,
  fromZodError,
  parseStageEvent,
  PlanBody,
  QuoteAnswer,
  SessionSnapshot,
  type ActionId,
  type QuoteItem,
  type StageEvent,
  type StageEventType,
} from "@creditmeter/shared";
import { ReporterHttp } from "./http-api.js";
import { stageEventId } from "./event-id.js";
import { DecisionTimeoutError, EventRejectedError, ReporterClosedError } from "./errors.js";
import { isGranted, parseResult } from "./read-result.js";
import { OutcomeWaiter } from "./outcome-waiter.js";
import { resolveConnection, type ResolvedConnection } from "./redis-connection.js";
import {
  parseReporterOptions,
  type CompleteDetails,
  type EventOutcome,
  type ReporterSettings,
  type SendOptions,
  type StageReporterOptions,
  type StartDecision,
  type StartDetails,
} from "./reporter-options.js";

// A processor that crashed on a transient fault gets more tries; a refused event fails at once
// (the server throws UnrecoverableError). Job retention is the server's worker setting.
const JOB_OPTIONS = { attempts: 5, backoff: { type: "exponential", delay: 500 } } as const;

/** The session as PUT …/plan answers it: the snapshot, with the plan's forecast (CONTRACT §10). */
export type PlannedSession = SessionSnapshot;

type EventFields = Pick<StageEvent, "action" | "model" | "scenes" | "seconds" | "progress" | "reason">;

/**
 * Reports a generation session's stage events to the metering server over the BullMQ queue
 * (CONTRACT §2): one reporter per account and session. Every event is checked before it leaves
 * the process, and its id is derived from the call, so repeating a call is harmless.
 *
 * @example
 * const reporter = new StageReporter({ connection: { url: "redis://127.0.0.1:6379" }, accountId: "acme", sessionId: "s1" });
 * const { granted } = await reporter.started("scene-1", { action: "animation", model: "veo-3.1", seconds: 8 });
 * if (granted) await reporter.completed("scene-1", { action: "animation", model: "veo-3.1", seconds: 8 });
 * await reporter.close();
 */
export class StageReporter {
  private readonly settings: ReporterSettings;
  private readonly connection: ResolvedConnection;
  private readonly queue: Queue;
  private readonly waiter: OutcomeWaiter;
  private readonly http: ReporterHttp | null;
  private closing: Promise<void> | undefined;

  /** Throws a CreditmeterError naming the option when one is invalid. */
  constructor(options: StageReporterOptions) {
    this.settings = parseReporterOptions(options);
    const onError = options.onError ?? (() => undefined);
    this.connection = resolveConnection(options.connection, onError);
    this.queue = new Queue(this.settings.queueName, { connection: this.connection.bull, prefix: this.settings.prefix });
    this.queue.on("error", onError);
    this.waiter = new OutcomeWaiter(this.queue, this.connection, onError);
    this.http = options.http ? new ReporterHttp(options.http) : null;
  }

  /**
   * Registers the work this session expects to do (PUT …/sessions/:sessionId/plan, CONTRACT §10),
   * so the panel shows what the rest of the video costs and warns before the credits run out.
   * Calling it again replaces the plan; `[]` removes it. Needs the `http` option. Resolves with the session and its forecast.
   */
  async plan(items: QuoteItem[]): Promise<PlannedSession> {
    const body = this.checkItems(items);
    const { accountId, sessionId } = this.settings;
    const path = `/v1/accounts/${encodeURIComponent(accountId)}/sessions/${encodeURIComponent(sessionId)}/plan`;
    return this.api("plan").send("PUT", path, body, SessionSnapshot);
  }

  /**
   * What `items` would be charged on the account's plan (POST /v1/quote), with the shortfall
   * against the credits available now; nothing changes in the ledger. Needs the `http` option.
   */
  async quote(items: QuoteItem[]): Promise<QuoteAnswer> {
    const body = this.checkItems(items);
    return this.api("quote").send("POST", "/v1/quote", { accountId: this.settings.accountId, ...body }, QuoteAnswer);
  }

  /** Asks for a hold for the step; resolves with the server's decision (granted or denied). */
  async started(stepId: string, details: StartDetails): Promise<StartDecision> {
    const { attempt = 1, ...fields } = details;
    const event = this.prepare("stage.started", stepId, pick(fields), attempt);
    const result = await this.deliverAndWait(event);
    return {
      granted: isGranted(result),
      held: result.held,
      available: result.available,
      status: result.status,
      eventId: event.eventId,
      ...(result.denyReason === undefined ? {} : { denyReason: result.denyReason }),
    };
  }

  /** Reports how far the step is (0..1); resolves with the event id once queued. */
  progress(stepId: string, action: ActionId, progress: number, opts?: { wait?: false }): Promise<string>;
  progress(stepId: string, action: ActionId, progress: number, opts: { wait: true }): Promise<EventOutcome>;
  async progress(
    stepId: string,
    action: ActionId,
    progress: number,
    opts?: SendOptions,
  ): Promise<string | EventOutcome> {
    // Each distinct value is its own event; repeating the same value is the same event.
    return this.send(this.prepare("stage.progress", stepId, { action, progress }, 1, String(progress)), opts);
  }

  /** Reports the step done with its actual quantities (it is charged in full). */
  completed(stepId: string, details: CompleteDetails, opts?: { wait?: false }): Promise<string>;
  completed(stepId: string, details: CompleteDetails, opts: { wait: true }): Promise<EventOutcome>;
  async completed(stepId: string, details: CompleteDetails, opts?: SendOptions): Promise<string | EventOutcome> {
    return this.send(this.prepare("stage.completed", stepId, pick(details), 1), opts);
  }

  /** Reports the step abandoned: its hold is released and nothing is charged. */
  failed(stepId: string, action: ActionId, reason?: string, opts?: { wait?: false }): Promise<string>;
  failed(stepId: string, action: ActionId, reason: string | undefined, opts: { wait: true }): Promise<EventOutcome>;
  async failed(stepId: string, action: ActionId, reason?: string, opts?: SendOptions): Promise<string | EventOutcome> {
    return this.send(this.prepare("stage.failed", stepId, { action, reason }, 1), opts);
  }

  /** Stops waiting (pending calls reject; their events stay queued) and lets go of Redis. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.waiter.close();
      await this.queue.close();
      await this.connection.release();
    })();
    return this.closing;
  }

  private api(method: string): ReporterHttp {
    if (this.closing) throw new Error("the reporter is closed");
    if (!this.http)
      throw new CreditmeterError(
        "invalid_input",
        `invalid_input: http: ${method}() needs the http option (the server's URL and a token)`,
        "http",
      );
    return this.http;
  }

  /** Checks items as the server will (CONTRACT §10): a bad one throws `invalid_input: items.<i>.<field>: …`. */
  private checkItems(items: QuoteItem[]): PlanBody {
    const parsed = PlanBody.safeParse({ items });
    if (!parsed.success) throw fromZodError("invalid_input", parsed.error);
    return parsed.data;
  }

  /** Builds and checks the event: a bad call throws here and nothing is queued. */
  private prepare(
    type: StageEventType,
    stepId: string,
    fields: EventFields,
    attempt: number,
    discriminator?: string,
  ): StageEvent {
    if (this.closing) throw new Error("the reporter is closed");
    if (!Number.isInteger(attempt) || attempt < 1 || attempt > 1_000_000) {
      throw new CreditmeterError(
        "invalid_event",
        "invalid_event: attempt: must be an integer from 1 to 1000000",
        "attempt",
      );
    }
    const { accountId, sessionId, priceBook, retentionMs, now } = this.settings;
    const at = now();
    const eventId = stageEventId({ accountId, sessionId, stepId, type, attempt, discriminator });
    const draft = {
      v: 1,
      eventId,
      type,
      accountId,
      sessionId,
      stepId,
      ...defined(fields),
      occurredAt: at.toISOString(),
    };
    return parseStageEvent(draft, { book: priceBook, now: at.getTime(), retentionMs });
  }

  private async send(event: StageEvent, opts: SendOptions | undefined): Promise<string | EventOutcome> {
    if (!opts?.wait) {
      await this.enqueue(event);
      return event.eventId;
    }
    return { ...(await this.deliverAndWait(event)), eventId: event.eventId };
  }

  private async enqueue(event: StageEvent): Promise<void> {
    // Same job id as an earlier call: BullMQ keeps the first job and adds nothing.
    await this.queue.add(event.type, event, { jobId: event.eventId, ...JOB_OPTIONS });
  }

  private async deliverAndWait(event: StageEvent): Promise<EventResult> {
    await this.waiter.listen(); // before adding, so an answer cannot slip past
    if (this.closing) throw new Error("the reporter is closed");
    await this.enqueue(event);
    const { eventId } = event;
    const outcome = await this.waiter.wait(
      eventId,
      this.settings.decisionTimeoutMs,
      () => new ReporterClosedError(eventId),
    );
    if (outcome.kind === "timeout") throw new DecisionTimeoutError(eventId, this.settings.decisionTimeoutMs);
    if (outcome.kind === "failed") throw new EventRejectedError(eventId, outcome.reason);
    return parseResult(eventId, outcome.value);
  }
}

/** Keeps only the event fields of a details object (a JS caller may pass more). */
function pick(details: CompleteDetails): EventFields {
  return { action: details.action, model: details.model, scenes: details.scenes, seconds: details.seconds };
}

function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}
