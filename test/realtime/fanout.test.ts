import { describe, expect, it } from "vitest";
import { Balance, SessionSnapshot } from "@creditmeter/shared";
import { waitFor } from "../support/redis-server.js";
import {
  completed,
  cycleOf,
  nodeWithAccount,
  recorder,
  type AccountNode,
  type Deployment,
  type Recorder,
} from "./harness.js";

// Big accounts (docs/realtime.md, "Pushes and coalescing"): every open panel of an account gets
// its balance at a human rate, the latest last, while the sessions people watch stay immediate.

interface Seen<T> {
  value: T;
  at: number;
}

function balancesOf(r: Recorder, since = 0): Seen<Balance>[] {
  return r.packets
    .filter((p) => p.event === "balance:update" && p.at >= since)
    .map((p) => ({ value: Balance.parse(p.args[0]), at: p.at }));
}

function sessionsOf(r: Recorder, sessionId: string): Seen<SessionSnapshot>[] {
  return r.packets
    .filter((p) => p.event === "session:update")
    .map((p) => ({ value: SessionSnapshot.parse(p.args[0]), at: p.at }))
    .filter((s) => s.value.sessionId === sessionId);
}

async function rest<T>(url: string, token: string, schema: { parse(raw: unknown): T }): Promise<T> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return schema.parse(await res.json());
}

/**
 * One more charge after a burst (on a session nobody watches), once every panel holds the burst's
 * final balance `final`; resolves with the sentinel's balance once every panel has it. Pushes of a
 * room go out in order, so whatever was still held from the burst reaches a panel before this one:
 * the balance just before it must be `final` itself, never an older one.
 */
async function sentinel(at: AccountNode, acct: string, panels: Recorder[], final: Balance): Promise<Balance> {
  await at.d.enqueue([completed(acct, "s-sentinel", "script")]);
  await waitFor(async () => (await at.node.ledger.balance(acct)).seq > final.seq, 30_000, "the sentinel charge");
  const after = Balance.parse(await at.node.ledger.balance(acct));
  await waitFor(
    () => panels.every((p) => balancesOf(p).at(-1)?.value.seq === after.seq),
    10_000,
    "every panel on the sentinel's balance",
  );
  for (const p of panels) expect(balancesOf(p).at(-2)?.value).toEqual(final);
  return after;
}

/** `count` raw panels of `acct`, each connected and holding its first balance; panel i < watched.length watches watched[i]. */
async function openPanels(
  d: Deployment,
  url: string,
  acct: string,
  count: number,
  watched: string[],
): Promise<Recorder[]> {
  const token = await d.token(acct);
  const panels = Array.from({ length: count }, () => recorder(url, { token }));
  await waitFor(
    () => panels.every((p) => p.socket.connected && balancesOf(p).length > 0),
    30_000,
    `${count} panels connected with their first balance`,
  );
  await Promise.all(
    watched.map((sessionId, i) => panels[i]?.socket.timeout(10_000).emitWithAck("session:watch", { sessionId })),
  );
  return panels;
}

