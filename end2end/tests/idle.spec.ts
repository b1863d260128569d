import { expect, test } from "@playwright/test";
import path from "node:path";
import { hydrated, SCREENSHOTS, seriousViolations, signUp, uniqueUser } from "./helpers";

// The server with short lifetimes: sessions idle out after 20 s, the prompt
// opens 5 s before, access tokens live 5 s (see playwright.config.ts).
test.use({ baseURL: `http://localhost:${Number(process.env.E2E_PORT ?? 3100) + 2}` });

test("the dashboard counts down live; the prompt keeps the session, or it ends", async ({ page }) => {
  test.setTimeout(90_000);
  await signUp(page, uniqueUser("idle"));
  await hydrated(page);

  // Live countdowns: the idle countdown changes without any request.
  const idle = page.getByTestId("idle-countdown");
  const before = await idle.textContent();
  await expect(idle).not.toHaveText(before ?? "", { timeout: 3_000 });
  await expect(page.getByTestId("absolute-countdown")).toHaveText(/^in 7 h 59 min$/);
  await expect(page.getByTestId("created-ago")).toHaveText(/s ago$|just now/);

  // Nobody touches the page: the prompt opens about 15 s after sign-up.
  const prompt = page.getByRole("alertdialog", { name: "Still there?" });
  await expect(prompt).toBeVisible({ timeout: 20_000 });
  await expect(prompt).toContainText("you will be signed out in");
  await expect(prompt.getByRole("button", { name: "Stay signed in" })).toBeFocused();

  // One refresh: the prompt closes and the idle expiry moves back to ~20 s.
  await prompt.getByRole("button", { name: "Stay signed in" }).click();
  await expect(prompt).toBeHidden();
  await expect(idle).toHaveText(/^in 1\d s$|^in 20 s$/);
  await expect(page.getByTestId("last-active")).toHaveText(/^(just now|[0-3] s ago)$/);

  // Then nobody answers: signed out here, told why, and the server agrees.
  await expect(prompt).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId("idle-ended")).toBeVisible({ timeout: 10_000 });
  await expect(page.getByTestId("idle-ended")).toContainText("signed out after a period of inactivity");
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole("link", { name: "Sign in", exact: true })).toBeVisible();
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/login\?next=%2Fdashboard$/);
});

test("the prompt's sign-out ends the session at once", async ({ page }) => {
  test.setTimeout(60_000);
  await signUp(page, uniqueUser("idle-out"));
  await hydrated(page);
  const prompt = page.getByRole("alertdialog", { name: "Still there?" });
  await expect(prompt).toBeVisible({ timeout: 20_000 });
  // The open dialog passes axe too, and is the README's picture of it.
  expect(await seriousViolations(page)).toEqual([]);
  await page.screenshot({ path: path.join(SCREENSHOTS, "idle-prompt-desktop.png") });
  await prompt.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expect(prompt).toBeHidden();
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/login\?next=%2Fdashboard$/);
});

test("a static page left alone no longer refreshes, so its session idles out too", async ({ page }) => {
  test.setTimeout(60_000);
  const user = uniqueUser("idle-static");
  await signUp(page, user);
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("client-state")).toContainText(`Signed in as ${user}`);
  await expect(page.getByTestId("token-expiry")).toContainText("valid until");
  // No pointer, no keys: the 5 s token lapses without a refresh, and the
  // idle prompt opens on the prerendered page as on the SSR ones.
  const prompt = page.getByRole("alertdialog", { name: "Still there?" });
  await expect(prompt).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId("refresh-count")).toHaveText("1");
  await prompt.getByRole("button", { name: "Stay signed in" }).click();
  await expect(prompt).toBeHidden();
  await expect(page.getByTestId("refresh-count")).toHaveText(/^[2-9]$/);
});
