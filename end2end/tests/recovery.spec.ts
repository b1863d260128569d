import { test, expect, type Page } from "@playwright/test";
import {
  PASSWORD,
  hydrated,
  linkIn,
  mailAbout,
  mailTo,
  seriousViolations,
  signIn,
  signUp,
  uniqueAddress,
  uniqueUser,
  watchConsole,
} from "./helpers";

const NEW_PASSWORD = "quiet cedar meadow";

/** Signs `user` up in `page` with `address` confirmed from its mail. */
async function accountWithAddress(page: Page, user: string, address: string): Promise<void> {
  await signUp(page, user);
  await page.goto("/account/email");
  await hydrated(page);
  await page.getByLabel(/email address/i).fill(address);
  await page.getByRole("button", { name: "Send a confirmation link" }).click();
  await expect(page.getByTestId("email-sent")).toBeVisible();
  const [mail] = await mailTo(address);
  await page.goto(linkIn(mail));
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page.getByTestId("email-verified")).toBeVisible();
}

test("a forgotten password is reset from the mailed link, and every other device is signed out", async ({
  page,
  browser,
}) => {
  const user = uniqueUser("reset");
  const address = uniqueAddress("reset");
  await accountWithAddress(page, user, address);
  const laptop = await (await browser.newContext()).newPage();
  await signIn(laptop, user);

  const forgetful = await (await browser.newContext()).newPage();
  const problems = watchConsole(forgetful);
  await forgetful.goto("/login");
  await hydrated(forgetful);
  await forgetful.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(forgetful).toHaveURL(/\/forgot-password$/);
  await hydrated(forgetful);
  expect(await seriousViolations(forgetful)).toEqual([]);
  await forgetful.getByLabel("Email address").fill(address.toUpperCase());
  await forgetful.getByRole("button", { name: "Send me a link" }).click();
  await expect(forgetful.getByTestId("reset-requested")).toContainText("If an account has confirmed this address");

  const reset = await mailAbout(address, "Reset your password");
  await forgetful.goto(linkIn(reset));
  await hydrated(forgetful);
  expect(await seriousViolations(forgetful)).toEqual([]);
  await forgetful.getByLabel("New password").fill("password1");
  await forgetful.getByRole("button", { name: "Set the new password" }).click();
  await expect(forgetful.getByTestId("form-error")).toContainText("easy to guess");
  await forgetful.getByLabel("New password").fill(NEW_PASSWORD);
  await forgetful.getByRole("button", { name: "Set the new password" }).click();
  await expect(forgetful).toHaveURL(/\/dashboard\?reset=1$/);
  await expect(forgetful.getByTestId("password-reset")).toBeVisible();
  await expect(forgetful.getByTestId("dashboard-user")).toHaveText(user);
  await expect(forgetful.getByTestId("notices")).toContainText("reset from a link mailed");
  // The owner is told by mail too: the laptop's sign-in, then the reset.
  const told = (await mailTo(address, 4)).map((m) => m.subject);
  expect(told).toEqual(
    expect.arrayContaining([
      expect.stringContaining("New sign-in to your account"),
      expect.stringContaining("Your password was reset"),
    ]),
  );

  // Every other device is out; the old password is gone.
  for (const other of [page, laptop]) {
    await other.goto("/dashboard");
    await expect(other).toHaveURL(/\/login/);
  }
  await laptop.getByLabel("User name or e-mail").fill(user);
  await laptop.getByLabel("Password").fill(PASSWORD);
  await laptop.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(laptop.getByTestId("form-error")).toHaveText("Invalid user name or password.");
  // The refused weak password is the only failed request.
  expect(problems.filter((p) => !/status of 400/.test(p))).toEqual([]);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("an address given at sign-up, a reset and a sign-in by code, as plain form posts", async ({ page, browser }) => {
    const user = uniqueUser("nojs-rec");
    const address = uniqueAddress("nojs-rec");
    await page.goto("/signup");
    await page.getByLabel("User name or e-mail").fill(user);
    await page.getByLabel(/Email address/).fill(address);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account", exact: true }).click();
    await expect(page).toHaveURL(/\/dashboard$/);
    await page.goto(linkIn((await mailTo(address))[0]));
    await page.getByRole("button", { name: "Confirm my email address" }).click();
    await expect(page.getByTestId("email-verified")).toBeVisible();

    // A reset, in a browser without JavaScript.
    const other = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
    await other.goto("/forgot-password");
    await other.getByLabel("Email address").fill(address);
    await other.getByRole("button", { name: "Send me a link" }).click();
    await expect(other.getByTestId("reset-requested")).toBeVisible();
    const reset = await mailAbout(address, "Reset your password");
    await other.goto(linkIn(reset));
    await other.getByLabel("New password").fill(NEW_PASSWORD);
    await other.getByRole("button", { name: "Set the new password" }).click();
    await expect(other).toHaveURL(/\/dashboard\?reset=1$/);
    await expect(other.getByTestId("dashboard-user")).toHaveText(user);

    // A sign-in by code, in another.
    const third = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
    await third.goto("/login/email");
    await third.getByLabel("Email address").fill(address);
    await third.getByRole("button", { name: "Email me a code" }).click();
    await expect(third.getByTestId("sign-in-link-sent")).toBeVisible();
    const message = await mailAbout(address, "sign-in code");
    await third.getByLabel("Code from the message").fill("000000" === message.subject.split(" ").pop() ? "111111" : "000000");
    await third.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(third).toHaveURL(/error=link_rejected/);
    await third.getByLabel("Code from the message").fill(message.subject.split(" ").pop()!);
    await third.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(third).toHaveURL(/\/dashboard$/);
    await expect(third.getByTestId("dashboard-user")).toHaveText(user);
  });

  test("asking for a link answers the same for an address no account has", async ({ page }) => {
    await page.goto("/forgot-password");
    await page.getByLabel("Email address").fill(uniqueAddress("nobody"));
    await page.getByRole("button", { name: "Send me a link" }).click();
    await expect(page).toHaveURL(/\/forgot-password\?sent=1$/);
    await expect(page.getByTestId("reset-requested")).toContainText("If an account has confirmed this address");
    // A link that does not work says so, and offers a new one.
    await page.goto(`/reset-password?token=${"A".repeat(43)}`);
    await page.getByLabel("New password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Set the new password" }).click();
    await expect(page).toHaveURL(/error=link_rejected/);
    await expect(page.getByTestId("form-error")).toContainText("expired or has been used");
  });
});

