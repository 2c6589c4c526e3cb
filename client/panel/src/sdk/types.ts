import type {
  AlertLevel,
  Balance,
  BalanceAlert,
  QuoteAnswer,
  QuoteItem,
  SessionBudget,
  Forecast,
  SessionUpdate,
  StageDenied,
  StageProgress,
} from "@creditmeter/shared";

/** Where the live connection stands; the UI shows a hint for anything but "connected". */
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "disconnected" | "unauthorized";

export interface CreditMeterOptions {
  /** The metering server's base URL (e.g. "http://localhost:3000"); "" for the page's origin. */
  url: string;
  /** A bearer token, or a function that returns a fresh one at every (re)connect. */
  token?: string | (() => string | Promise<string>);
  /**
   * Asked for a fresh token at every (re)connect, and at once when the server says the current
   * one expired (`auth:expired`, CONTRACT §5 v1.1). Takes precedence over `token`.
   */
  getToken?: () => string | Promise<string>;
  /** For ops tokens: the account whose sessions and balance to watch. */
  accountId?: string;
}

/**
 * What `watchSession` delivers: the session update (CONTRACT §6) with its budget and forecast
 * (CONTRACT §10), each null when the session has none (or the server predates them).
 */
export type SessionState = SessionUpdate & { budget: SessionBudget | null; forecast: Forecast | null };

/** Stops a subscription. */
export type Unsubscribe = () => void;

/** The panel SDK: live session counter, balance and alerts (CONTRACT §6). */
export interface CreditMeter {
  /** Watches a session; `onUpdate` gets snapshots whose seq only grows (stale ones dropped). */
  watchSession(sessionId: string, onUpdate: (update: SessionState) => void): Unsubscribe;
  /** Balance snapshots (the first arrives on connect), seq only growing. */
  onBalance(listener: (balance: Balance) => void): Unsubscribe;
  /** Low-balance crossings as they happen. */
  onAlert(listener: (alert: BalanceAlert) => void): Unsubscribe;
  onProgress(listener: (progress: StageProgress) => void): Unsubscribe;
  onDenied(listener: (denied: StageDenied) => void): Unsubscribe;
  /** Hides the alert of `level` until the next crossing; persisted by the server. */
  dismissAlert(level: AlertLevel): Promise<void>;
  /**
   * Sets the session's budget in whole credits (`null` removes it) over `session:budget`;
   * resolves with the session after the change (also delivered to its watchers), rejects with a
   * CreditMeterRequestError carrying the server's code and message.
   */
  setBudget(sessionId: string, credits: number | null): Promise<SessionState>;
  /**
   * What `items` would cost on the account's plan (POST /v1/quote), with the shortfall against
   * the credits available now; nothing is charged. Rejects with a CreditMeterRequestError.
   */
  quote(items: QuoteItem[]): Promise<QuoteAnswer>;
  onState(listener: (state: ConnectionState) => void): Unsubscribe;
  readonly state: ConnectionState;
  /** The latest balance seen, or null before the first. */
  readonly balance: Balance | null;
  close(): void;
}
