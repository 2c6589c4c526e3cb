/** One second's figures as the chart plots them. */
interface Point {
  at: number;
  spend: number;
  rate: number;
}

const WINDOW_MS = 180_000;
const PAD = { left: 48, right: 48, top: 14, bottom: 24 };
const SPEND = "#8b7dff";
const RATE = "#34d399";
const GRID = "rgba(255,255,255,0.07)";
const LABEL = "rgba(226,228,240,0.55)";

function niceMax(value: number): number {
  if (value <= 0) return 10;
  const step = 10 ** Math.floor(Math.log10(value));
  // Quarters of these are round numbers: the chart has four grid lines.
  for (const m of [1, 2, 4, 8, 10]) if (value <= m * step) return m * step;
  return 10 * step;
}

/**
 * The spend-rate chart on a canvas: credits per minute (filled) and charges per second (line)
 * over the last three minutes, drawn each animation frame so that it scrolls smoothly between
 * the once-a-second ops:stats points. Drawing 180 points is far below a frame's budget.
 */
export class SpendChart {
  private readonly points: Point[] = [];
  private readonly ctx: CanvasRenderingContext2D;

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("the spend chart needs a 2D canvas");
    this.ctx = ctx;
  }

  /** Adds the figures of one ops:stats. */
  push(at: number, spend: number, rate: number): void {
    this.points.push({ at, spend, rate });
    while (this.points.length > 0 && (this.points[0]?.at ?? at) < at - WINDOW_MS - 5000) this.points.shift();
    this.describe();
  }

  /** The canvas's text alternative (role="img"): what a sighted reader takes from the lines. */
  private describe(): void {
    const last = this.points[this.points.length - 1];
    if (!last) return;
    const peak = Math.max(...this.points.map((p) => p.spend));
    this.canvas.setAttribute(
      "aria-label",
      `Spend rate, last three minutes: now ${Math.round(last.spend)} credits per minute (peak ${Math.round(peak)}), ${last.rate.toFixed(1)} charges per second`,
    );
  }

  /** Number of points plotted (a test hook). */
  get size(): number {
    return this.points.length;
  }

  /** Draws the window ending at `now` (ms). */
  draw(now: number): void {
    const { canvas, ctx } = this;
    const dpr = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const plotW = width - PAD.left - PAD.right;
    const plotH = height - PAD.top - PAD.bottom;
    const start = now - WINDOW_MS;
    const x = (t: number): number => PAD.left + ((t - start) / WINDOW_MS) * plotW;
    const visible = this.points.filter((p) => p.at >= start - 2000);
    const spendMax = niceMax(Math.max(0, ...visible.map((p) => p.spend)));
    const rateMax = niceMax(Math.max(0, ...visible.map((p) => p.rate)));
    const ySpend = (v: number): number => PAD.top + plotH - (v / spendMax) * plotH;
    const yRate = (v: number): number => PAD.top + plotH - (v / rateMax) * plotH;

    ctx.font = "11px ui-sans-serif, system-ui, sans-serif";
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = PAD.top + (plotH * i) / 4;
      ctx.strokeStyle = GRID;
      ctx.beginPath();
      ctx.moveTo(PAD.left, y);
      ctx.lineTo(PAD.left + plotW, y);
      ctx.stroke();
      ctx.fillStyle = LABEL;
      ctx.textAlign = "right";
      ctx.fillText(Math.round(spendMax * (1 - i / 4)).toLocaleString("en-US"), PAD.left - 8, y + 4);
      ctx.textAlign = "left";
      ctx.fillText(String(Math.round(rateMax * (1 - i / 4) * 10) / 10), PAD.left + plotW + 8, y + 4);
    }
    ctx.textAlign = "center";
    for (let s = 0; s <= WINDOW_MS / 1000; s += 30) {
      const t = Math.floor(now / 30_000) * 30_000 - s * 1000;
      if (t < start) continue;
      const label = s === 0 ? "" : `-${Math.round((now - t) / 1000)}s`;
      ctx.fillText(label, x(t), height - 6);
    }
    if (visible.length < 2) return;

    ctx.save();
    ctx.beginPath();
    ctx.rect(PAD.left, PAD.top, plotW, plotH);
    ctx.clip();
    const gradient = ctx.createLinearGradient(0, PAD.top, 0, PAD.top + plotH);
    gradient.addColorStop(0, "rgba(139,125,255,0.45)");
    gradient.addColorStop(1, "rgba(139,125,255,0.02)");
    ctx.beginPath();
    visible.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.at), ySpend(p.spend)) : ctx.lineTo(x(p.at), ySpend(p.spend))));
    const last = visible[visible.length - 1];
    const first = visible[0];
    if (last && first) {
      ctx.lineTo(x(last.at), PAD.top + plotH);
      ctx.lineTo(x(first.at), PAD.top + plotH);
    }
    ctx.closePath();
    ctx.fillStyle = gradient;
    ctx.fill();
    this.line(visible, x, (p) => ySpend(p.spend), SPEND, 2);
    this.line(visible, x, (p) => yRate(p.rate), RATE, 1.5);
    ctx.restore();
  }

  private line(points: Point[], x: (t: number) => number, y: (p: Point) => number, color: string, width: number): void {
    const { ctx } = this;
    ctx.beginPath();
    points.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.at), y(p)) : ctx.lineTo(x(p.at), y(p))));
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.lineJoin = "round";
    ctx.stroke();
  }
}
