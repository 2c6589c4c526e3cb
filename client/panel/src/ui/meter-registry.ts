import { createCreditMeter } from "../sdk/index.js";
import type { CreditMeter, CreditMeterOptions, Unsubscribe } from "../sdk/types.js";

type Attach = (meter: CreditMeter) => Unsubscribe;

let current: CreditMeter | null = null;
// Every mounted component's attach function and what it returned, so a new meter re-attaches them.
const attached = new Map<Attach, Unsubscribe | null>();

/**
 * Creates the page's one CreditMeter (one socket for every component on the page) and hands it
 * to every component, mounted or yet to mount. Calling it again replaces the meter (a new
 * token): the old one is closed and components re-attach.
 * @example configureCreditMeter({ url: "", token: () => sessionStorage.getItem("creditmeter.token") ?? "" });
 */
export function configureCreditMeter(options: CreditMeterOptions): CreditMeter {
  return setCreditMeter(createCreditMeter(options));
}

/** Shares a CreditMeter built elsewhere (tests, hosts with their own SDK set-up). */
export function setCreditMeter(meter: CreditMeter): CreditMeter {
  const previous = current;
  current = meter;
  for (const [attach, detach] of attached) {
    detach?.();
    attached.set(attach, attach(meter));
  }
  previous?.close();
  return meter;
}

/** The page's CreditMeter, or null before configureCreditMeter. */
export function getCreditMeter(): CreditMeter | null {
  return current;
}

/**
 * Runs `attach` with the page's meter now, or as soon as one is configured (and again on each
 * replacement); the returned function detaches for good.
 */
export function whenCreditMeter(attach: Attach): Unsubscribe {
  attached.set(attach, current ? attach(current) : null);
  return () => {
    attached.get(attach)?.();
    attached.delete(attach);
  };
}
