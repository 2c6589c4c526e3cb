import express, { type Router } from "express";
import { z } from "zod";
import { AccountId, CreditmeterError, SessionId, fromZodError } from "@creditmeter/shared";
import type { Config } from "../config/config.js";
import type { LedgerApi } from "../ledger/api.js";
import type { AuthVerifier } from "../auth/principal.js";
import { mintToken } from "../auth/mint-token.js";
import { authenticate, principalOf } from "../http/authenticate.js";
import { DEMO_ACCOUNT_ID, ensureDemoAccount } from "./demo-account.js";
import type { DemoLauncher } from "./demo-launcher.js";
import { loopbackOnly } from "./loopback-only.js";

const LoginBody = z.strictObject({
  accountId: AccountId.default(DEMO_ACCOUNT_ID),
  role: z.enum(["user", "ops"]).default("user"),
});
/** The subject of development ops tokens (the /ops page's dev login). */
const DEV_OPS_SUBJECT = "dev-ops";
const DemoBody = z.strictObject({ sessionId: SessionId });
const TOKEN_TTL_SECONDS = 12 * 3600;
/** A demo run plans its video with a token of its own, good for a run's length and a margin. */
const DEMO_TOKEN_TTL_SECONDS = 15 * 60;

/** This server as seen by a process on the same machine: the loopback address the request came in on. */
function loopbackUrl(req: express.Request): string {
  const address = (req.socket.localAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
  const host = address.includes(":") ? `[${address}]` : address;
  return `http://${host}:${req.socket.localPort ?? 0}`;
}

export interface DevRoutesDeps {
  config: Config;
  ledger: LedgerApi;
  verifier: AuthVerifier;
  demo: DemoLauncher;
}

/** The `iss`/`aud` this server checks, so its own dev tokens pass its checks. */
function devClaims(config: Config): { issuer?: string; audience?: string } {
  return {
    ...(config.jwtIssuer === undefined ? {} : { issuer: config.jwtIssuer }),
    ...(config.jwtAudience === undefined ? {} : { audience: config.jwtAudience }),
  };
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw fromZodError("invalid_input", parsed.error);
  return parsed.data;
}

/**
 * Development-only routes (never mounted when NODE_ENV=production, and 404 to any request not
 * from the loopback address whatever NODE_ENV says): a login that mints a user token for a demo
 * account (or, with `role: "ops"`, an ops token for the /ops page), and a button-triggered demo
 * session for that account.
 */
export function devRouter(deps: DevRoutesDeps): Router {
  const router = express.Router();
  router.use("/dev", loopbackOnly(), express.json({ limit: "4kb" }));

  router.get("/dev", function devInfo(_req, res) {
    res.json({ dev: true, upgradeUrl: deps.config.upgradeUrl });
  });

  router.post("/dev/login", async function devLogin(req, res) {
    const { accountId, role } = parse(LoginBody, req.body);
    if (role === "ops") {
      const token = await mintToken(deps.config.authSecret, {
        sub: DEV_OPS_SUBJECT,
        role: "ops",
        ttlSeconds: TOKEN_TTL_SECONDS,
        ...devClaims(deps.config),
      });
      res.json({ token, accountId: DEV_OPS_SUBJECT, expiresIn: TOKEN_TTL_SECONDS });
      return;
    }
    await ensureDemoAccount(deps.ledger, accountId);
    const token = await mintToken(deps.config.authSecret, {
      sub: accountId,
      role: "user",
      ttlSeconds: TOKEN_TTL_SECONDS,
      ...devClaims(deps.config),
    });
    res.json({ token, accountId, expiresIn: TOKEN_TTL_SECONDS });
  });

  router.post("/dev/demo", authenticate(deps.verifier), async function devDemo(req, res) {
    const { sessionId } = parse(DemoBody, req.body);
    const { accountId } = principalOf(req);
    await ensureDemoAccount(deps.ledger, accountId);
    const token = await mintToken(deps.config.authSecret, {
      sub: accountId,
      role: "user",
      ttlSeconds: DEMO_TOKEN_TTL_SECONDS,
      ...devClaims(deps.config),
    });
    const started = deps.demo.start(accountId, sessionId, { url: loopbackUrl(req), token });
    if (started === "already_running") {
      throw new CreditmeterError("conflict", `conflict: a demo session is already running for ${accountId}`);
    }
    if (started === "busy") {
      res.setHeader("Retry-After", "30");
      throw new CreditmeterError(
        "rate_limited",
        `rate_limited: at most ${deps.config.demoMaxConcurrent} demo sessions run at once; try again shortly`,
      );
    }
    if (started === "unavailable") {
      throw new CreditmeterError("not_found", "not_found: the demo driver is not available on this server");
    }
    res.status(202).json({ accountId, sessionId });
  });
  return router;
}
