import { test, expect } from "@playwright/test";
import { hydrated, signUp, uniqueUser, watchConsole } from "./helpers";

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

// Seen on a 390 px phone before the header was an island: links, the
// user's name and "Sign out" wrapped into three rows, a fifth of the screen.
test("on a 390 px phone the header is one row, signed out and signed in", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const oneRow = async (label: string) => {
    const boxes = await Promise.all(
      [".nav .brand", ".nav-menu > summary", ".nav-session"].map((s) => page.locator(s).boundingBox()),
    );
    for (const box of boxes) expect(box, label).not.toBeNull();
    const top = Math.min(...boxes.map((b) => b!.y));
    const bottom = Math.max(...boxes.map((b) => b!.y + b!.height));
    const tallest = Math.max(...boxes.map((b) => b!.height));
    // Side by side: together no taller than the tallest of them.
    expect(bottom - top, label).toBeLessThanOrEqual(tallest + 1);
    const header = await page.locator(".site-header").boundingBox();
    expect(header!.height, label).toBeLessThan(80);
  };
  await page.goto("/");
  await hydrated(page);
  await oneRow("signed out");
  await signUp(page, uniqueUser("phone"));
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  await oneRow("signed in");
  // The links, and who is signed in, are in the menu.
  await page.locator(".nav-menu > summary").click();
  const menu = page.locator(".nav-menu-links");
  await expect(menu.getByRole("link", { name: "Sessions" })).toBeVisible();
  await expect(menu.getByText("Signed in as")).toBeVisible();
});
