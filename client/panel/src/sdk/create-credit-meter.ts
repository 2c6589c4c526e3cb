import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import type {
  AlertLevel,
  Balance,
  BalanceAlert,
  ClientToServerEvents,
  ServerToClientEvents,
  StageDenied,
  StageProgress,
} from "@creditmeter/shared";
import { jitteredDelay } from "./backoff.js";
import { Listeners } from "./listeners.js";
import { SeqGate } from "./seq-gate.js";
import { postQuote } from "./quote-request.js";
import { CreditMeterRequestError } from "./request-error.js";
import {
  AlertPayload,
  BalancePayload,
  BudgetAckPayload,
  DeniedPayload,
  OkAckPayload,
  ProgressPayload,
  SessionUpdatePayload,
  WatchAckPayload,
  type SessionFrame,
} from "./server-payloads.js";
import type { ConnectionState, CreditMeter, CreditMeterOptions, SessionState, Unsubscribe } from "./types.js";

type PanelSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Tuning that callers rarely need; tests shorten the delays. */
export interface ConnectionTuning {
  reconnectionDelayMs?: number;
  reconnectionDelayMaxMs?: number;
  randomizationFactor?: number;
  ackTimeoutMs?: number;
}

const BALANCE_KEY = "\u0000balance";

/** Middleware refusals the server will repeat for the same token: retrying would only hammer it. */
const FINAL_REFUSALS = new Set(["unauthorized", "forbidden"]);

/**
 * Connects a panel to the metering server (CONTRACT §6) over a websocket (long-polling where a
 * proxy blocks websockets), in browsers and Node. Reconnects with jittered backoff, asks
 * `getToken` (or `token`) afresh at every attempt and at once after `auth:expired`, re-watches every session
 * and takes fresh snapshots after a reconnect, and drops anything whose seq is not newer.
 * @example const meter = createCreditMeter({ url: "", token: () => sessionStorage.getItem("creditmeter.token") ?? "" });
 */
