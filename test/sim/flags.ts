/**
 * Behaviours of CONTRACT v1.1 that may not be on `main` yet (issue 12 is closing them while the
 * simulator is written). Each flag says which behaviour the reference model predicts: `true` =
 * the v1.1 rule, `false` = the v1 behaviour main had when the flag was added. Flip a flag when its
 * fix lands (`git rebase main`, run the sim); by the end every flag should be `true`.
 */
export interface Flags {
  /** §3: a cycle whose start is not after the current one's is refused (409), nothing changes. */
  lateCycleConflict: boolean;
  /** §3: a repeated grant (same id, same body) answers the balance it answered the first time. */
  grantRepeatFirstAnswer: boolean;
  /** §4: adjustment entries carry a positive magnitude (a debit's amount is not negative). */
  positiveAdjustmentAmounts: boolean;
  /** §2: a reused eventId with a different fingerprint fails with `conflict`, ledger untouched. */
  eventConflict: boolean;
  /** §4: a hold that expires writes an `expiry` entry (v1 wrote a `release`). */
  expiryEntries: boolean;
  /** §2: a denied started (and its duplicate) carries `denyReason`. */
  denyReason: boolean;
}

/** What main does today: flip to true as each fix lands. */
export const FLAGS: Flags = {
  lateCycleConflict: true,
  grantRepeatFirstAnswer: true,
  positiveAdjustmentAmounts: true,
  eventConflict: true,
  expiryEntries: true,
  denyReason: true,
};
