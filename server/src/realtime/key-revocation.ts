import { CreditmeterError } from "@creditmeter/shared";
import type { AuthVerifier } from "../auth/principal.js";

/** The slice of a socket this needs: its principal, its handshake token and a disconnect. */
interface KeyedSocket {
  data: { principal?: { keyId?: string } };
  handshake: { auth: unknown };
  disconnect(close?: boolean): unknown;
  once(event: "disconnect", listener: () => void): unknown;
}

/**
 * Disconnects a socket opened with an API key once the key is revoked: a key has no expiry and is
 * checked once at the handshake, so without this a revoked key would keep receiving updates for
 * as long as its socket stays open (CONTRACT §5 v1.1: refused everywhere within 2 s). The check
 * goes through the key store's cache, so it costs one Redis read per key per `everyMs` per process.
 * A Redis error is not a revocation: the socket stays and the next tick tries again.
 */
export function dropWhenRevoked(socket: KeyedSocket, verifier: AuthVerifier, everyMs: number): void {
  if (socket.data.principal?.keyId === undefined) return;
  const auth = socket.handshake.auth;
  const token = typeof auth === "object" && auth !== null && "token" in auth && typeof auth.token === "string" ? auth.token : "";
  const timer = setInterval(() => {
    verifier.verify(token).catch((err: unknown) => {
      if (err instanceof CreditmeterError && err.code === "unauthorized") socket.disconnect(true);
    });
  }, everyMs);
  timer.unref();
  socket.once("disconnect", () => clearInterval(timer));
}
