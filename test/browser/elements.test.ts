import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { seriousViolations } from "./a11y.js";
import { CHROMIUM, SCREENSHOTS, js, startRig, type BrowserRig } from "./harness.js";

// The elements as a host page meets them (issue 13): keyboard and screen-reader behaviour,
// the events a host listens to, locale and strings, theming through parts and custom
// properties, and axe-core's verdict on the three pages. Runs on the served `/` page.

const focusedInside = (page: Page, host: string): Promise<string | null> =>
  js(
    page,
    `(() => { const a = document.activeElement; return a?.tagName === "${host.toUpperCase()}" ? (a.shadowRoot?.activeElement?.getAttribute("part") ?? "host") : a?.tagName ?? null; })()`,
  );

describe.skipIf(!existsSync(CHROMIUM))(`credit elements in Chromium (skipped: ${CHROMIUM} is not installed)`, () => {
  let rig: BrowserRig;

  beforeAll(async () => {
    rig = await startRig();
  }, 120_000);
  afterAll(async () => {
    await rig?.close();
  });

  /** `/` for a fresh account, once its balance has arrived. */
  async function panel(): Promise<{ page: Page; acct: string }> {
    const acct = await rig.account();
    const page = await rig.page(acct);
    await page.goto(`${rig.url}/?session=s1`);
    await expect.poll(() => page.getByTestId("balance-available").textContent(), { timeout: 10_000 }).toBe("300");
    return { page, acct };
  }

  async function crossLow(page: Page, acct: string): Promise<void> {
    // ceil(11.5) × 20 = 240 charged, leaving 60: exactly the low threshold (20 % of 300).
    await rig.publish(acct, "s1", "stage.completed", {
      stepId: "a1",
      action: "animation",
      model: "veo-3.1",
      seconds: 11.5,
    });
    await expect.poll(() => page.getByTestId("low-credit-banner").count(), { timeout: 10_000 }).toBe(1);
  }

  it("the balance popover is a disclosure: click toggles aria-expanded, Escape closes and returns focus, the link is next in tab order", async () => {
    const { page } = await panel();
    const button = page.locator("credit-balance button");
    const popover = page.locator("credit-balance [part=popover]");
    expect(await button.getAttribute("aria-expanded")).toBe("false");
    expect(await popover.isVisible()).toBe(false);
    await page.hover("credit-balance button"); // hovering alone no longer opens it
    expect(await popover.isVisible()).toBe(false);

    await button.click();
    expect(await button.getAttribute("aria-expanded")).toBe("true");
    expect(await popover.isVisible()).toBe(true);
    await button.click();
    expect(await popover.isVisible()).toBe(false);

    // Keyboard only: Enter opens, Tab reaches the link, Escape closes and focus is back on the button.
    await button.focus();
    await page.keyboard.press("Enter");
    expect(await popover.isVisible()).toBe(true);
    await page.keyboard.press("Tab");
    expect(await focusedInside(page, "credit-balance")).toBe("link");
    await page.keyboard.press("Escape");
    expect(await popover.isVisible()).toBe(false);
    expect(await button.getAttribute("aria-expanded")).toBe("false");
    expect(await focusedInside(page, "credit-balance")).toBe("button");

    // A click elsewhere closes it.
    await button.click();
    await page.mouse.click(900, 700);
    expect(await popover.isVisible()).toBe(false);
    await page.context().close();
  });

  it("Upgrade plan fires a cancellable credit-upgrade (the link is the fallback); Dismiss fires credit-banner-dismiss and keeps focus in place", async () => {
    const { page, acct } = await panel();
    await crossLow(page, acct);
    await js(
      page,
      `(() => {
      window.seen = [];
      document.addEventListener("credit-upgrade", (e) => { window.seen.push(["credit-upgrade", e.detail.level, e.detail.url, e.cancelable]); e.preventDefault(); }, { once: true });
      document.addEventListener("credit-banner-dismiss", (e) => window.seen.push(["credit-banner-dismiss", e.detail.level]));
    })()`,
    );
    const before = page.url();
    await page.getByTestId("banner-upgrade").click();
    expect(page.url()).toBe(before); // the host took over
    expect(await js(page, "window.seen")).toEqual([["credit-upgrade", "low", "/upgrade", true]]);

    // Keyboard dismissal: focus stays where the banner was (not on <body>), and the tab order continues from there.
    await page.getByTestId("banner-dismiss").focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByTestId("low-credit-banner").count()).toBe(0);
    expect(await js(page, "window.seen.at(-1)")).toEqual(["credit-banner-dismiss", "low"]);
    expect(await focusedInside(page, "low-credit-banner")).toBe("host");
    await page.keyboard.press("Shift+Tab");
    expect(await js(page, "document.activeElement?.id")).toBe("run-demo"); // the control just before the banner
    await page.context().close();

    // Nobody cancels: the link is followed.
    const other = await panel();
    await crossLow(other.page, other.acct);
    await other.page.getByTestId("banner-upgrade").click();
    await expect.poll(() => other.page.url()).toBe(`${rig.url}/upgrade`);
    await other.page.context().close();
  });

  it("locale formats numbers with Intl and picks the language's words; strings override any of them", async () => {
    const acct = await rig.account();
    await rig.server.ledger.addPack(acct, { packId: `p-${acct}`, credits: 5000 });
    const page = await rig.page(acct);
    await page.goto(`${rig.url}/?session=s1`);
    await rig.publish(acct, "s1", "stage.completed", {
      stepId: "a1",
      action: "animation",
      model: "veo-3.1",
      seconds: 60,
    });
    await expect.poll(() => page.getByTestId("session-used").textContent(), { timeout: 10_000 }).toBe("1,200");
    await js(
      page,
      `(() => {
      for (const el of document.querySelectorAll("credit-session-counter, credit-balance")) el.setAttribute("locale", "de-DE");
      document.querySelector("credit-balance").strings = { seeUsage: "Zur Nutzung" };
    })()`,
    );
    await expect.poll(() => page.getByTestId("session-used").textContent()).toBe("1.200");
    expect(await page.locator("credit-session-counter [part=title]").textContent()).toBe(
      "In dieser Sitzung verbrauchte Credits",
    );
    expect(await page.locator("credit-session-counter [data-testid=session-stage-animation]").textContent()).toBe(
      "1.200",
    );
    await page.locator("credit-balance button").click();
    expect(await page.locator("credit-balance [part=label]").first().textContent()).toBe("Verfügbar");
    expect(await page.getByTestId("balance-available").textContent()).toBe("4.100"); // 300 + 5,000 − 1,200
    expect(await page.locator("credit-balance [part=link]").textContent()).toBe("Zur Nutzung");
    await page.screenshot({ path: `${SCREENSHOTS}/elements-de.png` });
    await page.context().close();
  });

  it("themes: ::part() reaches every piece, custom properties restyle, dark by attribute or by the system's preference", async () => {
    const { page } = await panel();
    const surface = (): Promise<string> =>
      js(
        page,
        `getComputedStyle(document.querySelector("credit-session-counter").shadowRoot.querySelector("[part=card]")).backgroundColor`,
      );
    expect(await surface()).toBe("rgb(255, 255, 255)");
    await js(page, `document.querySelector("credit-session-counter").setAttribute("theme", "dark")`);
    await expect.poll(surface).toBe("rgb(28, 28, 38)");
    // No attribute: the system decides.
    await js(page, `document.querySelector("credit-session-counter").removeAttribute("theme")`);
    await page.emulateMedia({ colorScheme: "dark" });
    await expect.poll(surface).toBe("rgb(28, 28, 38)");
    await page.emulateMedia({ colorScheme: "light" });
    await expect.poll(surface).toBe("rgb(255, 255, 255)");
    // A host's custom property and ::part() rule.
    await page.addStyleTag({
      content:
        "credit-session-counter { --cm-surface: rgb(1, 2, 3); } credit-session-counter::part(used) { color: rgb(4, 5, 6); }",
    });
    await expect.poll(surface).toBe("rgb(1, 2, 3)");
    expect(
      await js(
        page,
        `getComputedStyle(document.querySelector("credit-session-counter").shadowRoot.querySelector("[part=used]")).color`,
      ),
    ).toBe("rgb(4, 5, 6)");
    // Every element that renders something visible names it as a part.
    const unnamed = await js<string[]>(
      page,
      `(() => {
      const out = [];
      for (const host of document.querySelectorAll("credit-session-counter, credit-balance, low-credit-banner, credit-connection-status")) {
        const root = host.shadowRoot;
        for (const el of root.querySelectorAll("*")) {
          if (el.closest("svg") && el.tagName.toLowerCase() !== "svg") continue;
          const owned = el.closest("[part]");
          if (!owned && !el.classList.contains("sr-only")) out.push(host.tagName + " " + el.tagName);
        }
      }
      return out;
    })()`,
    );
    expect(unnamed).toEqual([]);
    await page.context().close();
  });

  it("an element may carry its own meter: two accounts' counters side by side on one page", async () => {
    const { page, acct } = await panel();
    const other = await rig.account();
    // The script bundle beside the page's own modules: its SDK builds the second meter.
    await page.addScriptTag({ url: `${rig.url}/sdk/creditmeter-panel.js` });
    await js(
      page,
      `(() => {
      const el = document.createElement("credit-session-counter");
      el.id = "other";
      el.setAttribute("session-id", "b1");
      el.creditMeter = CreditMeter.createCreditMeter({ url: "", token: ${JSON.stringify(await rig.token(other))} });
      document.querySelector("main").append(el);
    })()`,
    );
    const mine = page.locator("#counter [data-testid=session-used]");
    const theirs = page.locator("#other [data-testid=session-used]");
    await expect.poll(() => theirs.textContent(), { timeout: 10_000 }).toBe("0");
    await rig.publish(other, "b1", "stage.completed", { stepId: "b-script", action: "script" });
    await rig.publish(acct, "s1", "stage.completed", { stepId: "k", action: "image", scenes: 2 });
    await expect.poll(() => theirs.textContent(), { timeout: 10_000 }).toBe("1");
    await expect.poll(() => mine.textContent(), { timeout: 10_000 }).toBe("6");
    await page.context().close();
  });

  it("axe-core finds no serious or critical violations on /, /usage and /ops", async () => {
    const { page, acct } = await panel();
    await crossLow(page, acct);
    await page.locator("credit-balance button").click();
    const found: Record<string, string[]> = { "/": await seriousViolations(page) };
    await page.goto(`${rig.url}/usage`);
    await expect.poll(() => page.getByTestId("usage-total").textContent(), { timeout: 10_000 }).toBe("240");
    found["/usage"] = await seriousViolations(page);
    await page.screenshot({ path: `${SCREENSHOTS}/usage-a11y.png`, fullPage: true });
    await page.context().close();

    const ops = await (await rig.browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await ops.goto(`${rig.url}/ops`);
    await expect.poll(() => ops.locator("#ops-status").textContent(), { timeout: 10_000 }).toBe("Live");
    found["/ops"] = await seriousViolations(ops);
    await ops.screenshot({ path: `${SCREENSHOTS}/ops-a11y.png`, fullPage: true });
    await ops.context().close();
    expect(found).toEqual({ "/": [], "/usage": [], "/ops": [] });
  });
});
