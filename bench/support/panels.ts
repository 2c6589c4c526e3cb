import { io, type Socket } from "socket.io-client";
import type { Deployment } from "./deploy.js";

/** What a panel in the bench needs of a `session:update`. */
export interface UpdateSeen {
  sessionId: string;
  used: number;
  seq: number;
  last: { eventId: string } | null;
}

/** One panel socket watching one session, keeping the newest numbers it was pushed. */
export interface Panel {
  socket: Socket;
  accountId: string;
  sessionId: string;
  used: number;
  seq: number;
  /** The account balance this panel shows (newest `balance:update` by seq) and how it got there. */
  balance: { available: number; seq: number; pushes: number; backwards: number };
}

function asUpdate(raw: unknown): UpdateSeen | null {
  if (typeof raw !== "object" || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (typeof r.sessionId !== "string" || typeof r.used !== "number" || typeof r.seq !== "number") return null;
  const last =
    typeof r.last === "object" && r.last !== null && "eventId" in r.last && typeof r.last.eventId === "string"
      ? { eventId: r.last.eventId }
      : null;
  return { sessionId: r.sessionId, used: r.used, seq: r.seq, last };
}

function connectOne(
  url: string,
  token: string,
  accountId: string,
  sessionId: string,
  onUpdate: (p: Panel, u: UpdateSeen) => void,
): Promise<Panel> {
  const socket = io(url, {
    transports: ["websocket"],
    auth: { token },
    reconnection: false,
    forceNew: true,
    timeout: 30_000,
  });
  const panel: Panel = {
    socket,
    accountId,
    sessionId,
    used: 0,
    seq: -1,
    balance: { available: -1, seq: -1, pushes: 0, backwards: 0 },
  };
  // Like the panel SDK: a balance not newer than the one shown is dropped (CONTRACT §6); the
  // bench counts pushes (the account room's fan-out) and any that came out of order.
  socket.on("balance:update", (raw: { available?: unknown; seq?: unknown }) => {
    if (typeof raw.seq !== "number" || typeof raw.available !== "number") return;
    panel.balance.pushes += 1;
    if (raw.seq < panel.balance.seq) panel.balance.backwards += 1;
    if (raw.seq <= panel.balance.seq) return;
    panel.balance.seq = raw.seq;
    panel.balance.available = raw.available;
  });
  socket.on("session:update", (raw: unknown) => {
    const u = asUpdate(raw);
    if (!u || u.seq <= panel.seq) return;
    panel.seq = u.seq;
    panel.used = u.used;
    onUpdate(panel, u);
  });
  return new Promise((resolve, reject) => {
    socket.once("connect_error", (err) => reject(new Error(`panel ${accountId}/${sessionId}: ${err.message}`)));
    socket.once("connect", () => {
      socket.emit("session:watch", { sessionId }, (ack: unknown) => {
        const a = ack as { ok?: boolean; session?: { used?: number; seq?: number } };
        if (!a.ok)
          return reject(new Error(`session:watch refused for ${accountId}/${sessionId}: ${JSON.stringify(ack)}`));
        // The snapshot in the ack is the starting point; pushes newer than it follow.
        if (typeof a.session?.seq === "number" && a.session.seq > panel.seq) {
          panel.seq = a.session.seq;
          panel.used = a.session.used ?? 0;
        }
        resolve(panel);
      });
    });
  });
}

/**
 * Opens `count` panels round-robin over `urls`, `perAccount` sessions per account (`sess-0`..),
 * a hundred handshakes at a time. Every panel of an account is in its account room, so each
 * balance update reaches all of them.
 */
export async function openPanels(
  dep: Deployment,
  urls: string[],
  accounts: string[],
  count: number,
  onUpdate: (p: Panel, u: UpdateSeen) => void = () => undefined,
  perAccount = 10,
): Promise<Panel[]> {
  const tokens = new Map<string, string>();
  const panels: Panel[] = [];
  for (let i = 0; i < count; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 100); j++) {
      const accountId = accounts[Math.floor(j / perAccount) % accounts.length] ?? "acct-0";
      let token = tokens.get(accountId);
      if (!token) {
        token = await dep.token(accountId);
        tokens.set(accountId, token);
      }
      batch.push(connectOne(urls[j % urls.length] ?? "", token, accountId, `sess-${j % perAccount}`, onUpdate));
    }
    panels.push(...(await Promise.all(batch)));
  }
  return panels;
}

/** Disconnects every panel. */
export function closePanels(panels: Panel[]): void {
  for (const p of panels) p.socket.disconnect();
}
