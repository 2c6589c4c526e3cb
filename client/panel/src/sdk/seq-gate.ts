/**
 * Remembers the highest seq seen per key (a session, or the balance) and lets through only what
 * is newer: updates from several nodes, a coalesced trailing push and a reconnect snapshot may
 * arrive in any order, and the number a person sees must never go backwards.
 */
export class SeqGate {
  private readonly last = new Map<string, number>();

  /** True (and remembered) when `seq` is newer than anything seen for `key`. */
  accept(key: string, seq: number): boolean {
    const seen = this.last.get(key);
    if (seen !== undefined && seq <= seen) return false;
    this.last.set(key, seq);
    return true;
  }

  /** Forgets a key (an unwatched session), so watching it again starts from its snapshot. */
  forget(key: string): void {
    this.last.delete(key);
  }
}
