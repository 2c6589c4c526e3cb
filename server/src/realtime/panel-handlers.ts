import {
  BudgetRequest,
  CreditmeterError,
  DismissRequest,
  UnwatchRequest,
  WatchRequest,
  fromZodError,
  type OkAck,
  type WatchAck,
} from "@creditmeter/shared";
import { canReadAccount, canSetBudget } from "../auth/permissions.js";
import type { Publisher } from "../ledger/api.js";
import { settleWebhooks, type WebhookSettler } from "../webhooks/settle.js";
import { ackError, safeAck } from "./ack.js";
import { sessionRoom } from "./rooms.js";
import type { PanelSocket, RealtimeDeps } from "./types.js";

export interface PanelContext {
  ledger: RealtimeDeps["ledger"];
  maxWatchedSessions: number;
  /** Where a change made here goes so that webhooks and /ops hear of it too (the server's FanOut). */
  changes: Publisher;
  /** The webhook outbox (webhooks/settle.ts); absent where no webhooks are queued. */
  outbox?: WebhookSettler;
  /**
   * Tests only (Config.testKillAfterLedger): called right after a budget set's script with its
   * sessionId (as the REST route does) and after a dismissal's with "dismiss:<accountId>".
   */
  afterLedger?: (id: string) => void;
  /** Resolves once room subscriptions are live across nodes (see RedisAdapterHandle.barrier). */
  barrier(): Promise<void>;
}

/**
 * The account a request addresses: a user always its own — an `accountId` it sends is ignored, so
 * it watches its own session of that id (CONTRACT §6) — ops the one named in the request, or else
 * the one chosen at the handshake.
 */
function targetAccount(socket: PanelSocket, requested: string | undefined): string {
  const { principal, accountId } = socket.data;
  if (principal.role === "user") return principal.accountId;
  const chosen = requested ?? accountId;
  if (chosen === null)
    throw new CreditmeterError("invalid_input", "invalid_input: accountId: required for ops tokens", "accountId");
  // The handshake checked only the account named then; a key scoped to one account must not watch another's sessions.
  if (!canReadAccount(principal, chosen))
    throw new CreditmeterError("forbidden", "forbidden: accountId: outside this key's account scope", "accountId");
  return chosen;
}

/**
 * The account whose session budget a request sets (CONTRACT §6, §10): a user only its own — unlike
 * a watch, naming another account is refused, since this is a write — ops as for a watch.
 */
function budgetAccount(socket: PanelSocket, requested: string | undefined): string {
  const { principal } = socket.data;
  const accountId = targetAccount(socket, requested);
  if (principal.role === "user" && requested !== undefined && requested !== accountId) {
    throw new CreditmeterError(
      "forbidden",
      `forbidden: accountId: a user sets budgets of its own account only`,
      "accountId",
    );
  }
  if (!canSetBudget(principal, accountId))
    throw new CreditmeterError("forbidden", `forbidden: role ${principal.role} may not set budgets`);
  return accountId;
}

function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import("zod").ZodError } },
  raw: unknown,
): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw fromZodError("invalid_input", parsed.error);
  return parsed.data;
}

/** Wires `session:watch`, `session:unwatch`, `session:budget` and `alert:dismiss` on one panel socket. */
export function registerPanelHandlers(socket: PanelSocket, ctx: PanelContext): void {
  socket.on("session:watch", async (raw: unknown, rawAck: unknown) => {
    const ack = safeAck<WatchAck>(rawAck);
    let joined: string | null = null;
    try {
      const request = parse(WatchRequest, raw);
      const accountId = targetAccount(socket, request.accountId);
      const room = sessionRoom(accountId, request.sessionId);
      const { watched } = socket.data;
      if (!watched.has(room) && watched.size >= ctx.maxWatchedSessions) {
        throw new CreditmeterError(
          "rate_limited",
          `rate_limited: at most ${ctx.maxWatchedSessions} sessions watched per connection`,
        );
      }
      if (!watched.has(room)) joined = room;
      watched.add(room);
      await socket.join(room);
      await ctx.barrier();
      ack({ ok: true, session: await ctx.ledger.session(accountId, request.sessionId) });
    } catch (err) {
      if (joined !== null) {
        socket.data.watched.delete(joined);
        await socket.leave(joined);
      }
      ack({ ok: false, error: ackError(err) });
    }
  });

  socket.on("session:unwatch", async (raw: unknown, rawAck: unknown) => {
    const ack = safeAck<OkAck>(rawAck);
    try {
      const request = parse(UnwatchRequest, raw);
      const room = sessionRoom(targetAccount(socket, request.accountId), request.sessionId);
      socket.data.watched.delete(room);
      await socket.leave(room);
      ack({ ok: true });
    } catch (err) {
      ack({ ok: false, error: ackError(err) });
    }
  });

  socket.on("session:budget", async (raw: unknown, rawAck: unknown) => {
    const ack = safeAck<WatchAck>(rawAck);
    try {
      const request = parse(BudgetRequest, raw);
      const outcome = await ctx.ledger.setBudget(
        budgetAccount(socket, request.accountId),
        request.sessionId,
        request.credits,
      );
      ctx.afterLedger?.(request.sessionId);
      // Committed: a failed push must not turn the answer into an error (the panel would retry).
      try {
        ctx.changes.publish(outcome);
      } catch {
        // The watchers converge on their next update or reconnect snapshot.
      }
      // Acked once its webhooks are queued; on failure the panel's retry owes them again.
      await settleWebhooks(ctx.outbox, outcome);
      ack({ ok: true, session: outcome.session });
    } catch (err) {
      ack({ ok: false, error: ackError(err) });
    }
  });

  socket.on("alert:dismiss", async (raw: unknown, rawAck: unknown) => {
    const ack = safeAck<OkAck>(rawAck);
    try {
      const request = parse(DismissRequest, raw);
      const accountId = targetAccount(socket, undefined);
      const outcome = await ctx.ledger.dismissAlert(accountId, request.level);
      ctx.afterLedger?.(`dismiss:${accountId}`);
      // Every panel of the account (on any node) hides the banner, including after a no-op dismiss.
      // A crossing its time-due work raised is pushed as any crossing is (CONTRACT §6 `balance:alert`,
      // once per crossing), to every listener as the plan route's (/ops too); the banner follows the
      // balance, which carries the dismissal. Committed: a failed push must not fail the answer.
      try {
        ctx.changes.publish({
          ...outcome,
          repush: true,
          sessions: [],
          denied: null,
          progress: null,
          charge: null,
        });
      } catch {
        // The panels converge on their next update or reconnect snapshot.
      }
      // The alert of time-due work it did is kept in the account until queued: acked once it is
      // (on failure the panel's retry owes it again, docs/webhooks.md "The gap").
      await settleWebhooks(ctx.outbox, outcome);
      ack({ ok: true });
    } catch (err) {
      ack({ ok: false, error: ackError(err) });
    }
  });
}
