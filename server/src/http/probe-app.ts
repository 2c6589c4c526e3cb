import express, { type Express } from "express";
import type { HttpDeps } from "./deps.js";
import { createErrorHandler, notFoundHandler } from "./errors.js";
import { metricsRouter, probesRouter } from "./routes/health.js";

/**
 * What a consumer-only process (CREDITMETER_HTTP=false) serves on its port: `/healthz`, `/readyz`
 * and `/metrics` (CONTRACT §8 v1.1), so that an orchestrator can probe it and Prometheus scrape it.
 * No API, no pages, no Socket.IO.
 */
export function createProbeApp(deps: Pick<HttpDeps, "config" | "verifier" | "readiness" | "metrics" | "logger">): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(probesRouter(deps), metricsRouter(deps));
  app.use(notFoundHandler);
  app.use(createErrorHandler(deps.logger));
  return app;
}
