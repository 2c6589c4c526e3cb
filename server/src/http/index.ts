export { createHttpApp } from "./app.js";
export { createProbeApp } from "./probe-app.js";
export type { HttpDeps, HttpLogger, MetricsSource, RateLimitRedisClient } from "./deps.js";
export { STATUS_BY_CODE, errorBody } from "./errors.js";
