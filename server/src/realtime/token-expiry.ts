import type { Socket } from "socket.io";

/** setTimeout's longest delay; a token living longer is re-checked when it fires. */
const MAX_TIMER_MS = 2_147_483_647;

/** The slice of a socket this needs: its principal's expiry, an emit and a disconnect. */
interface ExpiringSocket {
  data: { principal?: { expiresAt?: number } };
  emit(event: "auth:expired", payload: Record<string, never>): unknown;
  disconnect(close?: boolean): unknown;
  once(event: "disconnect", listener: () => void): unknown;
}

/**
 * Disconnects the socket when its token expires, after emitting `auth:expired` (CONTRACT §5/§6
 * v1.1): a token is checked once at the handshake, so without this a socket would keep receiving
 * an account's updates for as long as it stays open, long after its credential ran out. The
 * panel SDK answers by asking the host for a fresh token and reconnecting.
 * API keys carry no expiry (they are revoked instead) and are left alone.
 */
export function expireWithToken(socket: ExpiringSocket | Socket, now: () => number = Date.now): void {
  const expiresAt = (socket as ExpiringSocket).data.principal?.expiresAt;
  if (expiresAt === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const left = expiresAt - now();
    if (left > 0) {
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      return;
    }
    (socket as ExpiringSocket).emit("auth:expired", {});
    (socket as ExpiringSocket).disconnect(true);
  };
  (socket as ExpiringSocket).once("disconnect", () => clearTimeout(timer));
  arm();
}
