// Room names carry the account as well as the session: ids cannot contain ':', so a session
// id chosen by one account can never name a room of another.

/** The room of everything account-wide (balance, alerts). */
export function accountRoom(accountId: string): string {
  return `a:${accountId}`;
}

/** The room of one account's session (session updates, progress, denials). */
export function sessionRoom(accountId: string, sessionId: string): string {
  return `s:${accountId}:${sessionId}`;
}
