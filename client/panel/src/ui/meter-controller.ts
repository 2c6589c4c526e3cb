import type { ReactiveController, ReactiveControllerHost } from "lit";
import type { ConnectionState, CreditMeter, Unsubscribe } from "../sdk/types.js";
import { whenCreditMeter } from "./meter-registry.js";

/** An element that may carry its own meter (`creditMeter`) instead of the page's. */
export interface MeterHost extends ReactiveControllerHost {
  readonly creditMeter?: CreditMeter | undefined;
  readonly meterControllers?: MeterController[];
}

/**
 * Connects a component to its CreditMeter while it is in the document — its own `creditMeter`
 * when the host set one, else the page's (configureCreditMeter): `subscribe` runs on connect
 * (and whenever the meter is replaced), its subscriptions end on disconnect. Tracks the
 * connection state so every component can show the same stale hint.
 */
export class MeterController implements ReactiveController {
  meter: CreditMeter | null = null;
  state: ConnectionState = "connecting";
  private detach: Unsubscribe | null = null;

  constructor(
    private readonly host: MeterHost,
    private readonly subscribe: (meter: CreditMeter) => Unsubscribe[],
  ) {
    host.addController(this);
    host.meterControllers?.push(this);
  }

  /** True while live updates flow; numbers shown otherwise are the last known ones. */
  get live(): boolean {
    return this.state === "connected";
  }

  /** Re-runs the subscriptions (e.g. the watched session changed). */
  resubscribe(): void {
    this.hostDisconnected();
    this.hostConnected();
  }

  hostConnected(): void {
    const own = this.host.creditMeter;
    this.detach = own ? this.attach(own) : whenCreditMeter((meter) => this.attach(meter));
  }

  private attach(meter: CreditMeter): Unsubscribe {
    this.meter = meter;
    this.state = meter.state;
    const stops = [
      meter.onState((state) => {
        this.state = state;
        this.host.requestUpdate();
      }),
      ...this.subscribe(meter),
    ];
    this.host.requestUpdate();
    return () => {
      for (const stop of stops) stop();
    };
  }

  hostDisconnected(): void {
    this.detach?.();
    this.detach = null;
  }
}
