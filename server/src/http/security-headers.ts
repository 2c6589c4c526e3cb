import type { RequestHandler } from "express";
import helmet from "helmet";

/**
 * Security headers on every answer, pages and API (helmet). The pages load only their own
 * hashed scripts, so `script-src 'self'` holds; `style-src` allows inline styles because lit
 * binds a `style` attribute (the balance bar's width) and an inline style cannot run code.
 * `connect-src 'self'` covers the same-origin Socket.IO (websocket and polling). The script
 * bundle at /sdk/ is meant for other origins' pages, so it alone is served cross-origin.
 */
export function securityHeaders(): RequestHandler[] {
  return [
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", "data:"],
          connectSrc: ["'self'"],
          frameAncestors: ["'none'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
        },
      },
      // HSTS only matters over HTTPS, where the load balancer terminates TLS; harmless otherwise.
      strictTransportSecurity: { maxAge: 15_552_000, includeSubDomains: true },
    }),
    function sdkCrossOrigin(req, res, next) {
      if (req.path.startsWith("/sdk/")) res.setHeader("Cross-Origin-Resource-Policy", "cross-origin");
      next();
    },
  ];
}
