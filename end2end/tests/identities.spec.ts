import { test, expect, type ConsoleMessage, type Page } from "@playwright/test";
import { PASSWORD, hydrated, seriousViolations, uniqueUser } from "./helpers";

// The app server configured with one provider, and the provider itself (a
// real one: PyPI's oidc-provider-mock, started by the Playwright config).
const port = Number(process.env.E2E_PORT ?? 3100);
const BASE = `http://localhost:${port + 10}`;
const PROVIDER = `http://127.0.0.1:${port + 14}`;

/**
 * Console errors and uncaught exceptions on this app's pages (the
 * provider's own page loads its stylesheet from a CDN this machine may not
 * reach: not ours to judge).
 */
function watchOurConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (msg: ConsoleMessage) => {
    if (msg.type() === "error" && page.url().startsWith(BASE)) problems.push(msg.text());
  });
  page.on("pageerror", (err) => {
    if (page.url().startsWith(BASE)) problems.push(err.message);
  });
  return problems;
}

/** Sets what the provider says of `sub`. */
async function providerUser(sub: string, claims: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${PROVIDER}/users/${encodeURIComponent(sub)}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(claims),
  });
  expect(res.ok).toBe(true);
}

/** Signs `sub` in on the provider's own page. */
async function atProvider(page: Page, sub: string): Promise<void> {
  await expect(page).toHaveURL(new RegExp(`^${PROVIDER}/oauth2/authorize\\?`));
  await page.getByPlaceholder("sub").fill(sub);
  await page.getByRole("button", { name: "Authorize" }).click();
}

/** Signs up with a password on the provider-enabled server. */
async function signUpHere(page: Page, user: string): Promise<void> {
  await page.goto(`${BASE}/signup`);
  await hydrated(page);
  await page.getByLabel("User name or e-mail").fill(user);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await expect(page).toHaveURL(`${BASE}/dashboard`);
}

test("Sign in with a provider makes an account; signing out and in again finds it", async ({ page }) => {
  const problems = watchOurConsole(page);
  const sub = uniqueUser("oidc");
  await providerUser(sub, { email: `${sub}@example.com`, email_verified: true, preferred_username: sub });
  await page.goto(`${BASE}/login`);
  await page.getByRole("link", { name: "Sign in with Mock ID" }).click();
  await atProvider(page, sub);
  await expect(page).toHaveURL(`${BASE}/dashboard`);
  await expect(page.getByTestId("dashboard-user")).toHaveText(sub);
  await expect(page.getByTestId("events")).toContainText("Linked a sign-in provider");
  // The provider's verified address is the account's.
  await page.goto(`${BASE}/account/email`);
  await expect(page.getByTestId("email-state")).toHaveAttribute("data-state", "verified");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.getByRole("link", { name: "Sign in with Mock ID" }).click();
  await atProvider(page, sub);
  await expect(page).toHaveURL(`${BASE}/dashboard`);
  await expect(page.getByTestId("dashboard-user")).toHaveText(sub);
  await expect(page.getByTestId("events")).toContainText("Signed in with a sign-in provider");
  expect(problems).toEqual([]);
});

test("an account links a provider, confirms with it, and unlinks it", async ({ page }) => {
  const user = uniqueUser("link");
  const sub = `${user}-at-mock`;
  await signUpHere(page, user);
  await page.getByRole("link", { name: "Sign-in providers" }).click();
  await expect(page.getByTestId("no-identities")).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  // Just signed up: recent enough to add a way in.
  await page.getByTestId("link-mock").click();
  await atProvider(page, sub);
  await expect(page).toHaveURL(`${BASE}/account/providers?linked=1`);
  await expect(page.getByTestId("identity-linked")).toBeVisible();
  await expect(page.getByTestId("identity")).toContainText("Mock ID");
  expect(await seriousViolations(page)).toEqual([]);

  // Step-up with the provider (it is asked to sign the person in again).
  await page.goto(`${BASE}/account/confirm?next=%2Faccount%2Fsessions`);
  await page.getByTestId("confirm-mock").click();
  await atProvider(page, sub);
  await expect(page).toHaveURL(`${BASE}/account/sessions`);

  // Signing in with it reaches this account.
  const other = await (await page.context().browser()!.newContext()).newPage();
  await other.goto(`${BASE}/login`);
  await other.getByRole("link", { name: "Sign in with Mock ID" }).click();
  await atProvider(other, sub);
  await expect(other.getByTestId("dashboard-user")).toHaveText(user);

  await page.goto(`${BASE}/account/providers`);
  await page.getByRole("button", { name: /^Unlink Mock ID/ }).click();
  await expect(page.getByTestId("identity-unlinked")).toBeVisible();
  await expect(page.getByTestId("no-identities")).toBeVisible();
});

test("a new identity with an account's address is not linked without the owner", async ({ page, browser }) => {
  const owner = uniqueUser("owner");
  const address = `${owner}@example.com`;
  await signUpHere(page, owner);
  // The owner confirms the address (no SMTP here: the development mailbox).
  await page.goto(`${BASE}/account/email`);
  await hydrated(page);
  await page.getByLabel(/email address/i).fill(address);
  await page.getByRole("button", { name: "Send a confirmation link" }).click();
  await expect(page.getByTestId("email-sent")).toBeVisible();
  await page.goto(`${BASE}/dev/mailbox`);
  const link = await page.locator(`a[href*="/verify-email?token="]`).first().getAttribute("href");
  await page.goto(link!);
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page.getByTestId("email-verified")).toBeVisible();

  // Someone at the provider claims that address: refused, no account.
  const stranger = await (await browser.newContext()).newPage();
  const sub = `${owner}-elsewhere`;
  await providerUser(sub, { email: address, email_verified: true });
  await stranger.goto(`${BASE}/login`);
  await stranger.getByRole("link", { name: "Sign in with Mock ID" }).click();
  await atProvider(stranger, sub);
  await expect(stranger).toHaveURL(`${BASE}/login?error=identity_address_in_use`);
  await expect(stranger.getByRole("alert")).toContainText("Sign in to it another way");
  expect(await seriousViolations(stranger)).toEqual([]);

  // The owner links it, signed in: then it signs in to the owner's account.
  await page.goto(`${BASE}/account/providers`);
  await page.getByTestId("link-mock").click();
  await atProvider(page, sub);
  await expect(page.getByTestId("identity-linked")).toBeVisible();
  await stranger.getByRole("link", { name: "Sign in with Mock ID" }).click();
  await atProvider(stranger, sub);
  await expect(stranger.getByTestId("dashboard-user")).toHaveText(owner);
});
