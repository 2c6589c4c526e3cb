import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, SCREENSHOTS, startRig, type BrowserRig } from "../browser/harness.js";

const plain = (n: number): string => n.toLocaleString("en-US");

// The /ops dashboard in Chromium while events flow: the tiles show what the ledger charged, the
// feed, top lists, alerts and the dead-letter table fill in, and the chart scrolls.
describe.skipIf(!existsSync(CHROMIUM))(`/ops in Chromium (skipped: ${CHROMIUM} is not installed)`, () => {
  let rig: BrowserRig;
  beforeAll(async () => {
    rig = await startRig();
  }, 120_000);
  afterAll(async () => {
    await rig?.close();
  });

  it("updates live while events flow, and equals the ledger once they stop", async () => {
    const accounts = [await rig.account(), await rig.account(), await rig.account()];
    const context = await rig.browser.newContext({ viewport: { width: 1440, height: 1100 } });
    const page = await context.newPage();
    // No token in sessionStorage: the page takes an ops token from the development login.
    await page.goto(`${rig.url}/ops`);
    await expect.poll(() => page.locator("#ops-status").textContent(), { timeout: 10_000 }).toBe("Live");

    const sessions = ["launch-video", "product-tour", "teaser"];
    const steps: Parameters<BrowserRig["publish"]>[3][] = [
      { stepId: "script", action: "script" },
      { stepId: "kf", action: "image", scenes: 4 },
      { stepId: "vo", action: "voiceover", seconds: 20 },
      { stepId: "a1", action: "animation", model: "veo-3.1-fast", seconds: 5 },
      { stepId: "a2", action: "animation", model: "sora-2-pro", seconds: 3 },
    ];
    const deadline = Date.now() + 6000;
    let round = 0;
    while (Date.now() < deadline) {
      round += 1;
      for (const [i, acct] of accounts.entries()) {
        const step = steps[(round + i) % steps.length] ?? { stepId: "script", action: "script" };
        if (round <= 4 || i === 0) {
          await rig.publish(acct, sessions[i] ?? "s", "stage.completed", { ...step, stepId: `${step.stepId}-${round}` });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    // A denial (more than is left) and a rejected event (seconds on a flat action) for the alert feed.
    await rig.publish(accounts[1] ?? "", "teaser", "stage.started", { stepId: "huge", action: "animation", model: "veo-3.1", seconds: 600 });
    await rig.publish(accounts[2] ?? "", "teaser", "stage.completed", { stepId: "bad", action: "script", seconds: 3 });

    const busy = async (): Promise<number> => Object.values(await rig.queue.getJobCounts("waiting", "active")).reduce((s, n) => s + n, 0);
    await expect.poll(busy, { timeout: 15_000 }).toBe(0);
    let total = 0;
    for (const a of accounts) total += (await rig.balance(a)).used;
    await expect.poll(() => page.getByTestId("ops-spend-per-minute").textContent(), { timeout: 15_000 }).toBe(plain(total));
    expect(total).toBeGreaterThan(300);
    expect(Number((await page.getByTestId("ops-charges-received").textContent())?.replace(/,/g, ""))).toBeGreaterThan(0);
    expect(await page.getByTestId("ops-active-sessions").textContent()).toBe("3");
    await expect.poll(() => page.getByTestId("ops-top-sessions").locator("li").count()).toBe(3);
    expect(await page.getByTestId("ops-top-sessions").locator("li").first().textContent()).toContain("launch-video");
    await expect.poll(() => page.getByTestId("ops-alerts").textContent(), { timeout: 10_000 }).toContain("Denied");
    await expect.poll(() => page.getByTestId("ops-alerts").textContent(), { timeout: 10_000 }).toContain("Rejected");
    await expect.poll(() => page.getByTestId("ops-queue-failed").textContent()).toBe("1");
    await expect.poll(() => page.getByTestId("ops-failed-list").textContent(), { timeout: 10_000 }).toContain("invalid_event");
    await expect.poll(async () => Number(await page.locator("#ops-root").getAttribute("data-chart-points")), { timeout: 10_000 }).toBeGreaterThan(5);
    await page.screenshot({ path: `${SCREENSHOTS}/ops-live.png`, fullPage: true });

    // Discard the failed event from the page: it leaves the queue.
    await page.getByTestId("failed-discard").first().click();
    await expect.poll(async () => (await rig.queue.getJobCounts("failed")).failed, { timeout: 10_000 }).toBe(0);
    await context.close();
  });
});
