import { test, expect } from "@playwright/test";
import { watchConsole } from "./helpers";

test("the static home page is a prerendered file that hydrates", async ({ page }) => {
  const problems = watchConsole(page);
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);

  // Served from the prerendered file: the HTML already has the content.
  const html = await response!.text();
  expect(html).toContain("Sessions done right");

  // After hydration the status flips and the button works.
  await expect(page.getByTestId("hydration-status")).toHaveText(/Interactive/);
  const toggle = page.getByRole("button", { name: "Show how it works" });
  await expect(page.locator("#how-it-works")).toBeHidden();
  await toggle.click();
  await expect(page.locator("#how-it-works")).toBeVisible();
  await expect(page.getByRole("button", { name: "Hide how it works" })).toHaveAttribute(
    "aria-expanded",
    "true",
  );

  expect(problems).toEqual([]);
});

test("the status page is rendered on the server with data from a server function", async ({
  page,
  request,
}) => {
  // The first HTML response already holds the data: no client fetch needed.
  const raw = await request.get("/status");
  expect(raw.status()).toBe(200);
  const html = await raw.text();
  const backend = process.env.E2E_DATABASE_URL?.startsWith("postgres") ? "postgres" : "sqlite";
  expect(html).toMatch(new RegExp(`data-testid="status-database"[^>]*>${backend}<`));

  const problems = watchConsole(page);
  await page.goto("/status");
  await expect(page.getByTestId("status-database")).toHaveText(backend);
  await expect(page.getByTestId("status-migrations")).toHaveText(/^[1-9]\d*$/);
  expect(problems).toEqual([]);
});

test("health and readiness probes answer", async ({ request }) => {
  expect((await request.get("/healthz")).status()).toBe(200);
  const ready = await request.get("/readyz");
  expect(ready.status()).toBe(200);
  // The SQLite default hears its own revocations, in process.
  expect(await ready.json()).toEqual({
    status: "ready",
    revocations: { feed: "in process", state: "live" },
  });
});

test("an unknown path gets a 404 page", async ({ request }) => {
  const res = await request.get("/no-such-page");
  expect(res.status()).toBe(404);
  expect(await res.text()).toContain("Page not found");
});
