import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LedgerPage, Usage } from "@creditmeter/shared";
import { CHROMIUM, SCREENSHOTS, startRig, type BrowserRig } from "./harness.js";

const BANNER_TEXT =
  "You're running low on credits. Upgrade to a paid plan for more credits and uninterrupted access to all features.";
const plain = (n: number): string => n.toLocaleString("en-US");

// The pages and components in a real browser against a real server: what a person sees must be
// exactly what the ledger says (CONTRACT §9).
describe.skipIf(!existsSync(CHROMIUM))(`chat panel in Chromium (skipped: ${CHROMIUM} is not installed)`, () => {
  let rig: BrowserRig;

  beforeAll(async () => {
    rig = await startRig();
  }, 120_000);
  afterAll(async () => {
    await rig?.close();
  });

  it("the session counter shows the ledger's number after events published from outside the browser", async () => {
    const acct = await rig.account();
    const page = await rig.page(acct);
    await page.goto(`${rig.url}/?session=launch-video`);
    const used = page.getByTestId("session-used");
    await expect.poll(() => used.textContent(), { timeout: 10_000 }).toBe("0");
    await page.screenshot({ path: `${SCREENSHOTS}/panel-empty.png` });

    await rig.publish(acct, "launch-video", "stage.completed", { stepId: "script", action: "script" });
    await rig.publish(acct, "launch-video", "stage.completed", { stepId: "keyframes", action: "image", scenes: 4 });
    await rig.publish(acct, "launch-video", "stage.started", { stepId: "scene-1", action: "animation", model: "veo-3.1-fast", seconds: 6 });
    await rig.publish(acct, "launch-video", "stage.completed", { stepId: "scene-1", action: "animation", model: "veo-3.1-fast", seconds: 5.2 });
    await rig.publish(acct, "other-session", "stage.completed", { stepId: "script", action: "script" });

    // 1 + 4×3 + ceil(5.2)×10 = 73, and nothing of the other session.
    await expect.poll(async () => (await rig.server.ledger.session(acct, "launch-video")).used, { timeout: 10_000 }).toBe(73);
    await expect.poll(() => used.textContent(), { timeout: 10_000 }).toBe(plain(73));
    await expect.poll(() => page.getByTestId("session-stage-animation").textContent()).toBe("60");
    await expect.poll(() => page.getByTestId("session-stage-keyframes").textContent()).toBe("12");
    await page.screenshot({ path: `${SCREENSHOTS}/panel-after-charges.png` });
    await page.context().close();
  });

  it("the balance popover shows Available, Used and the percentage the REST balance has", async () => {
    const acct = await rig.account();
    await rig.publish(acct, "s1", "stage.completed", { stepId: "a1", action: "animation", model: "veo-3.1", seconds: 5.5 });
    await expect.poll(async () => (await rig.balance(acct)).used, { timeout: 10_000 }).toBe(120);
    const page = await rig.page(acct);
    await page.goto(`${rig.url}/`);
    await page.locator("credit-balance button").click();
    const rest = await rig.balance(acct);
    await expect.poll(() => page.getByTestId("balance-available").textContent(), { timeout: 10_000 }).toBe(plain(rest.available));
    expect(await page.getByTestId("balance-used").textContent()).toBe(plain(rest.used));
    expect(await page.getByTestId("balance-percent").textContent()).toBe(String(rest.usagePercent));
    expect([rest.available, rest.used, rest.usagePercent]).toEqual([180, 120, 40]);
    expect(await page.getByTestId("balance-available").isVisible()).toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}/balance-popover.png` });
    await page.context().close();
  });

  it("the banner appears when the low threshold is crossed and stays dismissed after a reload", async () => {
    const acct = await rig.account();
    const page = await rig.page(acct);
    await page.goto(`${rig.url}/?session=s1`);
    const banner = page.getByTestId("low-credit-banner");
    await expect.poll(async () => (await rig.balance(acct)).available).toBe(300);
    await page.locator("credit-balance button").hover();
    await expect.poll(() => page.getByTestId("balance-available").textContent(), { timeout: 10_000 }).toBe("300");
    expect(await banner.count()).toBe(0);

    // ceil(11.5) × 20 = 240 charged, leaving 60: exactly the low threshold (20 % of 300).
    await rig.publish(acct, "s1", "stage.completed", { stepId: "a1", action: "animation", model: "veo-3.1", seconds: 11.5 });
    await expect.poll(() => page.getByTestId("balance-available").textContent(), { timeout: 10_000 }).toBe("60");
    await expect.poll(() => banner.count(), { timeout: 10_000 }).toBe(1);
    expect((await rig.balance(acct)).alert).toMatchObject({ level: "low", dismissed: false });
    expect((await banner.locator("p").textContent())?.trim()).toBe(BANNER_TEXT);
    expect(await page.getByTestId("banner-upgrade").textContent()).toBe("Upgrade plan");
    await page.mouse.move(900, 700);
    await page.screenshot({ path: `${SCREENSHOTS}/banner-shown.png` });

    await page.getByTestId("banner-dismiss").click();
    await expect.poll(() => banner.count()).toBe(0);
    await expect.poll(async () => (await rig.balance(acct)).alert?.dismissed, { timeout: 10_000 }).toBe(true);

    await page.reload();
    await page.locator("credit-balance button").hover();
    // The balance has arrived (so the banner had its chance to render) and the banner is not there.
    await expect.poll(() => page.getByTestId("balance-available").textContent(), { timeout: 10_000 }).toBe("60");
    expect(await banner.count()).toBe(0);
    await page.screenshot({ path: `${SCREENSHOTS}/banner-dismissed-after-reload.png` });
    await page.context().close();
  });

  it("the usage page's total equals the ledger's charges", async () => {
    const acct = await rig.account();
    await rig.publish(acct, "s1", "stage.completed", { stepId: "script", action: "script" });
    await rig.publish(acct, "s1", "stage.completed", { stepId: "img", action: "image", scenes: 2 });
    await rig.publish(acct, "s2", "stage.completed", { stepId: "vo", action: "voiceover", seconds: 12.4 });
    await rig.publish(acct, "s2", "stage.completed", { stepId: "web", action: "web_research" });
    await expect.poll(async () => (await rig.balance(acct)).used, { timeout: 10_000 }).toBe(1 + 6 + 13);

    const auth = { headers: { authorization: `Bearer ${await rig.token(acct)}` } };
    const ledger = LedgerPage.parse(await (await fetch(`${rig.url}/v1/accounts/${acct}/ledger?limit=500`, auth)).json());
    const charged = ledger.entries.filter((e) => e.kind === "charge").reduce((sum, e) => sum + e.amount, 0);
    expect(charged).toBe(20);

    const page = await rig.page(acct);
    await page.goto(`${rig.url}/usage`);
    await page.waitForSelector("body[data-loaded=true]", { timeout: 10_000 });
    expect(await page.getByTestId("usage-total").textContent()).toBe(plain(charged));
    const usage = Usage.parse(await (await fetch(`${rig.url}/v1/accounts/${acct}/usage?groupBy=stage`, auth)).json());
    expect(usage.total).toBe(charged);
    expect(await page.locator("#ledger-rows tr").count()).toBe(ledger.entries.length);
    await page.screenshot({ path: `${SCREENSHOTS}/usage-page.png`, fullPage: true });
    await page.context().close();
  });

  it("serves /ops, and the dev login signs a page in without a stored token", async () => {
    const page = await rig.browser.newPage();
    await page.goto(`${rig.url}/ops`);
    expect(await page.locator("h1").textContent()).toBe("Live spend");
    await page.goto(`${rig.url}/?session=dev-check`);
    // The counter reads 0 before sign-in too: wait for the dev login's token, then for the live state.
    await expect
      .poll(() => page.evaluate('sessionStorage.getItem("creditmeter.token")'), { timeout: 10_000 })
      .toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    await expect.poll(() => page.getByTestId("connection-state").getAttribute("data-state"), { timeout: 10_000 }).toBe("connected");
    expect(await page.getByTestId("session-used").textContent()).toBe("0");
    expect(await page.locator("#run-demo").isVisible()).toBe(true);
    await page.close();
  });

  it("\"Run a demo session\" plays the scripted session through the queue and the counter follows", async () => {
    const page = await rig.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${rig.url}/?session=demo-run`);
    const used = page.getByTestId("session-used");
    await expect.poll(() => used.textContent(), { timeout: 10_000 }).toBe("0");
    // Signed in and live before the click (the counter reads 0 before sign-in too).
    await expect.poll(() => page.getByTestId("connection-state").getAttribute("data-state"), { timeout: 10_000 }).toBe("connected");
    await page.locator("#run-demo").click();
    // The free plan's price of the script: 1+1+1+1 + 4×3 + 2×6×10 + 24 (web research is free).
    await expect.poll(() => used.textContent(), { timeout: 30_000, interval: 250 }).toBe("160");
    expect((await rig.server.ledger.session("demo", "demo-run")).used).toBe(160);
    await page.screenshot({ path: `${SCREENSHOTS}/panel-demo-run.png` });
    await page.close();
  }, 60_000);
});