describe("a burst of charges to an account with 40 open panels (default balance interval, 500 ms)", () => {
  const acct = "acct-team";
  const sessions = ["s-0", "s-1", "s-2", "s-3"];
  const at = nodeWithAccount(acct, 100_000);

  it("ends every panel on the REST balance, never backwards, at most one balance push per 500 ms, watched sessions exact", async () => {
    const panels = await openPanels(at.d, at.node.url, acct, 40, sessions);
    const token = await at.d.token(acct);
    try {
      const start = Date.now();
      await at.d.enqueue(
        Array.from({ length: 400 }, (_, i) => completed(acct, sessions[i % sessions.length] ?? "s-0", "script")),
      );
      const used = async (): Promise<number> =>
        (await rest(`${at.node.url}/v1/accounts/${acct}/balance`, token, Balance)).used;
      await waitFor(async () => (await used()) === 400, 30_000, "the 400 charges in the ledger");
      const truth = await rest(`${at.node.url}/v1/accounts/${acct}/balance`, token, Balance);
      await waitFor(
        () => panels.every((p) => balancesOf(p).at(-1)?.value.seq === truth.seq),
        10_000,
        "every panel on the final balance",
      );
      // A trailing push that was still held would come before the sentinel's.
      const after = await sentinel(at, acct, panels, truth);

      for (const p of panels) {
        const seen = balancesOf(p);
        for (let i = 1; i < seen.length; i++)
          expect(seen[i]?.value.seq).toBeGreaterThanOrEqual(seen[i - 1]?.value.seq ?? Infinity);
        expect(seen.at(-1)?.value).toEqual(after);
        // n pushes at least 500 ms apart span ≥ (n - 1) × 500 ms; one more for arrival jitter.
        const burst = balancesOf(p, start);
        const span = (burst.at(-1)?.at ?? start) - (burst[0]?.at ?? start);
        expect(burst.length).toBeLessThanOrEqual(2 + Math.floor(span / 500));
      }
      for (const [i, sessionId] of sessions.entries()) {
        const watcher = panels[i];
        if (!watcher) throw new Error("missing watcher");
        const seen = sessionsOf(watcher, sessionId);
        for (let j = 1; j < seen.length; j++)
          expect(seen[j]?.value.seq).toBeGreaterThan(seen[j - 1]?.value.seq ?? Infinity);
        const snapshot = await rest(`${at.node.url}/v1/accounts/${acct}/sessions/${sessionId}`, token, SessionSnapshot);
        expect(snapshot.used).toBe(100);
        expect(seen.at(-1)?.value).toMatchObject({ used: snapshot.used, seq: snapshot.seq });
        // Sessions are not throttled with the balance: their watcher got more of them than balances.
        expect(seen.length).toBeGreaterThan(balancesOf(watcher, start).length);
      }
    } finally {
      for (const p of panels) p.socket.disconnect();
    }
  });
});

describe("balance pushes with a 3 s interval", () => {
  const acct = "acct-paced";
  const at = nodeWithAccount(acct, 100, { CREDITMETER_BALANCE_PUSH_INTERVAL_MS: "3000" });

  it("push a lone charge at once, hold the next ones without holding their session updates, then send the latest", async () => {
    const panels = await openPanels(at.d, at.node.url, acct, 3, ["video-1"]);
    const watcher = panels[0];
    if (!watcher) throw new Error("missing watcher");
    try {
      const start = Date.now();
      await at.d.enqueue([completed(acct, "video-1", "script")]);
      await waitFor(() => panels.every((p) => balancesOf(p, start).length === 1), 15_000, "the lone charge's balance");
      const lone = sessionsOf(watcher, "video-1")[0];
      expect(lone?.value.used).toBe(1);
      for (const p of panels) {
        const pushed = balancesOf(p, start)[0];
        expect(pushed?.value.used).toBe(1);
        // Sent in the same turn as the session update: nowhere near the 3 s interval.
        expect(Math.abs((pushed?.at ?? Infinity) - (lone?.at ?? 0))).toBeLessThan(1000);
      }

      await at.d.enqueue([completed(acct, "video-1", "script"), completed(acct, "video-1", "script")]);
      await waitFor(() => sessionsOf(watcher, "video-1").at(-1)?.value.used === 3, 15_000, "the watched session at 3");
      await waitFor(
        () => panels.every((p) => balancesOf(p).at(-1)?.value.used === 3),
        15_000,
        "every panel's balance at 3",
      );
      const sessionAt3 = sessionsOf(watcher, "video-1").at(-1)?.at ?? Infinity;

      // Two charges applied in one ledger batch may arrive as one snapshot; never out of order.
      const useds = sessionsOf(watcher, "video-1").map((s) => s.value.used);
      expect(useds[0]).toBe(1);
      expect(useds.at(-1)).toBe(3);
      for (let i = 1; i < useds.length; i++) expect(useds[i]).toBeGreaterThan(useds[i - 1] ?? Infinity);
      const truth = Balance.parse(await at.node.ledger.balance(acct));
      for (const p of panels) {
        const burst = balancesOf(p, start);
        expect(burst.at(-1)?.value).toEqual(truth);
        expect(burst.length).toBeLessThanOrEqual(3);
        // The held balance came later than the session updates of the same charges, one interval
        // after the previous push (less a margin for arrival jitter).
        expect(burst.at(-1)?.at ?? 0).toBeGreaterThan(sessionAt3);
        for (let i = 1; i < burst.length; i++)
          expect((burst[i]?.at ?? 0) - (burst[i - 1]?.at ?? 0)).toBeGreaterThan(2500);
      }
    } finally {
      for (const p of panels) p.socket.disconnect();
    }
  });
});

