import { CreditmeterError, type Balance } from "@creditmeter/shared";
import type { LedgerApi } from "../ledger/api.js";

/** The account the development login signs in as. */
export const DEMO_ACCOUNT_ID = "demo";
/** Credits of the demo account's first cycle (the free plan's monthly grant). */
export const DEMO_CYCLE_CREDITS = 300;
const CYCLE_DAYS = 30;

/**
 * Makes sure `accountId` exists and has a billing cycle: a new account gets the free plan and a
 * 300-credit cycle; an existing one is left as it is (its spending is the point of the demo).
 */
export async function ensureDemoAccount(ledger: LedgerApi, accountId: string, now = new Date()): Promise<Balance> {
  let balance: Balance | null = null;
  try {
    balance = await ledger.balance(accountId);
  } catch (err) {
    if (!(err instanceof CreditmeterError) || err.code !== "unknown_account") throw err;
  }
  if (balance === null) balance = (await ledger.putAccount(accountId, { plan: "free" })).balance;
  if (balance.cycle !== null) return balance;
  // Id and times derive from the day, so two logins racing send the same idempotent body.
  const day = now.toISOString().slice(0, 10);
  const start = new Date(`${day}T00:00:00.000Z`);
  const started = await ledger.startCycle(accountId, {
    cycleId: `demo-cycle-${day}`,
    credits: DEMO_CYCLE_CREDITS,
    start: start.toISOString(),
    end: new Date(start.getTime() + CYCLE_DAYS * 86_400_000).toISOString(),
  });
  return started.balance;
}
