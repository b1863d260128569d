import { test, expect, type Page } from "@playwright/test";
import { PASSWORD, hydrated, seriousViolations, signIn, signUp, uniqueUser, watchConsole } from "./helpers";

const NEW_PASSWORD = "quiet cedar meadow";
/** The server that asks for the password again 3 s after it was given. */
const shortWindow = `http://localhost:${Number(process.env.E2E_PORT ?? 3100) + 6}`;

async function changePassword(page: Page, current: string, next: string): Promise<void> {
  await page.getByLabel("Current password").fill(current);
  await page.getByLabel("New password").fill(next);
  await page.getByRole("button", { name: "Change password" }).click();
}

test("a password change keeps this browser signed in and signs the other one out", async ({ page, context, browser }) => {
  const problems = watchConsole(page);
  const user = uniqueUser("pw");
  await signUp(page, user);
  const otherTab = await context.newPage();
  await otherTab.goto("/dashboard");
  const elsewhere = await browser.newContext();
  const laptop = await elsewhere.newPage();
  await signIn(laptop, user);

  // Reached by a client-side navigation, as a person would.
  await page.getByRole("link", { name: "Change your password" }).click();
  await expect(page).toHaveURL(/\/account\/password$/);
  await changePassword(page, PASSWORD, "password1");
  await expect(page.getByTestId("form-error")).toContainText("This password is easy to guess.");
  await changePassword(page, "not my password", NEW_PASSWORD);
  await expect(page.getByTestId("form-error")).toHaveText("That is not your current password.");
  await changePassword(page, PASSWORD, NEW_PASSWORD);
  await expect(page.getByTestId("password-changed")).toBeVisible();

  // This browser's tabs stay signed in; the other browser is out at its
  // next navigation.
  await otherTab.reload();
  await expect(otherTab.getByTestId("dashboard-user")).toHaveText(user);
  await page.goto("/dashboard");
  await expect(page.getByTestId("dashboard-user")).toHaveText(user);
  await laptop.goto("/dashboard");
  await expect(laptop).toHaveURL(/\/login\?next=%2Fdashboard$/);
  await expect(page.getByTestId("events")).toContainText("Password changed");
  // Only the answers to the two refused attempts (400 weak, 403 wrong).
  expect(problems.filter((p) => !/status of (400|403)/.test(p))).toEqual([]);
  await elsewhere.close();
});

test("deleting the account signs out, frees the name and refuses the old password", async ({ page }) => {
  const problems = watchConsole(page);
  const user = uniqueUser("del");
  await signUp(page, user);
  await page.getByRole("link", { name: "Delete your account" }).click();
  await expect(page.getByTestId("delete-username")).toHaveText(user);
  await page.getByLabel(/To confirm, type your user name/).fill("someone else");
  await page.getByRole("button", { name: "Delete my account" }).click();
  await expect(page.getByTestId("form-error")).toHaveText("Type your user name exactly as shown to confirm.");
  await page.getByLabel(/To confirm, type your user name/).fill(user);
  await page.getByRole("button", { name: "Delete my account" }).click();
  await expect(page).toHaveURL(/\/login\?deleted=1$/);
  await expect(page.getByTestId("account-deleted")).toBeVisible();
  const cookies = await page.context().cookies();
  expect(cookies.map((c) => c.name)).not.toContain("__Host-session");
  expect(cookies.map((c) => c.name)).not.toContain("__Host-device");

  await page.getByLabel("User name or e-mail").fill(user);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByTestId("form-error")).toHaveText("Invalid user name or password.");
  // Only the answers to the refused attempts (400 mismatch, 401 sign-in).
  expect(problems.filter((p) => !/status of (400|401)/.test(p))).toEqual([]);
  await signUp(page, user);
});

test("a sign-in from a new browser leaves notices, dismissed once for every device", async ({ page, browser }) => {
  const problems = watchConsole(page);
  const user = uniqueUser("note");
  await signUp(page, user);
  await expect(page.getByTestId("notice")).toHaveCount(0);

  // Elsewhere: one wrong password, then the right one.
  const elsewhere = await browser.newContext();
  const laptop = await elsewhere.newPage();
  await laptop.goto("/login");
  await hydrated(laptop);
  await laptop.getByLabel("User name or e-mail").fill(user);
  await laptop.getByLabel("Password").fill("not my password");
  await laptop.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(laptop.getByTestId("form-error")).toHaveText("Invalid user name or password.");
  await signIn(laptop, user);
  const notices = laptop.getByTestId("notice");
  await expect(notices).toHaveCount(2);
  await expect(notices.nth(0)).toContainText("New sign-in from a browser you had not used");
  await expect(notices.nth(1)).toContainText("1 failed sign-in attempt since your previous sign-in.");
  // Counted, not listed: guesses cannot push real activity off the list.
  await expect(laptop.getByTestId("events")).not.toContainText("Failed sign-in");
  expect(await seriousViolations(laptop)).toEqual([]);

  // Raised by this browser's own sign-in: whoever caused a notice must
  // prove a credential again to dismiss it (in place, then it goes).
  await notices.nth(1).getByRole("button", { name: "Confirm it's you to dismiss" }).click();
  const prompt = laptop.getByTestId("reauth-prompt");
  await expect(prompt).toBeVisible();
  await prompt.getByLabel("Password").fill(PASSWORD);
  await prompt.getByRole("button", { name: "Confirm", exact: true }).click();
  await expect(notices).toHaveCount(1);
  // Confirmed since it was raised: the other one now goes at once.
  await expect(notices.first().getByRole("button", { name: "Dismiss", exact: true })).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("notice")).toHaveCount(1);
  await expect(page.getByTestId("notice")).toContainText("New sign-in");

  // The session list says where each session was last active.
  await page.goto("/account/sessions");
  await expect(page.getByTestId("session")).toHaveCount(2);
  await expect(page.getByTestId("last-seen").first()).toContainText(/Last active .* from \S+/);
  expect(problems).toEqual([]);
  await elsewhere.close();
});

