import type { Usage } from "@creditmeter/shared";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** Every UTC day of [from, to) as YYYY-MM-DD, so days without charges show as empty bars. */
export function daysOf(from: string, to: string): string[] {
  const days: string[] = [];
  const end = Date.parse(to);
  for (let t = Date.parse(from.slice(0, 10) + "T00:00:00Z"); t < end; t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** A bar chart of credits per day as SVG (no chart library), with an accessible summary. */
export function renderDayChart(container: HTMLElement, usage: Usage): void {
  const byDay = new Map(usage.groups.map((g) => [g.key, g.credits]));
  const days = daysOf(usage.from, usage.to);
  const width = 800;
  const height = 180;
  const pad = { top: 10, bottom: 22, left: 4, right: 4 };
  const max = Math.max(1, ...days.map((d) => byDay.get(d) ?? 0));
  const slot = (width - pad.left - pad.right) / Math.max(1, days.length);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", preserveAspectRatio: "none" });
  root.setAttribute("aria-label", `Credits per day, ${usage.total} in total, peak ${max}`);
  days.forEach((day, i) => {
    const credits = byDay.get(day) ?? 0;
    const h = ((height - pad.top - pad.bottom) * credits) / max;
    const x = pad.left + i * slot + slot * 0.15;
    const bar = svg("rect", { x, y: height - pad.bottom - h, width: slot * 0.7, height: Math.max(h, credits > 0 ? 1 : 0), rx: 2 });
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${day}: ${credits} credits`;
    bar.append(title);
    root.append(bar);
    // A label every week keeps the axis readable at 90 days.
    if (i % Math.max(1, Math.ceil(days.length / 8)) === 0) {
      const label = svg("text", { x: x + slot * 0.35, y: height - 6, "text-anchor": "middle" });
      label.textContent = day.slice(5);
      root.append(label);
    }
  });
  container.replaceChildren(root);
}