describe("a panel that connects while its account's balance push is held", () => {
  const acct = "acct-joiner";
  const at = nodeWithAccount(acct, 100, { CREDITMETER_BALANCE_PUSH_INTERVAL_MS: "3000" });

  it("gets the ledger's balance at connect, not the older one the room last had", async () => {
    const [first] = await openPanels(at.d, at.node.url, acct, 1, []);
    if (!first) throw new Error("missing panel");
    try {
      const start = Date.now();
      // The first charge is pushed at once and opens the interval; the second is held in it.
      await at.d.enqueue([completed(acct, "video-1", "script")]);
      await waitFor(() => balancesOf(first, start).at(-1)?.value.used === 1, 15_000, "the lone charge's balance");
      await at.d.enqueue([completed(acct, "video-1", "script")]);
      await waitFor(async () => (await at.node.ledger.balance(acct)).used === 2, 15_000, "the second charge applied");

      const [joiner] = await openPanels(at.d, at.node.url, acct, 1, []);
      const joined = joiner ? balancesOf(joiner)[0] : undefined;
      expect(joined?.value.used).toBe(2);
      await waitFor(() => balancesOf(first).at(-1)?.value.used === 2, 15_000, "the held push");
      // Precondition, so that the test shows what it says: the joiner connected inside the interval.
      expect(joined?.at ?? Infinity).toBeLessThan(balancesOf(first).at(-1)?.at ?? 0);
      joiner?.socket.disconnect();
    } finally {
      first.socket.disconnect();
    }
  });
});

describe("balances of many busy accounts falling due together (more sockets than one slice of writes)", () => {
  // 12 accounts × 20 panels: 240 sockets, over the 200 writes of one slice (socket-publisher.ts),
  // so the pushes that fall due together go out over several slices.
  const accounts = Array.from({ length: 12 }, (_, i) => `acct-many-${i}`);
  const at = nodeWithAccount(accounts[0] ?? "acct-many-0", 100_000);

  it("ends every panel of every account on its REST balance, never backwards, watched sessions exact", async () => {
    for (const acct of accounts.slice(1)) {
      await at.node.ledger.putAccount(acct, { plan: "free" });
      await at.node.ledger.startCycle(acct, cycleOf("c1", 100_000));
    }
    const byAccount = await Promise.all(accounts.map((acct) => openPanels(at.d, at.node.url, acct, 20, ["s-0"])));
    try {
      // Interleaved, so every account is busy at once and their intervals run together.
      const events = Array.from({ length: 30 }, () => accounts.map((acct) => completed(acct, "s-0", "script"))).flat();
      await at.d.enqueue(events);
      await waitFor(
        async () => (await Promise.all(accounts.map((a) => at.node.ledger.balance(a)))).every((b) => b.used === 30),
        30_000,
        "the 360 charges in the ledger",
      );
      const truths = await Promise.all(accounts.map(async (a) => Balance.parse(await at.node.ledger.balance(a))));
      await waitFor(
        () => byAccount.every((panels, i) => panels.every((p) => balancesOf(p).at(-1)?.value.seq === truths[i]?.seq)),
        10_000,
        "every panel on its account's final balance",
      );
      // A push still waiting for a slice would come before the sentinels'.
      const afters = await Promise.all(
        accounts.map((acct, i) => {
          const truth = truths[i];
          const panels = byAccount[i];
          if (!truth || !panels) throw new Error(`no balance or panels for ${acct}`);
          return sentinel(at, acct, panels, truth);
        }),
      );
      for (const [i, panels] of byAccount.entries()) {
        for (const p of panels) {
          const seen = balancesOf(p);
          for (let j = 1; j < seen.length; j++)
            expect(seen[j]?.value.seq).toBeGreaterThanOrEqual(seen[j - 1]?.value.seq ?? Infinity);
          expect(seen.at(-1)?.value).toEqual(afters[i]);
        }
        const watched = panels[0] ? sessionsOf(panels[0], "s-0") : [];
        expect(watched.at(-1)?.value.used).toBe(30);
      }
    } finally {
      for (const p of byAccount.flat()) p.socket.disconnect();
    }
  });
});
