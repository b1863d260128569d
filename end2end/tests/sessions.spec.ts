import { test, expect } from "@playwright/test";
import { PASSWORD, hydrated, signIn, signUp, uniqueUser, watchConsole } from "./helpers";

test("sign up, see the dashboard, then the session list", async ({ page }) => {
  const problems = watchConsole(page);
  const user = uniqueUser("alice");
  await signUp(page, user);

  await expect(page.getByTestId("session-facts")).toContainText("Idle expiry");
  await expect(page.getByTestId("events")).toContainText("Account created");
  await expect(page.getByTestId("nav-user")).toHaveText(user);

  await page.getByRole("link", { name: "Sessions", exact: true }).click();
  await expect(page).toHaveURL(/\/account\/sessions$/);
  const rows = page.getByTestId("session");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("This device");
  // The badge is as wide as its words, next to the device's name.
  const badge = await rows.first().getByText("This device").boundingBox();
  const row = await rows.first().boundingBox();
  expect(badge!.width).toBeLessThan(row!.width / 3);
  expect(problems).toEqual([]);
});

test("going back to the dashboard after signing out lands on the sign-in form, with a clean console", async ({
  page,
}) => {
  const problems = watchConsole(page);
  await signUp(page, uniqueUser("back"));
  await hydrated(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goBack();
  await expect(page).toHaveURL(/\/login\?next=%2Fdashboard|\/login\?next=\/dashboard/);
  await expect(page.getByRole("button", { name: "Sign in", exact: true })).toBeVisible();
  expect(problems).toEqual([]);
});

test("a page opened while signing out lands on the sign-in form, and nothing is refused", async ({
  page,
}) => {
  const problems = watchConsole(page);
  await signUp(page, uniqueUser("midout"));
  await hydrated(page);
  // The server has ended the session, but its answer is still on the way.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let ended = () => {};
  const serverEnded = new Promise<void>((resolve) => (ended = resolve));
  await page.route("**/api/auth/logout*", async (route) => {
    const response = await route.fetch();
    ended();
    await held;
    await route.fulfill({ response });
  });
  const refused: string[] = [];
  page.on("response", (r) => {
    if (r.url().includes("/api/") && r.status() === 401) refused.push(r.url());
  });
  await page.getByRole("button", { name: "Sign out" }).click();
  await serverEnded;
  // A protected page opened now is asked of the server, which has ended
  // the session: it sends the sign-in form instead, and nothing is refused.
  await page.getByRole("navigation").getByRole("link", { name: "Sessions", exact: true }).click();
  await expect(page).toHaveURL(/\/login\?next=%2Faccount%2Fsessions$/);
  release();
  await expect(page.getByRole("button", { name: "Sign in", exact: true })).toBeVisible();
  expect(refused).toEqual([]);
  expect(problems).toEqual([]);
});

test("an anonymous visit to a protected page lands on the login form", async ({ page }) => {
  await page.goto("/account/sessions");
  await expect(page).toHaveURL(/\/login\?next=%2Faccount%2Fsessions$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
});

test("revoking another device signs it out on its next navigation", async ({ browser }) => {
  const user = uniqueUser("bob");
  const laptop = await (await browser.newContext()).newPage();
  await signUp(laptop, user);

  const phoneContext = await browser.newContext();
  const phone = await phoneContext.newPage();
  await signIn(phone, user);

  await laptop.goto("/account/sessions");
  const rows = laptop.getByTestId("session");
  await expect(rows).toHaveCount(2);
  const other = laptop.locator('[data-testid="session"][data-current="false"]');
  await other.getByRole("button", { name: /Sign out/ }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("This device");

  await phone.goto("/dashboard");
  await expect(phone).toHaveURL(/\/login\?next=%2Fdashboard$/);
  // Its cookie was cleared, not just ignored.
  const cookies = await phoneContext.cookies();
  expect(cookies.find((c) => c.name === "__Host-session")).toBeUndefined();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("sign-in works as a plain form post", async ({ page, context }) => {
    const user = uniqueUser("carol");
    // Create the account with a plain form too.
    await page.goto("/signup");
    await page.getByLabel("User name or e-mail").fill(user);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account", exact: true }).click();
    await expect(page).toHaveURL(/\/dashboard$/);
    await context.clearCookies();

    // A wrong password comes back to the form with a readable error.
    await page.goto("/login");
    await page.getByLabel("User name or e-mail").fill(user);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page).toHaveURL(/\/login\?error=invalid_credentials/);
    await expect(page.getByTestId("form-error")).toHaveText("Invalid user name or password.");

    await page.getByLabel("User name or e-mail").fill(user);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page).toHaveURL(/\/dashboard$/);
    await expect(page.getByTestId("dashboard-user")).toHaveText(user);

    const session = (await context.cookies()).find((c) => c.name === "__Host-session");
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "Lax", path: "/" });

    // Logout is a POST form too.
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login\?signed_out=1$/);
    await page.goto("/dashboard");
    await expect(page).toHaveURL(/\/login\?next=%2Fdashboard$/);
  });
});

test("sign-in errors are announced without a page reload", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("User name or e-mail").fill(uniqueUser("nobody"));
  await page.getByLabel("Password").fill(PASSWORD);
  // After hydration the submit becomes an in-page action.
  await hydrated(page);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  const error = page.getByTestId("form-error");
  await expect(error).toHaveText("Invalid user name or password.");
  await expect(error).toHaveAttribute("aria-live", "assertive");
  await expect(page).toHaveURL(/\/login$/); // no redirect: handled in place
});
