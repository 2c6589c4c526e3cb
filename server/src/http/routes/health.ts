import { Router, type RequestHandler } from "express";
import { canOperateEverything } from "../../auth/permissions.js";
import { authenticate, requirePrincipal } from "../authenticate.js";
import type { HttpDeps } from "../deps.js";

/** GET /healthz (the process answers) and GET /readyz (Redis reachable, consumer running). */
export function probesRouter(deps: Pick<HttpDeps, "readiness">): Router {
  const router = Router();
  router.get("/healthz", function healthz(_req, res) {
    res.json({ ok: true });
  });
  router.get("/readyz", async function readyz(_req, res) {
    // A readiness check that throws means "not ready", never a 500 that looks like a bug.
    const ready = await deps.readiness().catch(() => false);
    res.status(ready ? 200 : 503).json({ ready });
  });
  return router;
}

/** GET /metrics in Prometheus text format; ops token required unless metrics are public. */
export function metricsRouter(deps: Pick<HttpDeps, "config" | "verifier" | "metrics">): Router {
  const guard: RequestHandler[] = deps.config.metricsPublic
    ? []
    : [authenticate(deps.verifier), requirePrincipal(canOperateEverything, "read metrics")];
  const router = Router();
  router.get("/metrics", ...guard, async function renderMetrics(_req, res) {
    const body = await deps.metrics.render();
    res.setHeader("Content-Type", deps.metrics.contentType);
    res.send(body);
  });
  return router;
}
