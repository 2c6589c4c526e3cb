import { SessionId } from "@creditmeter/shared";

/** The session the panel watches when the URL does not name one. */
export const DEFAULT_SESSION = "demo-session";

/** `?session=<id>` when it is a valid session id, else the default. */
export function sessionFromUrl(search: string): string {
  const parsed = SessionId.safeParse(new URLSearchParams(search).get("session"));
  return parsed.success ? parsed.data : DEFAULT_SESSION;
}

/** A fresh session id for another demo run after `current`: its stem plus a time suffix ("demo-session-r1a2b3c"). */
export function nextDemoSession(current: string, now: number): string {
  const stem = current.replace(/-r[0-9a-z]+$/, "").slice(0, 48);
  return `${stem}-r${now.toString(36)}`;
}
