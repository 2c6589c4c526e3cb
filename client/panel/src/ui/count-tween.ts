import type { ReactiveController, ReactiveControllerHost } from "lit";

const DURATION_MS = 450;

/**
 * An integer that counts up to its target over a short animation and never goes backwards:
 * a lower target (a stale or reordered snapshot) is ignored. `reset` starts over (another
 * session). With reduced motion, or in a hidden tab, it jumps straight to the target.
 */
export class CountTween implements ReactiveController {
  private from = 0;
  private target = 0;
  private startedAt = 0;
  private frame: number | null = null;
  value = 0;

  /** Where the count is heading (what a screen reader should hear). */
  get goal(): number {
    return this.target;
  }

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  /** Moves toward `target` if it is higher than what is shown. */
  set(target: number): void {
    if (target <= this.target) return;
    this.from = this.value;
    this.target = target;
    if (this.jumps()) {
      this.value = target;
      this.host.requestUpdate();
      return;
    }
    this.startedAt = performance.now();
    this.frame ??= requestAnimationFrame(this.step);
  }

  /** Shows `value` at once, forgetting the previous target. */
  reset(value = 0): void {
    this.cancel();
    this.from = this.target = this.value = value;
    this.host.requestUpdate();
  }

  hostConnected(): void {
    // Nothing to start: the animation runs only while a target is pending.
  }

  hostDisconnected(): void {
    this.cancel();
    this.value = this.target;
  }

  private jumps(): boolean {
    return document.hidden || matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  private cancel(): void {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
  }

  private readonly step = (now: number): void => {
    const t = Math.min(1, (now - this.startedAt) / DURATION_MS);
    const eased = 1 - (1 - t) ** 3;
    this.value = Math.round(this.from + (this.target - this.from) * eased);
    this.host.requestUpdate();
    this.frame = t < 1 ? requestAnimationFrame(this.step) : null;
    if (t >= 1) this.value = this.target;
  };
}
