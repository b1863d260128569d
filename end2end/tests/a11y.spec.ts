import { test, expect } from "@playwright/test";
import path from "node:path";
import {
  ANONYMOUS_PAGES as anonymousPages,
  SIGNED_IN_PAGES as signedInPages,
  hydrated,
  looseCards,
  SCREENSHOTS as shots,
  seriousViolations,
  signIn,
  signUp,
  uniqueUser,
  watchConsole,
} from "./helpers";

for (const scheme of ["light", "dark"] as const) {
  test(`every page passes axe (no serious or critical violations), with a clean console and cards that sit on their padding, ${scheme} theme`, async ({ page }) => {
    // Every page of the route table, axe on each: longer than one page's test.
    test.setTimeout(90_000);
    await page.emulateMedia({ colorScheme: scheme });
    const problems = watchConsole(page);
    for (const p of anonymousPages) {
      problems.length = 0;
      await page.goto(p);
      await hydrated(page);
      expect(await seriousViolations(page), `${p} (${scheme})`).toEqual([]);
      expect(await looseCards(page), p).toEqual([]);
      // The missing page's own 404 is the one console line allowed.
      expect(problems.filter((m) => !(p === "/nope" && m.includes("status of 404"))), p).toEqual([]);
      // What search engines show (Lighthouse's SEO audit asks for it).
      await expect(page.locator('meta[name="description"]'), p).toHaveAttribute("content", /.{40,}/);
    }
    problems.length = 0;
    const user = uniqueUser("a11y");
    await signUp(page, user);
    // Signed in again as from a browser the account does not know, so the
    // dashboard shows its security notice too.
    await page.context().clearCookies();
    await signIn(page, user);
    await expect(page.getByTestId("notice")).toHaveCount(1);
    for (const p of signedInPages) {
      await page.goto(p);
      await hydrated(page);
      expect(await seriousViolations(page), `${p} signed in (${scheme})`).toEqual([]);
      expect(await looseCards(page), `${p} signed in`).toEqual([]);
    }
    expect(problems).toEqual([]);
  });
}

// A new user on a phone saw the header's "Sign up" cut off: the page was
// 13 px wider than the screen. No page may scroll sideways at phone widths.
test("no page is wider than a phone's screen, signed out or in", async ({ page }) => {
  const sideways = async (label: string) => {
    for (const width of [390, 320]) {
      await page.setViewportSize({ width, height: 800 });
      const [scroll, client] = await page.evaluate(() => [
        document.documentElement.scrollWidth,
        document.documentElement.clientWidth,
      ]);
      expect(scroll, `${label} at ${width} px`).toBeLessThanOrEqual(client);
    }
  };
  for (const p of anonymousPages) {
    await page.goto(p);
    await hydrated(page);
    await sideways(p);
  }
  await signUp(page, uniqueUser("phone"));
  for (const p of signedInPages) {
    await page.goto(p);
    await hydrated(page);
    await sideways(`${p} signed in`);
  }
});

// The README's screenshots: taken by the suite, so they show what it tested.
for (const [label, viewport, user] of [
  ["desktop", { width: 1280, height: 800 }, "ada"],
  ["mobile", { width: 390, height: 844 }, "grace"],
] as const) {
  test(`screenshots for the README, ${label}`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await page.emulateMedia({ colorScheme: "light" });
    const shoot = async (name: string) =>
      page.screenshot({ path: path.join(shots, `${name}-${label}.png`), fullPage: false });
    await page.goto("/");
    await hydrated(page);
    await shoot("home");
    await page.goto("/login");
    await hydrated(page);
    await shoot("login");
    await page.goto("/forgot-password");
    await hydrated(page);
    await shoot("forgot-password");
    // A fresh database per run, so a readable name is free.
    await signUp(page, user);
    await shoot("dashboard");
    await page.goto("/account/sessions");
    await hydrated(page);
    await expect(page.getByText("This device")).toBeVisible();
    await shoot("sessions");
    await page.goto("/account/email");
    await hydrated(page);
    await page.getByLabel(/email address/i).fill(`${user}@example.com`);
    await page.getByRole("button", { name: "Send a confirmation link" }).click();
    await expect(page.getByTestId("email-state")).toHaveAttribute("data-state", "unverified");
    await shoot("email");
    await page.goto("/account/password");
    await hydrated(page);
    await shoot("password");
    await page.goto("/account/delete");
    await hydrated(page);
    await expect(page.getByTestId("delete-username")).toHaveText(user);
    await shoot("delete");
  });
}
