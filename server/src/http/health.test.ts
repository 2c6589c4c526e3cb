import { describe, expect, it } from "vitest";
import { ErrorBody } from "@creditmeter/shared";
import { call, startTestApp } from "./test-harness.test-support.js";

describe("probes", () => {
  it("/healthz answers 200 { ok: true } without a token", async () => {
    const app = await startTestApp({ readiness: async () => false });
    try {
      const res = await call(app, "GET", "/healthz");
      expect(res).toMatchObject({ status: 200, body: { ok: true } });
    } finally {
      await app.close();
    }
  });

  it("/readyz follows readiness(): 503 while false or failing, 200 once true", async () => {
    let state: "down" | "throws" | "up" = "down";
    const app = await startTestApp({
      readiness: async () => {
        if (state === "throws") throw new Error("redis unreachable");
        return state === "up";
      },
    });
    try {
      expect(await call(app, "GET", "/readyz")).toMatchObject({ status: 503, body: { ready: false } });
      state = "throws";
      expect(await call(app, "GET", "/readyz")).toMatchObject({ status: 503, body: { ready: false } });
      state = "up";
      expect(await call(app, "GET", "/readyz")).toMatchObject({ status: 200, body: { ready: true } });
    } finally {
      await app.close();
    }
  });
});

describe("mountPages", () => {
  it("serves what the hook mounts, and unknown paths stay JSON 404s", async () => {
    const app = await startTestApp({
      mountPages: (express) => {
        express.get("/usage", (_req, res) => void res.type("html").send("<h1>usage</h1>"));
      },
    });
    try {
      expect(await call(app, "GET", "/usage")).toMatchObject({ status: 200, body: "<h1>usage</h1>" });
      const missing = await call(app, "GET", "/usage/nope");
      expect(missing.status).toBe(404);
      expect(ErrorBody.parse(missing.body).error.code).toBe("not_found");
    } finally {
      await app.close();
    }
  });
});
