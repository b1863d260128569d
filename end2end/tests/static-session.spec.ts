import { test, expect } from "@playwright/test";
import { countRefreshes, hydrated, signUp, uniqueUser, watchConsole } from "./helpers";

test("a static page shows signed out, then signed in after sign-in", async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("client-state")).toContainText("You are signed out");

  const user = uniqueUser("static");
  await signUp(page, user);
  await page.goto("/");
  await expect(page.getByTestId("client-state")).toContainText(`Signed in as ${user}`);
  await expect(page.getByTestId("nav-user")).toHaveText(user);

  // By default the access token stays in memory; only the snapshot is stored.
  const stored = await page.evaluate(() => ({
    token: localStorage.getItem("leptos-sessions.access-token"),
    snapshot: localStorage.getItem("leptos-sessions.snapshot"),
  }));
  expect(stored.token).toBeNull();
  expect(JSON.parse(stored.snapshot!)).toMatchObject({ name: user });

  // The button keeps its distance from the facts above it.
  const facts = await page.getByTestId("client-session").locator("dl.facts").boundingBox();
  const button = await page.getByRole("button", { name: "Call /api/me with the token" }).boundingBox();
  expect(button!.y - (facts!.y + facts!.height)).toBeGreaterThanOrEqual(8);

  // The access token works against the stateless API.
  await page.getByRole("button", { name: "Call /api/me with the token" }).click();
  await expect(page.getByTestId("api-me")).toContainText(`"name":"${user}"`);

  // The about page is static too, and knows at once from the snapshot.
  await page.goto("/about");
  await expect(page.getByTestId("client-state")).toContainText(`Signed in as ${user}`);

  // Guides are prerendered per slug; the header still shows the session.
  await page.goto("/guides");
  await page.getByRole("link", { name: "The token model" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("The token model");
  await expect(page.getByTestId("nav-user")).toHaveText(user);
  expect(problems).toEqual([]);
});

test("from a static page, the header's links reach the signed-in pages", async ({ page }) => {
  // The prerendered header says "signed out" until the browser learns the
  // session; the links it then shows must not be refused as signed out.
  const problems = watchConsole(page);
  const user = uniqueUser("links");
  await signUp(page, user);
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("nav-user")).toHaveText(user);
  const nav = page.getByRole("navigation");
  await nav.getByRole("link", { name: "Dashboard", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("dashboard-user")).toHaveText(user);
  await page.goto("/about");
  await hydrated(page);
  await expect(page.getByTestId("nav-user")).toHaveText(user);
  await nav.getByRole("link", { name: "Sessions", exact: true }).click();
  await expect(page).toHaveURL(/\/account\/sessions$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Your sessions");
  expect(problems).toEqual([]);
});

test("following links and reloading cost no refresh while the bound token is valid", async ({ page }) => {
  const problems = watchConsole(page);
  await signUp(page, uniqueUser("keep"));
  const refreshes = countRefreshes(page);
  // Server-rendered pages need no token; the first prerendered one gets one.
  await page.goto("/");
  await expect(page.getByTestId("token-expiry")).toContainText("valid until");
  expect(refreshes()).toBe(1);
  // Ten links between prerendered pages, then a reload: the tab's token
  // serves them all.
  for (let i = 0; i < 5; i++) {
    await page.getByRole("navigation").getByRole("link", { name: "How it works" }).click();
    await expect(page).toHaveURL(/\/about$/);
    await expect(page.getByTestId("token-expiry")).toContainText("valid until");
    await page.getByRole("navigation").getByRole("link", { name: "Leptos Sessions" }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByTestId("token-expiry")).toContainText("valid until");
  }
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("token-expiry")).toContainText("valid until");
  expect(refreshes()).toBe(1);
  // A second tab holds no token of its own (sessionStorage is the tab's):
  // one refresh, bound to the same key.
  const second = await page.context().newPage();
  const secondRefreshes = countRefreshes(second);
  await second.goto("/about");
  await expect(second.getByTestId("token-expiry")).toContainText("valid until");
  expect(refreshes() + secondRefreshes()).toBe(2);
  await second.close();
  // What the tab keeps is bound to its key: without a proof of it, the
  // API refuses it.
  const kept = await page.evaluate(() => JSON.parse(sessionStorage.getItem("leptos-sessions.token") ?? "null"));
  expect(kept.token.token_type).toBe("DPoP");
  const copied = await page.request.get("/api/me", {
    headers: { Authorization: `Bearer ${kept.token.access_token}` },
  });
  expect(copied.status()).toBe(401);
  const asDpop = await page.request.get("/api/me", {
    headers: { Authorization: `DPoP ${kept.token.access_token}` },
  });
  expect(asDpop.status()).toBe(401);
  expect(problems).toEqual([]);
});