export function createCreditMeter(options: CreditMeterOptions & ConnectionTuning): CreditMeter {
  const tuning = {
    baseMs: options.reconnectionDelayMs ?? 500,
    maxMs: options.reconnectionDelayMaxMs ?? 10_000,
    randomizationFactor: options.randomizationFactor ?? 0.5,
  };
  const tokenSource = options.getToken ?? options.token ?? "";
  const currentToken = (): Promise<string> =>
    Promise.resolve(typeof tokenSource === "function" ? tokenSource() : tokenSource);
  const ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
  const socketOptions: Partial<ManagerOptions & SocketOptions> = {
    // Websocket first; where a proxy blocks it, long-polling (CONTRACT §6 v1.1).
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    reconnection: true,
    reconnectionDelay: tuning.baseMs,
    reconnectionDelayMax: tuning.maxMs,
    randomizationFactor: tuning.randomizationFactor,
    auth: (cb) => {
      const give = (token: string): void => cb(options.accountId ? { token, accountId: options.accountId } : { token });
      currentToken().then(give, () => give(""));
    },
  };
  const socket: PanelSocket = options.url === "" ? io(socketOptions) : io(options.url, socketOptions);

  const gate = new SeqGate();
  const sessions = new Map<string, { listeners: Listeners<SessionState>; latest: SessionState | null }>();
  const balances = new Listeners<Balance>();
  const alerts = new Listeners<BalanceAlert>();
  const progress = new Listeners<StageProgress>();
  const denied = new Listeners<StageDenied>();
  const states = new Listeners<ConnectionState>();
  let state: ConnectionState = "connecting";
  let balance: Balance | null = null;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let retryAttempt = 0;
  /** Set by `auth:expired`: the disconnect that follows is answered at once with a fresh token. */
  let tokenExpired = false;

  const setState = (next: ConnectionState): void => {
    if (next === state) return;
    state = next;
    states.emit(next);
  };

  const deliverSession = (update: SessionState): void => {
    const entry = sessions.get(update.sessionId);
    if (!entry || !gate.accept(update.sessionId, update.seq)) return;
    entry.latest = update;
    entry.listeners.emit(update);
  };

  const sendWatch = (sessionId: string): void => {
    if (!socket.connected) return; // sent on (re)connect instead
    const request = options.accountId ? { sessionId, accountId: options.accountId } : { sessionId };
    socket.emit("session:watch", request, (raw) => {
      const ack = WatchAckPayload.safeParse(raw);
      // The snapshot carries no `last`: the newest charge is known only from live updates.
      if (ack.success && ack.data.ok) deliverSession(sessionState(ack.data.session, null));
    });
  };

  // Middleware refusals are not retried by socket.io itself; a deploy's goodbye neither.
  const retryLater = (): void => {
    if (closed || retryTimer !== null) return;
    setState("reconnecting");
    retryTimer = setTimeout(
      () => {
        retryTimer = null;
        if (!closed) socket.connect();
      },
      jitteredDelay(retryAttempt++, tuning),
    );
  };

  socket.on("connect", () => {
    retryAttempt = 0;
    setState("connected");
    for (const sessionId of sessions.keys()) sendWatch(sessionId);
  });
  socket.on("disconnect", (reason) => {
    if (closed || reason === "io client disconnect") return;
    if (reason === "io server disconnect" && tokenExpired) {
      tokenExpired = false;
      setState("reconnecting");
      socket.connect(); // the auth callback asks getToken() for a fresh token
    } else if (reason === "io server disconnect") retryLater();
    else setState("reconnecting");
  });
  socket.on("connect_error", (err) => {
    if (closed) return;
    if (FINAL_REFUSALS.has(err.message)) {
      setState("unauthorized");
      socket.disconnect();
      return;
    }
    if (socket.active) setState(state === "connecting" ? "connecting" : "reconnecting");
    else retryLater();
  });

  /**
   * The account a quote is for: the option, else the balance's. Before the first balance it waits
   * for it (at most ackTimeoutMs): a quote without an account is priced on the free plan, not the
   * account's, and has no shortfall.
   */
  function quoteAccount(): Promise<string | undefined> {
    const known = options.accountId ?? balance?.accountId;
    if (known !== undefined || closed) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(undefined);
      }, ackTimeoutMs);
      const off = balances.add((b) => {
        clearTimeout(timer);
        off();
        resolve(b.accountId);
      });
    });
  }

  socket.on("auth:expired", () => {
    tokenExpired = true;
  });
  socket.on("balance:update", (raw) => {
    const parsed = BalancePayload.safeParse(raw);
    if (!parsed.success || !gate.accept(BALANCE_KEY, parsed.data.seq)) return;
    balance = parsed.data;
    balances.emit(parsed.data);
  });
  socket.on("session:update", (raw) => {
    const parsed = SessionUpdatePayload.safeParse(raw);
    if (parsed.success) deliverSession(sessionState(parsed.data, parsed.data.last));
  });
  socket.on("balance:alert", (raw) => {
    const parsed = AlertPayload.safeParse(raw);
    if (parsed.success) alerts.emit(parsed.data);
  });
  socket.on("stage:progress", (raw) => {
    const parsed = ProgressPayload.safeParse(raw);
    if (parsed.success && sessions.has(parsed.data.sessionId)) progress.emit(parsed.data);
  });
  socket.on("stage:denied", (raw) => {
    const parsed = DeniedPayload.safeParse(raw);
    if (parsed.success && sessions.has(parsed.data.sessionId)) denied.emit(parsed.data);
  });

  return {
    watchSession(sessionId: string, onUpdate: (update: SessionState) => void): Unsubscribe {
      let entry = sessions.get(sessionId);
      const first = !entry;
      if (!entry) {
        entry = { listeners: new Listeners<SessionState>(), latest: null };
        sessions.set(sessionId, entry);
      }
      const remove = entry.listeners.add(onUpdate);
      if (first) sendWatch(sessionId);
      else if (entry.latest) onUpdate(entry.latest);
      const watched = entry;
      return () => {
        remove();
        if (watched.listeners.size > 0 || sessions.get(sessionId) !== watched) return;
        sessions.delete(sessionId);
        gate.forget(sessionId);
        if (socket.connected)
          socket.emit(
            "session:unwatch",
            options.accountId ? { sessionId, accountId: options.accountId } : { sessionId },
          );
      };
    },
    onBalance: (listener) => balances.add(listener),
    onAlert: (listener) => alerts.add(listener),
    onProgress: (listener) => progress.add(listener),
    onDenied: (listener) => denied.add(listener),
    onState: (listener) => states.add(listener),
    async dismissAlert(level: AlertLevel): Promise<void> {
      const raw: unknown = await socket.timeout(ackTimeoutMs).emitWithAck("alert:dismiss", { level });
      const ack = OkAckPayload.safeParse(raw);
      if (!ack.success) throw new Error("dismissAlert: malformed answer from the server");
      if (!ack.data.ok) throw new Error(`dismissAlert: ${ack.data.error.message}`);
    },
    async setBudget(sessionId: string, credits: number | null): Promise<SessionState> {
      if (credits !== null && !(Number.isSafeInteger(credits) && credits >= 0)) {
        throw new CreditMeterRequestError("invalid_input", "setBudget: credits must be a whole number ≥ 0, or null");
      }
      const request = options.accountId ? { sessionId, credits, accountId: options.accountId } : { sessionId, credits };
      let raw: unknown;
      try {
        raw = await socket.timeout(ackTimeoutMs).emitWithAck("session:budget", request);
      } catch {
        throw new CreditMeterRequestError("timeout", "setBudget: no answer from the server");
      }
      const ack = BudgetAckPayload.safeParse(raw);
      if (!ack.success) throw new CreditMeterRequestError("internal", "setBudget: malformed answer from the server");
      if (!ack.data.ok) throw new CreditMeterRequestError(ack.data.error.code, ack.data.error.message);
      const session = sessionState(ack.data.session, null);
      deliverSession(session); // watchers see the new budget now, not only with the next update
      return session;
    },
    async quote(items) {
      const accountId = await quoteAccount();
      const body = accountId === undefined ? { items } : { accountId, items };
      return postQuote(options.url, await currentToken(), body, ackTimeoutMs);
    },
    get state() {
      return state;
    },
    get balance() {
      return balance;
    },
    close(): void {
      closed = true;
      if (retryTimer !== null) clearTimeout(retryTimer);
      retryTimer = null;
      socket.disconnect();
      setState("disconnected");
    },
  };
}

/** A session frame as listeners get it: budget and forecast null where the server sent none. */
function sessionState(frame: SessionFrame, last: SessionState["last"]): SessionState {
  return { ...frame, last, budget: frame.budget ?? null, forecast: frame.forecast ?? null };
}
