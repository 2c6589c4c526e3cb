import type { Request, RequestHandler } from "express";
import { CreditmeterError } from "@creditmeter/shared";

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms: addresses only this machine can send from. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const bare = address
    .trim()
    .replace(/^\[|\]$/g, "")
    .toLowerCase();
  if (bare === "::1" || bare === "0:0:0:0:0:0:0:1") return true;
  const v4 = bare.startsWith("::ffff:") ? bare.slice("::ffff:".length) : bare;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** Every address a proxy header names (X-Forwarded-For, Forwarded `for=`, X-Real-IP). */
function forwardedAddresses(req: Request): string[] {
  const found: string[] = [];
  const xff = req.headers["x-forwarded-for"];
  for (const value of Array.isArray(xff) ? xff : xff === undefined ? [] : [xff]) found.push(...value.split(","));
  const forwarded = req.headers.forwarded;
  if (forwarded !== undefined) {
    for (const match of forwarded.matchAll(/for=("?)([^";,]+)\1/gi)) found.push(match[2] ?? "");
  }
  const real = req.headers["x-real-ip"];
  if (typeof real === "string") found.push(real);
  // `for="[::1]:1234"` and `127.0.0.1:1234` carry a port: keep the address only.
  return found.map((a) =>
    a
      .trim()
      .replace(/^\[([^\]]+)\](?::\d+)?$/, "$1")
      .replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, "$1"),
  );
}

/**
 * Whether a request comes from this machine. `req.ip` follows `trust proxy`; a proxy header that
 * names another address also refuses, so a same-host reverse proxy (whose own address is
 * loopback) does not open the dev login to the network when trust proxy is left off.
 */
export function fromLoopback(req: Request): boolean {
  if (!isLoopbackAddress(req.ip ?? req.socket.remoteAddress)) return false;
  return forwardedAddresses(req).every((address) => isLoopbackAddress(address));
}

/**
 * Answers 404 `not_found` (as an unknown path) to any request not from the loopback address,
 * whatever NODE_ENV is (CONTRACT §9 v1.1): dev tokens are minted for this machine only.
 */
export function loopbackOnly(): RequestHandler {
  return function refuseRemote(req, _res, next) {
    if (!fromLoopback(req)) throw new CreditmeterError("not_found", `not_found: no route ${req.method} ${req.path}`);
    next();
  };
}
