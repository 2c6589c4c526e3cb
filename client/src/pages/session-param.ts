import { SessionId } from "@creditmeter/shared";

/** The session the panel watches when the URL does not name one. */
export const DEFAULT_SESSION = "demo-session";

/** `?session=<id>` when it is a valid session id, else the default. */
export function sessionFromUrl(search: string): string {
  const parsed = SessionId.safeParse(new URLSearchParams(search).get("session"));
  return parsed.success ? parsed.data : DEFAULT_SESSION;
}