test("logout in one tab flips the other tab to signed out", async ({ context }) => {
  const first = await context.newPage();
  const user = uniqueUser("tabs");
  await signUp(first, user);
  await first.goto("/");
  await expect(first.getByTestId("client-state")).toContainText(`Signed in as ${user}`);

  const second = await context.newPage();
  await second.goto("/about");
  await expect(second.getByTestId("client-state")).toContainText(`Signed in as ${user}`);

  await hydrated(first);
  await first.getByRole("button", { name: "Sign out" }).click();
  await expect(first).toHaveURL(/\/login\?signed_out=1$/);
  // No reload of the second tab: it hears about it and re-checks.
  await expect(second.getByTestId("client-state")).toContainText("You are signed out", {
    timeout: 3_000,
  });
  await expect(second.getByRole("link", { name: "Sign in" }).first()).toBeVisible();
});

test("sign-out from a directly loaded server-rendered page reaches a static tab at once", async ({ context }) => {
  const user = uniqueUser("ssrtab");
  const staticTab = await context.newPage();
  await signUp(staticTab, user);
  await staticTab.goto("/about");
  await expect(staticTab.getByTestId("client-state")).toContainText(`Signed in as ${user}`);

  // Loaded directly, not reached by a client-side navigation: this page
  // never started the static pages' client session.
  const dashboard = await context.newPage();
  await dashboard.goto("/dashboard");
  await hydrated(dashboard);
  await dashboard.getByRole("button", { name: "Sign out" }).click();
  await expect(dashboard).toHaveURL(/\/login\?signed_out=1$/);
  // The README promises about a second; the tab used to wait for ~5.5 s.
  await expect(staticTab.getByTestId("client-state")).toContainText("You are signed out", {
    timeout: 1_000,
  });
});

test.describe("with TOKEN_STORAGE=memory", () => {
  test.use({ baseURL: `http://localhost:${Number(process.env.E2E_PORT ?? 3100) + 8}` });

  test("no token is kept: every page load that needs one asks, and it works", async ({ page }) => {
    const problems = watchConsole(page);
    const user = uniqueUser("mem");
    await signUp(page, user);
    const refreshes = countRefreshes(page);
    await page.goto("/");
    await expect(page.getByTestId("token-expiry")).toContainText("valid until");
    expect(refreshes()).toBe(1);
    // A reload and a link to another prerendered page each ask again.
    await page.reload();
    await hydrated(page);
    await expect(page.getByTestId("token-expiry")).toContainText("valid until");
    expect(refreshes()).toBe(2);
    await page.getByRole("navigation").getByRole("link", { name: "How it works" }).click();
    await expect(page).toHaveURL(/\/about$/);
    await expect(page.getByTestId("token-expiry")).toContainText("valid until");
    expect(refreshes()).toBe(3);
    // Neither storage holds it.
    const kept = await page.evaluate(() => [
      sessionStorage.getItem("leptos-sessions.token"),
      localStorage.getItem("leptos-sessions.access-token"),
    ]);
    expect(kept).toEqual([null, null]);
    // The token in memory still does its job.
    await page.goto("/");
    await page.getByRole("button", { name: "Call /api/me with the token" }).click();
    await expect(page.getByTestId("api-me")).toContainText(`"name":"${user}"`);
    expect(problems).toEqual([]);
  });
});

test.describe("with a 5-second access token kept in localStorage", () => {
  test.use({ baseURL: `http://localhost:${Number(process.env.E2E_PORT ?? 3100) + 2}` });

  test("the page keeps a valid session across several refreshes", async ({ page }) => {
    test.setTimeout(45_000);
    const user = uniqueUser("ttl");
    await signUp(page, user);
    await page.goto("/");
    await expect(page.getByTestId("client-state")).toContainText(`Signed in as ${user}`);
    // 5 s tokens, refreshed at 80% while someone uses the page: three
    // refreshes take about 12 s. The pointer moves stand for that someone.
    await expect
      .poll(
        async () => {
          await page.mouse.move(100 + Math.random() * 400, 100 + Math.random() * 300);
          return Number(await page.getByTestId("refresh-count").textContent());
        },
        { timeout: 20_000, intervals: [500] },
      )
      .toBeGreaterThanOrEqual(4);
    // Being used, the session never came near its 20 s idle timeout.
    await expect(page.getByTestId("idle-prompt")).toHaveCount(0);
    await page.getByRole("button", { name: "Call /api/me with the token" }).click();
    await expect(page.getByTestId("api-me")).toContainText(`"name":"${user}"`);
    // TOKEN_STORAGE=local: the token survives in localStorage (the opt-in).
    const token = await page.evaluate(() => localStorage.getItem("leptos-sessions.access-token"));
    expect(token).toContain("eyJ");
  });
});
