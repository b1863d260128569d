import { test, expect, type Page } from "@playwright/test";
import {
  ANONYMOUS_PAGES,
  PASSWORD,
  SIGNED_IN_PAGES,
  hydrated,
  signIn,
  signUp,
  uniqueUser,
  watchConsole,
} from "./helpers";

/** Collects CSP violations the page reports (console and DOM events). */
async function watchCsp(page: Page): Promise<string[]> {
  const violations: string[] = [];
  page.on("console", (msg) => {
    if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text());
  });
  await page.exposeFunction("__cspViolation", (v: string) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      (window as unknown as { __cspViolation: (v: string) => void }).__cspViolation(
        `${e.violatedDirective} ${e.blockedURI}`,
      ),
    );
  });
  return violations;
}

test("static and SSR pages hydrate under a strict CSP, with no violation", async ({ page }) => {
  const problems = watchConsole(page);
  const violations = await watchCsp(page);

  // Static page: script hashes, no nonce, no 'unsafe-inline'.
  const home = await page.goto("/");
  const homeCsp = home!.headers()["content-security-policy"];
  expect(homeCsp).toMatch(/script-src 'sha256-[^;]+ 'strict-dynamic' 'wasm-unsafe-eval';/);
  expect(homeCsp).not.toContain("unsafe-inline");
  expect(homeCsp).not.toContain("nonce-");
  await hydrated(page);
  await page.getByRole("button", { name: "Show how it works" }).click();
  await expect(page.locator("#how-it-works")).toBeVisible();

  // SSR page: a nonce, fresh per response, on every inline script.
  const first = await page.goto("/signup");
  const csp = first!.headers()["content-security-policy"];
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  expect(nonce).toBeTruthy();
  expect(await first!.text()).toContain(`nonce="${nonce}"`);
  await hydrated(page);
  const second = await page.request.get("/signup");
  expect(second.headers()["content-security-policy"]).not.toContain(nonce!);

  // Forms still work: sign up, land on the dashboard, sign out.
  const name = uniqueUser("csp");
  await page.getByLabel("User name or e-mail").fill(name);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("dashboard-user")).toHaveText(name);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);

  expect(violations).toEqual([]);
  expect(problems).toEqual([]);
});

test("a form whose CSRF token is forged is refused with a readable message", async ({
  page,
  context,
}) => {
  await page.goto("/signup");
  await hydrated(page);
  // A token this server never signed (as another site would have to guess).
  const forged = "A".repeat(22) + "." + "B".repeat(43);
  await page.evaluate(
    (value) => (document.cookie = `__Host-csrf=${value}; Path=/; Secure; SameSite=Strict`),
    forged,
  );
  expect((await context.cookies()).find((c) => c.name === "__Host-csrf")?.value).toBe(forged);
  await page.getByLabel("User name or e-mail").fill(uniqueUser("csrf"));
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("Reload the page");
  await expect(page).toHaveURL(/\/signup/);

  // A reload hands out a new token, and the same form then works.
  await page.reload();
  await hydrated(page);
  const name = uniqueUser("csrf");
  await page.getByLabel("User name or e-mail").fill(name);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
});

/** Spends `name`'s failure budget (5 a minute by default) with wrong
 * passwords from `page`'s sign-in form; returns the form's button. */
async function guessWrong(page: Page, name: string) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("User name or e-mail").fill(name);
  await page.getByLabel("Password").fill("wrong password");
  const submit = page.getByRole("button", { name: "Sign in", exact: true });
  for (let i = 0; i < 5; i++) {
    await submit.click();
    await expect(page.getByRole("alert")).toContainText("Invalid user name or password");
    await expect(submit).toBeEnabled();
  }
  return submit;
}

test("too many wrong passwords: the form says to wait", async ({ page }) => {
  const submit = await guessWrong(page, uniqueUser("brute"));
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && r.url().includes("/api/")),
    submit.click(),
  ]);
  expect(response.status()).toBe(429);
  expect(Number(response.headers()["retry-after"])).toBeGreaterThan(0);
  await expect(page.getByRole("alert")).toContainText("Too many attempts");
});

test("a stranger's wrong passwords cannot lock the owner's own browser out", async ({
  page,
  browser,
}) => {
  const name = uniqueUser("owner");
  await signUp(page, name);
  // Signing out keeps the device cookie (Clear-Site-Data spares cookies).
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);

  // A stranger, in a browser of their own, spends the account's budget.
  const strangers = await browser.newContext();
  const stranger = await strangers.newPage();
  const guess = await guessWrong(stranger, name);
  // Now even the right password is refused there...
  await stranger.getByLabel("Password").fill(PASSWORD);
  await guess.click();
  await expect(stranger.getByRole("alert")).toContainText("Too many attempts");
  await strangers.close();

  // ...but the owner's browser signs in, and the dashboard says what happened.
  await signIn(page, name);
  await expect(page.getByTestId("events")).toContainText(
    "Sign-in paused after repeated wrong passwords",
  );
});

test("forms work after arriving from a prerendered page and after signing out", async ({
  page,
}) => {
  const problems = watchConsole(page);
  // A prerendered page sets no cookie. Its links load the next page from
  // the server, which sets the CSRF cookie and fills the forms' field, so
  // no form has to fetch a token first (a slow token endpoint would show).
  let tokenFetches = 0;
  await page.route("**/api/auth/csrf", async (route) => {
    tokenFetches += 1;
    await new Promise((resolve) => setTimeout(resolve, 700));
    await route.continue();
  });
  const failed: string[] = [];
  page.on("response", (r) => {
    if (r.url().includes("/api/") && r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
  await page.goto("/about");
  await hydrated(page);
  await page.getByRole("navigation").getByRole("link", { name: "Sign up" }).click();
  await expect(page).toHaveURL(/\/signup$/);
  await hydrated(page);
  const name = uniqueUser("nav");
  await page.getByLabel("User name or e-mail").fill(name);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);

  // Signing out clears site data, cookies included; signing in again from
  // the page it lands on must still work.
  await hydrated(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await hydrated(page);
  await page.getByLabel("User name or e-mail").fill(name);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("dashboard-user")).toHaveText(name);
  expect(tokenFetches).toBe(0);
  expect(failed).toEqual([]);
  expect(problems).toEqual([]);
});

// Google's CSP Evaluator, as a library: the same checks as its web page.
const { CspEvaluator } = require("csp_evaluator/dist/evaluator.js");
const { CspParser } = require("csp_evaluator/dist/parser.js");

type Finding = { directive: string; value?: string; description: string };

test("Google's CSP Evaluator finds nothing in any page's policy", async ({ page }) => {
  await signUp(page, uniqueUser("cspeval"));
  const pages = new Set([...ANONYMOUS_PAGES, ...SIGNED_IN_PAGES]);
  const findings: string[] = [];
  for (const path of pages) {
    // The page's own request, with the signed-in session's cookies.
    const response = await page.request.get(path);
    const csp = response.headers()["content-security-policy"];
    expect(csp, path).toBeTruthy();
    const found: Finding[] = new CspEvaluator(new CspParser(csp).csp).evaluate();
    for (const f of found) findings.push(`${path}: ${f.directive} ${f.value ?? ""}: ${f.description}`);
  }
  expect(findings).toEqual([]);
});