test("signing in with a code or a link sent by email, in the browser that asked", async ({ page, browser }) => {
  // Two accounts, four browsers and four messages.
  test.setTimeout(90_000);
  const user = uniqueUser("mailin");
  const address = uniqueAddress("mailin");
  await accountWithAddress(page, user, address);

  // By code.
  const asker = await (await browser.newContext()).newPage();
  const problems = watchConsole(asker);
  await asker.goto("/login");
  await hydrated(asker);
  await asker.getByRole("link", { name: "Email me a sign-in code" }).click();
  await expect(asker).toHaveURL(/\/login\/email$/);
  await hydrated(asker);
  expect(await seriousViolations(asker)).toEqual([]);
  await asker.getByLabel("Email address").fill(address);
  await asker.getByRole("button", { name: "Email me a code" }).click();
  await expect(asker.getByTestId("sign-in-link-sent")).toBeVisible();
  const first = await mailAbout(address, "sign-in code");
  const code = first.subject.split(" ").pop()!;
  await asker.getByLabel("Code from the message").fill(code);
  await asker.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(asker).toHaveURL(/\/dashboard$/);
  await expect(asker.getByTestId("dashboard-user")).toHaveText(user);
  expect(problems).toEqual([]);

  // By link (another account: one sign-in message a minute per address):
  // the link works in the browser that asked, not elsewhere.
  const other = uniqueUser("mailin");
  const otherAddress = uniqueAddress("mailin");
  await accountWithAddress(await (await browser.newContext()).newPage(), other, otherAddress);
  const laptop = await (await browser.newContext()).newPage();
  await laptop.goto("/login/email");
  await hydrated(laptop);
  await laptop.getByLabel("Email address").fill(otherAddress);
  await laptop.getByRole("button", { name: "Email me a code" }).click();
  await expect(laptop.getByTestId("sign-in-link-sent")).toBeVisible();
  const messages = await mailTo(otherAddress, 2);
  const link = linkIn(messages.find((m) => m.subject.includes("sign-in code"))!);
  const phone = await (await browser.newContext()).newPage();
  await phone.goto(link);
  await hydrated(phone);
  await phone.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(phone.getByTestId("form-error")).toContainText("only in the browser where you asked");
  await laptop.goto(link);
  await hydrated(laptop);
  await laptop.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(laptop).toHaveURL(/\/dashboard$/);
  await expect(laptop.getByTestId("dashboard-user")).toHaveText(other);
});
