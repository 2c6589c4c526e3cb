import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { seriousViolations } from "./a11y.js";
import { CHROMIUM, SCREENSHOTS, js, startRig, type BrowserRig } from "./harness.js";

// CONTRACT §10 as the person sees it on `/`, against a real server: the budget control, and the
// forecast line and shortfall warning once a worker planned the video.

/** An element's text without the markup's surrounding whitespace. */
const text = async (locator: { textContent(): Promise<string | null> }): Promise<string | undefined> =>
  (await locator.textContent())?.trim();

describe.skipIf(!existsSync(CHROMIUM))(
  `budgets and forecasts in Chromium (skipped: ${CHROMIUM} is not installed)`,
  () => {
    let rig: BrowserRig;

    beforeAll(async () => {
      rig = await startRig();
    }, 120_000);
    afterAll(async () => {
      await rig?.close();
    });

    /** Registers the session's plan as a worker does (PUT …/plan, CONTRACT §10). */
    async function plan(acct: string, sessionId: string, items: unknown[]): Promise<void> {
      const res = await fetch(`${rig.url}/v1/accounts/${acct}/sessions/${sessionId}/plan`, {
        method: "PUT",
        headers: { authorization: `Bearer ${await rig.token(acct)}`, "content-type": "application/json" },
        body: JSON.stringify({ items }),
      });
      expect(res.status).toBe(200);
    }

    /** `/` on session `sessionId` for a fresh 300-credit account, once it is live. */
    async function panel(sessionId: string): Promise<{ page: Page; acct: string }> {
      const acct = await rig.account();
      const page = await rig.page(acct);
      await page.goto(`${rig.url}/?session=${sessionId}`);
      await expect.poll(() => page.getByTestId("session-used").textContent(), { timeout: 10_000 }).toBe("0");
      await expect
        .poll(() => page.getByTestId("connection-state").getAttribute("data-state"), { timeout: 10_000 })
        .toBe("connected");
      return { page, acct };
    }

    it("the person sets a budget, a start beyond it is denied and shown, and removing it takes it away", async () => {
      const { page, acct } = await panel("b1");
      const remaining = page.getByTestId("budget-remaining");
      const error = page.getByTestId("budget-error");
      expect(await remaining.count()).toBe(0);
      // The field has its label; what is not a whole number ≥ 0 never reaches the server.
      const input = page.getByLabel("Session budget (credits)");
      await input.fill("1.5");
      await page.getByTestId("budget-set").click();
      await expect.poll(() => text(error)).toBe("Enter a whole number of credits, 0 or more.");
      expect(await input.getAttribute("aria-invalid")).toBe("true");
      // The server's own refusal is shown as it came (its cap is 1e12).
      await input.fill("9999999999999");
      await page.getByTestId("budget-set").click();
      await expect.poll(() => text(error), { timeout: 10_000 }).toMatch(/^invalid_input: credits/);

      await input.fill("100");
      await page.getByTestId("budget-set").click();
      await expect.poll(() => remaining.textContent(), { timeout: 10_000 }).toBe("100");
      expect(await error.isVisible()).toBe(false);
      expect(await page.getByTestId("budget-credits").textContent()).toBe("100");
      expect(await input.inputValue()).toBe(""); // done: the field is free for the next change

      // 4 scenes × 3 = 12 charged: 88 of the budget left.
      await rig.publish(acct, "b1", "stage.completed", { stepId: "kf", action: "image", scenes: 4 });
      await expect.poll(() => remaining.textContent(), { timeout: 10_000 }).toBe("88");
      // A hold of 6 × 20 = 120 would pass the budget (the account has 288): denied for the budget.
      await rig.publish(acct, "b1", "stage.started", {
        stepId: "scene-1",
        action: "animation",
        model: "veo-3.1",
        seconds: 6,
      });
      const denied = page.locator("#activity li.denied");
      await expect.poll(() => denied.getAttribute("data-reason"), { timeout: 10_000 }).toBe("session_budget");
      expect(await denied.textContent()).toContain("Over this session's budget");
      expect((await rig.balance(acct)).held).toBe(0);
      await page.screenshot({ path: `${SCREENSHOTS}/budget-denied.png` });

      // A budget of 12 is used up exactly: "Budget reached".
      await input.fill("12");
      await page.getByTestId("budget-set").click();
      await expect.poll(() => remaining.textContent(), { timeout: 10_000 }).toBe("0");
      expect(await page.getByTestId("budget-reached").isVisible()).toBe(true);

      await page.getByTestId("budget-remove").click();
      await expect.poll(() => remaining.count(), { timeout: 10_000 }).toBe(0);
      expect(await page.getByTestId("budget-remove").count()).toBe(0);
      // Without a budget the same start is granted.
      await rig.publish(acct, "b1", "stage.started", {
        stepId: "scene-2",
        action: "animation",
        model: "veo-3.1",
        seconds: 6,
      });
      await expect.poll(async () => (await rig.balance(acct)).held, { timeout: 10_000 }).toBe(120);
      await page.context().close();
    });

    it("the budget control works from the keyboard alone", async () => {
      const { page } = await panel("b2");
      await page.getByLabel("Session budget (credits)").focus();
      await page.keyboard.type("50");
      await page.keyboard.press("Enter");
      await expect.poll(() => page.getByTestId("budget-remaining").textContent(), { timeout: 10_000 }).toBe("50");
      expect(await js(page, `document.querySelector("credit-session-counter").shadowRoot.activeElement?.id`)).toBe(
        "budget-input",
      );
      await page.context().close();
    });

    it("with a plan the counter says how much more the video needs, and counts it down as work is charged", async () => {
      const { page, acct } = await panel("f1");
      const remaining = page.getByTestId("forecast-remaining");
      expect(await remaining.count()).toBe(0); // no plan, no line
      // 1 + 4 × 3 + 2 × 6 × 10 + 24 = 157 on the free plan.
      await plan(acct, "f1", [
        { action: "script" },
        { action: "image", scenes: 4 },
        { action: "animation", model: "veo-3.1-fast", seconds: 6, count: 2 },
        { action: "voiceover", seconds: 24 },
      ]);
      await expect.poll(() => remaining.textContent(), { timeout: 10_000 }).toBe("157");
      expect(await text(page.locator("credit-session-counter [part=forecast]"))).toBe(
        "About 157 more credits to finish",
      );
      expect(await page.getByTestId("forecast-shortfall").count()).toBe(0); // 300 available
      await rig.publish(acct, "f1", "stage.completed", { stepId: "script", action: "script" });
      await rig.publish(acct, "f1", "stage.completed", { stepId: "kf", action: "image", scenes: 4 });
      await expect.poll(() => remaining.textContent(), { timeout: 10_000 }).toBe("144");
      // A hold counts as spoken for: 60 reserved for the first scene.
      await rig.publish(acct, "f1", "stage.started", {
        stepId: "scene-1",
        action: "animation",
        model: "veo-3.1-fast",
        seconds: 6,
      });
      await expect.poll(() => remaining.textContent(), { timeout: 10_000 }).toBe("84");
      await page.screenshot({ path: `${SCREENSHOTS}/forecast-line.png` });

      await js(page, `document.querySelector("credit-session-counter").setAttribute("locale", "de-DE")`);
      await expect
        .poll(() => text(page.locator("credit-session-counter [part=forecast]")))
        .toBe("Noch etwa 84 Credits bis zum Abschluss");
      await page.context().close();
    });

    it("when the video needs more than is available, a warning with Upgrade, announced politely once", async () => {
      const { page, acct } = await panel("f2");
      const shortfall = page.getByTestId("forecast-shortfall");
      const announcement = page.getByTestId("forecast-announcement");
      expect(await announcement.getAttribute("aria-live")).toBe("polite");
      // 2 × 10 s × 20 = 400 planned against 300 available: 100 short.
      await plan(acct, "f2", [{ action: "animation", model: "veo-3.1", seconds: 10, count: 2 }]);
      await expect.poll(() => shortfall.textContent(), { timeout: 10_000 }).toBe("100");
      expect(await text(page.locator("credit-session-counter [part=shortfall-message]"))).toBe(
        "This video needs about 100 more credits than you have available.",
      );
      expect(await text(announcement)).toBe("This video needs about 100 more credits than you have available.");
      expect(await text(page.getByTestId("forecast-upgrade"))).toBe("Upgrade plan");
      await page.screenshot({ path: `${SCREENSHOTS}/forecast-shortfall.png` });
      // axe on / with the warning and the budget control on screen.
      expect(await seriousViolations(page)).toEqual([]);

      // A pack of 60: 40 short now. The warning's number follows; the live region does not speak again.
      await rig.addPack(acct, `p1-${acct}`, 60);
      await expect.poll(() => shortfall.textContent(), { timeout: 10_000 }).toBe("40");
      expect(await text(announcement)).toBe("This video needs about 100 more credits than you have available.");

      // Upgrade: the same cancellable credit-upgrade as the banner's, saying why.
      await js(
        page,
        `(() => {
        window.seen = [];
        document.addEventListener("credit-upgrade", (e) => { window.seen.push([e.detail.reason, e.detail.level, e.detail.url, e.cancelable]); e.preventDefault(); }, { once: true });
      })()`,
      );
      const before = page.url();
      await page.getByTestId("forecast-upgrade").click();
      expect(page.url()).toBe(before);
      expect(await js(page, "window.seen")).toEqual([["forecast_shortfall", null, "/upgrade", true]]);

      // Covered: the warning goes and the live region is emptied, ready to speak if it comes back.
      await rig.addPack(acct, `p2-${acct}`, 40);
      await expect.poll(() => shortfall.count(), { timeout: 10_000 }).toBe(0);
      expect(await text(announcement)).toBe("");
      expect(await page.getByTestId("forecast-remaining").textContent()).toBe("400");
      await page.context().close();
    });

    it("Run a demo session plans the video first, and a run hits the budget the person set", async () => {
      const { page } = await panel("demo-b");
      const used = page.getByTestId("session-used");
      await page.getByLabel("Session budget (credits)").fill("100");
      await page.getByTestId("budget-set").click();
      await expect.poll(() => page.getByTestId("budget-remaining").textContent(), { timeout: 10_000 }).toBe("100");
      await page.locator("#run-demo").click();
      // The plan arrives before the first step: the forecast shows while nothing is used yet.
      await expect
        .poll(() => page.getByTestId("forecast-remaining").count(), { timeout: 20_000, interval: 100 })
        .toBe(1);
      expect(Number(await page.getByTestId("forecast-remaining").textContent())).toBeGreaterThan(0);
      // 16 for research to keyframes, 60 for the first scene; the second scene (60 more) and the
      // voiceover's 30 would pass 100: denied for the budget.
      const denied = page.locator("#activity li.denied[data-reason=session_budget]");
      await expect.poll(() => denied.count(), { timeout: 40_000, interval: 250 }).toBe(2);
      await expect.poll(() => used.textContent(), { timeout: 10_000 }).toBe("76");
      expect(await page.getByTestId("forecast-remaining").textContent()).toBe("84"); // 160 planned − 76
      expect(await page.getByTestId("budget-remaining").textContent()).toBe("24");
      await page.screenshot({ path: `${SCREENSHOTS}/demo-budget-run.png` });

      // Again: this session has charges, so the run takes a fresh one, with the person's budget.
      await expect.poll(() => page.locator("#run-demo").isDisabled(), { timeout: 10_000 }).toBe(false);
      await page.locator("#run-demo").click();
      await expect
        .poll(() => new URL(page.url()).searchParams.get("session"), { timeout: 10_000 })
        .toMatch(/^demo-b-r[0-9a-z]+$/);
      await expect.poll(() => denied.count(), { timeout: 40_000, interval: 250 }).toBe(2);
      await expect.poll(() => used.textContent(), { timeout: 10_000 }).toBe("76");
      expect(await page.getByTestId("budget-credits").textContent()).toBe("100");
      await page.context().close();
    }, 120_000);
  },
);
