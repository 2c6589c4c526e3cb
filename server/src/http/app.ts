import express, { type Express } from "express";
import type { HttpDeps } from "./deps.js";
import { securityHeaders } from "./security-headers.js";
import { createErrorHandler, notFoundHandler } from "./errors.js";
import { rateLimit } from "./rate-limit.js";
import { accountsRouter } from "./routes/accounts.js";
import { eventsRouter } from "./routes/events.js";
import { metricsRouter, probesRouter } from "./routes/health.js";
import { pricingRouter } from "./routes/pricing.js";
import { readsRouter } from "./routes/reads.js";
import { failedJobsRouter } from "./routes/failed-jobs.js";
import { eventStatusRouter } from "./routes/event-status.js";
import { webhooksRouter } from "./routes/webhooks.js";
import { apiKeysRouter } from "./routes/api-keys.js";
import { openApiRouter } from "./routes/openapi.js";
import { quoteRouter } from "./routes/quote.js";
import { sessionBudgetRouter } from "./routes/session-budget.js";
import { planRouter } from "./routes/plan.js";

/**
 * Builds the REST API (CONTRACT §3–4) from its dependencies. Probes come before the rate
 * limit so a load balancer is never throttled; pages mount after the API and before the
 * JSON 404, so an unknown path is always a JSON `not_found`.
 * @example const server = createHttpApp(deps).listen(config.port, config.host);
 */
export function createHttpApp(deps: HttpDeps): Express {
  const { config } = deps;
  const app = express();
  app.disable("x-powered-by");
  // Which X-Forwarded-For hops to believe: req.ip (rate limits, dev login) is the client's address behind them.
  app.set("trust proxy", config.trustProxy);

  if (deps.accessLog) app.use(deps.accessLog);
  app.use(securityHeaders());
  app.use(probesRouter(deps));
  app.use(
    rateLimit({
      requestsPerMinute: config.requestsPerIpPerMinute,
      keyPrefix: config.keyPrefix,
      redis: deps.rateLimitRedis,
      logger: deps.logger,
    }),
  );
  app.use(metricsRouter(deps));
  if (deps.drainGate) app.use(deps.drainGate);
  app.use("/v1", pricingRouter(deps), openApiRouter("1.1.0"), eventsRouter(deps), quoteRouter(deps));
  if (deps.apiKeys) app.use("/v1", apiKeysRouter(deps, deps.apiKeys));
  app.use("/v1/accounts", function noStore(_req, res, next) {
    // Balances change every second and are private: no proxy or browser may keep a copy.
    res.setHeader("Cache-Control", "no-store");
    next();
  });
  app.use("/v1/accounts", accountsRouter(deps), readsRouter(deps), sessionBudgetRouter(deps), planRouter(deps));
  if (deps.events) app.use("/v1/accounts", eventStatusRouter(deps, deps.events));
  if (deps.failedJobs) app.use("/v1/ops", failedJobsRouter(deps, deps.failedJobs));
  if (deps.webhooks) app.use("/v1/webhooks", webhooksRouter(deps, deps.webhooks));

  deps.mountPages?.(app);
  app.use(notFoundHandler);
  app.use(createErrorHandler(deps.logger));
  return app;
}
