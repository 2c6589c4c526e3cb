import { io, type Socket } from "socket.io-client";
import type { OpsAlert, OpsCharge, OpsServerToClientEvents, OpsStats } from "@creditmeter/shared";

/** An /ops socket that records what it receives, with arrival times for the rate cap. */
export interface OpsWatcher {
  socket: Socket<OpsServerToClientEvents, Record<string, never>>;
  batches: { at: number; charges: OpsCharge[] }[];
  stats: OpsStats[];
  alerts: OpsAlert[];
  /** Resolves once connected; rejects with the connect_error message. */
  connected: Promise<void>;
  close(): void;
}

/** Connects to `${url}/ops` with `token` and records every ops event. */
export function watchOps(url: string, token: string): OpsWatcher {
  const socket: OpsWatcher["socket"] = io(`${url}/ops`, { transports: ["websocket"], auth: { token }, reconnection: false, forceNew: true });
  const w: OpsWatcher = {
    socket,
    batches: [],
    stats: [],
    alerts: [],
    connected: new Promise((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", (err) => reject(err));
    }),
    close: () => socket.disconnect(),
  };
  socket.on("ops:charges", (charges) => w.batches.push({ at: performance.now(), charges }));
  socket.on("ops:stats", (stats) => w.stats.push(stats));
  socket.on("ops:alert", (alert) => w.alerts.push(alert));
  return w;
}

/** The most batches that arrived within any `windowMs` (sliding over arrival times). */
export function maxPerWindow(times: number[], windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while ((times[hi] ?? 0) - (times[lo] ?? 0) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}
