// Security headers on pages and API (issue 12), and the pages still work under the CSP:
// Chromium loads /, /usage and /ops with no Content-Security-Policy violation.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { CHROMIUM, startRig, type BrowserRig } from "./harness.js";

describe.skipIf(!existsSync(CHROMIUM))("pages under the Content-Security-Policy", () => {
  let rig: BrowserRig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(() => rig?.close());

  it("sends the security headers on pages and API", async () => {
    for (const path of ["/", "/v1/pricing"]) {
      const res = await fetch(`${rig.url}${path}`);
      expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });

  it("loads the panel, usage and ops pages without a CSP violation", async () => {
    const accountId = await rig.account();
    const page = await rig.page(accountId);
    const violations: string[] = [];
    page.on("console", (msg) => {
      if (/Content.Security.Policy/i.test(msg.text())) violations.push(msg.text());
    });
    try {
      await page.goto(`${rig.url}/?session=csp-1`);
      // The balance arrives over Socket.IO: the page's scripts ran and its socket connected.
      await page.locator('[data-testid="balance-available"]').filter({ hasText: "300" }).first().waitFor({ state: "attached", timeout: 15_000 });
      await page.goto(`${rig.url}/usage`);
      await page.waitForSelector("body[data-loaded=true]", { timeout: 15_000 });
      await page.goto(`${rig.url}/ops`);
      await page.waitForSelector("body[data-loaded=true]", { timeout: 15_000 });
      expect(violations).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});
