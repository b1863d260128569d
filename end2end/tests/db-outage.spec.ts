import { test, expect } from "@playwright/test";
import { hydrated, signUp, uniqueUser } from "./helpers";

// Runs against the PostgreSQL-backed server whose database link can be cut
// (see support/pg-stack.mjs); skipped when PostgreSQL is not reachable.
const base = process.env.E2E_PG_BASE;
const control = process.env.E2E_PG_CONTROL;
test.skip(!base || !control, "PostgreSQL is not reachable");
test.use({ baseURL: base });

test("with the database down, static pages are served and hydrate, SSR pages say 503, and all recovers", async ({
  page,
  request,
}) => {
  const name = uniqueUser("outage");
  await signUp(page, name);

  expect(await (await request.post(`${control}/cut`)).text()).toBe("cut");
  try {
    // Prerendered pages are files: served, hydrated, interactive.
    for (const path of ["/", "/about", "/guides"]) {
      const res = await page.goto(path);
      expect(res?.status(), path).toBe(200);
      await hydrated(page);
    }
    await page.goto("/");
    // The toggle is the WASM app's: clicked before hydration, it does nothing.
    await hydrated(page);
    await page.getByRole("button", { name: "Show how it works" }).click();
    await expect(page.locator("#how-it-works")).toBeVisible();
    // The header keeps the last known state instead of signing anyone out.
    await expect(page.getByTestId("nav-user")).toHaveText(name);

    // Pages that need the database fail fast and say so.
    const started = Date.now();
    const res = await page.goto("/dashboard");
    expect(res?.status()).toBe(503);
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(page.locator("body")).toContainText("temporarily unavailable");
    expect((await request.get("/readyz")).status()).toBe(503);
  } finally {
    await request.post(`${control}/restore`);
  }

  // Back by itself, with the same session.
  await expect
    .poll(async () => (await request.get("/readyz")).status(), { timeout: 10_000 })
    .toBe(200);
  const res = await page.goto("/dashboard");
  expect(res?.status()).toBe(200);
  await expect(page.getByTestId("dashboard-user")).toHaveText(name);
});
