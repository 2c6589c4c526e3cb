import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { CHROMIUM, SCREENSHOTS, startRig, type BrowserRig } from "./harness.js";

// CONTRACT §10 as the person sees it on `/`, against a real server: the budget control, and the
// forecast line and shortfall warning once a worker planned the video.

/** Evaluates `code` in the page (a string: the test has no DOM types). */
const js = <T>(page: Page, code: string): Promise<T> => page.evaluate(code) as Promise<T>;
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
  },
);