test.describe("step-up after the re-authentication window", () => {
  test.use({ baseURL: shortWindow });

  test("with JavaScript: the page asks for the password, then returns", async ({ page }) => {
    const problems = watchConsole(page);
    await signUp(page, uniqueUser("step"));
    await page.waitForTimeout(3_500);
    await page.getByRole("link", { name: "Change your password" }).click();
    await expect(page).toHaveURL(/\/account\/confirm\?next=%2Faccount%2Fpassword$/);
    await hydrated(page);
    await page.getByLabel("Password").fill("not my password");
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByTestId("form-error")).toHaveText("That is not your current password.");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page).toHaveURL(/\/account\/password$/);
    // Just confirmed: the confirmation stands in for the current password.
    await expect(page.getByTestId("no-current-password")).toBeVisible();
    await expect(page.getByLabel("Current password")).toHaveCount(0);
    await page.getByLabel("New password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Change password" }).click();
    await expect(page.getByTestId("password-changed")).toBeVisible();
    // The wrong password's 403 is the only console line.
    expect(problems.filter((p) => !p.includes("403"))).toEqual([]);
  });

  test("with JavaScript: an action past the window prompts in place and is retried", async ({ page }) => {
    const user = uniqueUser("prompt");
    await signUp(page, user);
    await page.goto("/account/password");
    await hydrated(page);
    await page.waitForTimeout(3_500);
    await changePassword(page, PASSWORD, NEW_PASSWORD);
    const prompt = page.getByTestId("reauth-prompt");
    await expect(prompt).toBeVisible();
    await expect(prompt.getByLabel("Password")).toBeFocused();
    expect(await seriousViolations(page)).toEqual([]);
    // A wrong password is said in the prompt, which stays.
    await prompt.getByLabel("Password").fill("not my password");
    await prompt.getByRole("button", { name: "Confirm", exact: true }).click();
    await expect(prompt.getByRole("alert")).toHaveText("That is not your current password.");
    await expect(page.getByTestId("password-changed")).toBeHidden();
    await prompt.getByLabel("Password").fill(PASSWORD);
    await prompt.getByRole("button", { name: "Confirm", exact: true }).click();
    // The change is sent again with what was typed, and goes through.
    await expect(page.getByTestId("password-changed")).toBeVisible();
    await expect(prompt).toBeHidden();
  });

  test("sign out everywhere asks for the password in its confirmation step", async ({ page }) => {
    const problems = watchConsole(page);
    await signUp(page, uniqueUser("all"));
    await page.waitForTimeout(3_500);
    await page.goto("/account/sessions");
    await hydrated(page);
    await page.getByText("Sign out everywhere", { exact: true }).click();
    await page.getByLabel("Your password, to confirm").fill(PASSWORD);
    await page.getByRole("button", { name: "Yes, sign out everywhere" }).click();
    await expect(page).toHaveURL(/\/login\?signed_out=1$/);
    expect(problems).toEqual([]);
  });

  test.describe("without JavaScript", () => {
    test.use({ javaScriptEnabled: false });

    test("the confirmation form returns to the page, which then works", async ({ page }) => {
      const user = uniqueUser("nojs");
      await page.goto("/signup");
      await page.getByLabel("User name or e-mail").fill(user);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Create account", exact: true }).click();
      await expect(page).toHaveURL(/\/dashboard$/);
      await page.waitForTimeout(3_500);
      await page.goto("/account/delete");
      await expect(page).toHaveURL(/\/account\/confirm\?next=%2Faccount%2Fdelete$/);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Continue" }).click();
      await expect(page).toHaveURL(/\/account\/delete$/);
      await page.getByLabel(/To confirm, type your user name/).fill(user);
      await page.getByRole("button", { name: "Delete my account" }).click();
      await expect(page).toHaveURL(/\/login\?deleted=1$/);
    });
  });
});
