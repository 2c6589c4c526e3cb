// `/ops`: live spend for a second screen. Socket events only fill OpsState; one animation frame
// at a time renders it, so the tab keeps up with thousands of charges a second.
import { io, type Socket } from "socket.io-client";
import type { OpsServerToClientEvents } from "@creditmeter/shared";
import { byId, showError } from "./dom.js";
import { resolveOpsToken } from "./ops/ops-auth.js";
import { OpsAlertSchema, OpsChargeBatch, OpsStatsSchema } from "./ops/ops-schemas.js";
import { OpsState } from "./ops/ops-state.js";
import { renderAlerts, renderCharges, renderTiles, renderTops } from "./ops/ops-view.js";
import { SpendChart } from "./ops/spend-chart.js";
import { FailedPanel } from "./ops/failed-panel.js";

type OpsSocket = Socket<OpsServerToClientEvents, Record<string, never>>;

function setStatus(text: string, state: "live" | "down" | "wait"): void {
  const pill = byId("ops-status", HTMLElement);
  pill.textContent = text;
  pill.className = `status ${state}`;
}

async function main(): Promise<void> {
  const token = await resolveOpsToken();
  const root = byId("ops-root", HTMLElement);
  const state = new OpsState();
  const chart = new SpendChart(byId("ops-chart", HTMLCanvasElement));
  const failed = new FailedPanel(byId("ops-failed-list", HTMLTableSectionElement), token, showError);
  const received = byId("ops-charges-received", HTMLElement);

  // A fresh token at every (re)connect: after `auth:expired` the stored one is no longer valid.
  const socket: OpsSocket = io("/ops", {
    auth: (cb) =>
      void resolveOpsToken().then(
        (fresh) => cb({ token: fresh }),
        () => cb({ token }),
      ),
    transports: ["websocket", "polling"],
    tryAllTransports: true,
  });
  socket.on("connect", () => setStatus("Live", "live"));
  socket.on("auth:expired", () => setStatus("Token expired: reconnecting…", "wait"));
  socket.on("disconnect", (reason) => {
    setStatus("Reconnecting…", "wait");
    // socket.io does not reconnect by itself after the server closed the socket (expired token, deploy).
    if (reason === "io server disconnect") socket.connect();
  });
  socket.on("connect_error", (err) =>
    setStatus(
      err.message === "forbidden" || err.message === "unauthorized" ? `Refused: ${err.message}` : "Offline",
      "down",
    ),
  );
  socket.on("ops:stats", (raw) => {
    const parsed = OpsStatsSchema.safeParse(raw);
    if (!parsed.success) return;
    state.onStats(parsed.data);
    // Plotted at the time it arrived: the page's clock, so a skewed server clock cannot bend the chart.
    chart.push(Date.now(), parsed.data.spendPerMinute, parsed.data.chargesPerSecond);
  });
  socket.on("ops:charges", (raw) => {
    const parsed = OpsChargeBatch.safeParse(raw);
    if (parsed.success) state.onCharges(parsed.data);
  });
  socket.on("ops:alert", (raw) => {
    const parsed = OpsAlertSchema.safeParse(raw);
    if (parsed.success) state.onAlert(parsed.data);
  });

  const frame = (): void => {
    if (state.statsDirty && state.stats) {
      renderTiles(root, state.stats);
      renderTops(root, state.stats);
      failed.sync(state.stats.queue.failed);
      state.statsDirty = false;
    }
    if (state.chargesDirty) {
      renderCharges(byId("ops-feed", HTMLElement), state.charges);
      received.textContent = state.chargesReceived.toLocaleString("en-US");
      state.chargesDirty = false;
    }
    if (state.alertsDirty) {
      renderAlerts(byId("ops-alerts", HTMLElement), state.alerts);
      state.alertsDirty = false;
    }
    chart.draw(Date.now());
    root.dataset.chartPoints = String(chart.size);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  await failed.load();
  document.body.dataset.loaded = "true";
}

main().catch(showError);
