import { test, expect, type Page } from "@playwright/test";
import {
  hydrated,
  linkIn,
  mailAbout,
  mailTo,
  seriousViolations,
  signUp,
  uniqueAddress,
  uniqueUser,
  watchConsole,
} from "./helpers";

/** The server that sends no mail: it keeps it for `/dev/mailbox`. */
const noSmtp = `http://localhost:${Number(process.env.E2E_PORT ?? 3100) + 8}`;

async function setAddress(page: Page, address: string): Promise<void> {
  await page.getByLabel(/email address/i).fill(address);
  await page.getByRole("button", { name: "Send a confirmation link" }).click();
  await expect(page.getByTestId("email-sent")).toBeVisible();
}

test("an address is confirmed from the link mailed to it, once, on any device", async ({ page, browser }) => {
  const problems = watchConsole(page);
  await signUp(page, uniqueUser("mail"));
  const address = uniqueAddress("Ada");
  // Reached from the dashboard, as a person would.
  await page.getByRole("link", { name: "Email address" }).click();
  await expect(page).toHaveURL(/\/account\/email$/);
  await hydrated(page);
  await expect(page.getByTestId("email-state")).toHaveAttribute("data-state", "none");
  await setAddress(page, address);
  await expect(page.getByTestId("email-state")).toHaveAttribute("data-state", "unverified");
  await expect(page.getByTestId("email-state")).toContainText(address);

  const [mail] = await mailTo(address);
  expect(mail.subject).toContain("Confirm your email address");
  const link = linkIn(mail);
  expect(mail.html).toContain("Confirm your email address</a>");

  // Opened on another device, signed out: the page asks, a GET changes nothing.
  const phone = await (await browser.newContext()).newPage();
  await phone.goto(link);
  await hydrated(phone);
  await page.reload();
  await expect(page.getByTestId("email-state")).toHaveAttribute("data-state", "unverified");
  expect(await seriousViolations(phone)).toEqual([]);
  await phone.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(phone.getByTestId("email-verified")).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("email-state")).toHaveAttribute("data-state", "verified");

  // Once only.
  await phone.goto(link);
  await phone.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(phone.getByTestId("form-error")).toContainText("expired or has been used");
  await page.goto("/dashboard");
  await expect(page.getByTestId("events")).toContainText("Confirmed the email address");
  expect(problems).toEqual([]);
});

test("sending the link again waits a minute, and the first link still works", async ({ page }) => {
  await signUp(page, uniqueUser("resend"));
  const address = uniqueAddress("resend");
  await page.goto("/account/email");
  await hydrated(page);
  await setAddress(page, address);
  const [first] = await mailTo(address);
  // At most one message a minute: the second is refused with a reason.
  await page.getByRole("button", { name: "Send the link again" }).click();
  await expect(page.getByTestId("form-error").filter({ hasText: "moments ago" })).toBeVisible();
  await expect(mailTo(address, 2, 2_000)).rejects.toThrow();
  await page.goto(linkIn(first));
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page.getByTestId("email-verified")).toBeVisible();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("setting and confirming an address are plain form posts", async ({ page }) => {
    const user = uniqueUser("nojs-mail");
    await page.goto("/signup");
    await page.getByLabel("User name or e-mail").fill(user);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account", exact: true }).click();
    await expect(page).toHaveURL(/\/dashboard$/);
    const address = uniqueAddress("nojs");
    await page.goto("/account/email");
    // The browser's own check lets it through; the server's does not.
    await page.getByLabel(/email address/i).fill("ada@localhost");
    await page.getByRole("button", { name: "Send a confirmation link" }).click();
    await expect(page).toHaveURL(/error=invalid_email/);
    await expect(page.getByTestId("form-error")).toContainText("name@example.com");
    await setAddress(page, address);
    const [mail] = await mailTo(address);
    await page.goto(linkIn(mail));
    await page.getByRole("button", { name: "Confirm my email address" }).click();
    await expect(page.getByTestId("email-verified")).toBeVisible();
    await page.goto(linkIn(mail));
    await page.getByRole("button", { name: "Confirm my email address" }).click();
    await expect(page.getByTestId("verify-error")).toContainText("expired or has been used");
    await page.goto("/account/email");
    await expect(page.getByTestId("email-state")).toHaveAttribute("data-state", "verified");
  });
});

test("with no SMTP server, development mail waits in /dev/mailbox with its link", async ({ page }) => {
  await page.goto(`${noSmtp}/signup`);
  await hydrated(page);
  await page.getByLabel("User name or e-mail").fill(uniqueUser("devmail"));
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  const address = uniqueAddress("dev");
  await page.goto(`${noSmtp}/account/email`);
  await hydrated(page);
  await setAddress(page, address);
  await page.goto(`${noSmtp}/dev/mailbox`);
  const mail = page.getByTestId("mail").filter({ hasText: address });
  await expect(mail).toContainText("not sent");
  expect(await seriousViolations(page)).toEqual([]);
  await mail.getByRole("link").first().click();
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page.getByTestId("email-verified")).toBeVisible();
});

test("a change is confirmed from the new address, and the old one can undo it", async ({ page, browser }) => {
  await signUp(page, uniqueUser("change"));
  const [old, fresh] = [uniqueAddress("old"), uniqueAddress("new")];
  await page.goto("/account/email");
  await hydrated(page);
  await setAddress(page, old);
  await page.goto(linkIn((await mailTo(old))[0]));
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page.getByTestId("email-verified")).toBeVisible();

  await page.goto("/account/email");
  await hydrated(page);
  await setAddress(page, fresh);
  // The confirmed address stays until the new one is confirmed.
  await expect(page.getByTestId("email-state")).toHaveAttribute("data-state", "verified");
  await expect(page.getByTestId("email-state")).toContainText(old);
  await expect(page.getByTestId("email-pending")).toContainText(fresh);
  await page.goto(linkIn((await mailTo(fresh))[0]));
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page.getByTestId("email-verified")).toBeVisible();
  await page.goto("/account/email");
  await expect(page.getByTestId("email-state")).toContainText(fresh);

  // The old address is told, and takes the account back: every device out.
  const told = await mailAbout(old, "was changed");
  expect(told.text).toContain(fresh);
  const owner = await (await browser.newContext()).newPage();
  await owner.goto(linkIn(told));
  await hydrated(owner);
  expect(await seriousViolations(owner)).toEqual([]);
  await owner.getByRole("button", { name: "Put my address back and sign everyone out" }).click();
  await expect(owner.getByTestId("email-reverted")).toBeVisible();
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/login/);
});

test("the code in the message confirms the address on the account's page", async ({ page }) => {
  await signUp(page, uniqueUser("code"));
  const address = uniqueAddress("code");
  await page.goto("/account/email");
  await hydrated(page);
  await setAddress(page, address);
  const [mail] = await mailTo(address);
  const code = mail.text.match(/email page: (\d{6})/)?.[1];
  expect(code, mail.text).toBeTruthy();
  await page.getByLabel("Code from the message").fill(code!);
  await page.getByRole("button", { name: "Confirm with the code" }).click();
  await expect(page.getByTestId("email-confirmed")).toBeVisible();
  await expect(page.getByTestId("email-state")).toHaveAttribute("data-state", "verified");
});
