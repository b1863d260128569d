import { expect, type Page, type ConsoleMessage } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

export const PASSWORD = "correct horse battery";

/** A user name no other test uses. */
export function uniqueUser(prefix = "user"): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Collects console errors and uncaught exceptions for a page. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (msg: ConsoleMessage) => {
    if (msg.type() === "error") problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(err.message));
  return problems;
}


/** Signs up through the form and waits for the dashboard. */
export async function signUp(page: Page, username: string): Promise<void> {
  await page.goto("/signup");
  await hydrated(page);
  await page.getByLabel("User name or e-mail").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("dashboard-user")).toHaveText(username);
}

/** Signs in through the form and waits for the dashboard. */
export async function signIn(page: Page, username: string): Promise<void> {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("User name or e-mail").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

/** One line of the app's route table, as `server routes` prints it. */
export type Route = {
  /** The router's pattern (`/guides/:slug`). */
  pattern: string;
  /** A path that visits it. */
  path: string;
  access: "public" | "session" | "recent";
  prerendered: boolean;
};

/**
 * The route table, read from the server under test: a page added to the
 * app is in every list below without anyone adding it here.
 */
export const ROUTES: Route[] = JSON.parse(
  execFileSync(
    process.env.SERVER_BIN ??
      path.join(process.env.CARGO_TARGET_DIR ?? path.resolve(__dirname, "..", "..", "target"), "debug", "server"),
    ["routes"],
    { encoding: "utf8" },
  ),
);

/** Every page a visitor can reach signed out (and a 404). */
export const ANONYMOUS_PAGES = [...ROUTES.filter((r) => r.access === "public").map((r) => r.path), "/nope"];
/** Every page of a signed-in account (and the home page, signed in). */
export const SIGNED_IN_PAGES = ["/", ...ROUTES.filter((r) => r.access !== "public").map((r) => r.path)];

/** Counts `page`'s requests for a new access token from now on. */
export function countRefreshes(page: Page): () => number {
  let refreshes = 0;
  page.on("request", (r) => {
    if (r.url().endsWith("/api/auth/refresh")) refreshes += 1;
  });
  return () => refreshes;
}

/** Waits until the WASM app has hydrated the current page. */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

/**
 * Cards whose content does not sit on their padding: a first child's top
 * margin or a last child's bottom margin adds a gap inside the card that
 * the other cards do not have (a heading pushed down from the card's top).
 */
export async function looseCards(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    // An island's wrappers (`display: contents`) have no box: their
    // children are the card's content.
    const flat = (el: Element): Element[] =>
      getComputedStyle(el).display === "contents" ? [...el.children].flatMap(flat) : [el];
    for (const card of document.querySelectorAll<HTMLElement>(".card")) {
      const shown = [...card.children].flatMap(flat).filter(
        (c) => c.getClientRects().length > 0 && getComputedStyle(c).position !== "absolute",
      );
      if (shown.length === 0) continue;
      const style = getComputedStyle(card);
      const box = card.getBoundingClientRect();
      const top = box.top + parseFloat(style.borderTopWidth) + parseFloat(style.paddingTop);
      const bottom = box.bottom - parseFloat(style.borderBottomWidth) - parseFloat(style.paddingBottom);
      const above = shown[0].getBoundingClientRect().top - top;
      const below = bottom - shown[shown.length - 1].getBoundingClientRect().bottom;
      const name = card.querySelector("h1, h2")?.textContent?.trim() || card.className;
      if (above > 1) found.push(`"${name}": ${Math.round(above)} px above its first line`);
      if (below > 1) found.push(`"${name}": ${Math.round(below)} px below its last line`);
    }
    return found;
  });
}

/** Where the suite saves the README's screenshots. */
export const SCREENSHOTS = path.resolve(__dirname, "..", "..", "docs", "screenshots");

// axe-core is injected through the DevTools protocol: the page's own CSP
// (which refuses inline scripts) stays on for everything else.
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

type Violation = { id: string; impact: string | null; help: string; nodes: unknown[] };

/** axe-core's serious and critical findings on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations: Violation[] = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document) => Promise<{ violations: Violation[] }> } }).axe;
    return (await axe.run(document)).violations;
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} ×${v.nodes.length}`);
}

/** The SMTP server the suite's first server sends to (maildev), and its API. */
export const MAILDEV_API = `http://127.0.0.1:${Number(process.env.E2E_PORT ?? 3100) + 12}`;

/** A mailbox no other test uses. */
export function uniqueAddress(prefix = "mail"): string {
  return `${uniqueUser(prefix)}@example.com`.toLowerCase();
}

type ReceivedMail = { subject: string; text: string; html: string; to: { address: string }[] };

/** The messages the SMTP server has received for `address` so far, oldest first. */
async function receivedBy(address: string): Promise<ReceivedMail[]> {
  const response = await fetch(`${MAILDEV_API}/api/email`);
  const all = (await response.json()) as ReceivedMail[];
  return all.filter((m) => m.to.some((t) => t.address.toLowerCase() === address.toLowerCase()));
}

/**
 * The messages the SMTP server received for `address`, oldest first,
 * once there are at least `count` (the app sends from its outbox a moment
 * after the request that queued the mail).
 */
export async function mailTo(address: string, count = 1, timeout = 15_000): Promise<ReceivedMail[]> {
  let mine: ReceivedMail[] = [];
  await expect
    .poll(
      async () => {
        mine = await receivedBy(address);
        return mine.length;
      },
      { message: `mail to ${address}`, timeout },
    )
    .toBeGreaterThanOrEqual(count);
  return mine;
}

/**
 * The oldest message to `address` whose subject contains `subject`, once
 * it has arrived. Waiting for a count instead races with the other mail
 * the address gets meanwhile (a sign-in elsewhere sends a notice).
 */
export async function mailAbout(address: string, subject: string, timeout = 15_000): Promise<ReceivedMail> {
  let found: ReceivedMail | undefined;
  await expect
    .poll(
      async () => {
        found = (await receivedBy(address)).find((m) => m.subject.includes(subject));
        return found !== undefined;
      },
      { message: `mail about "${subject}" to ${address}`, timeout },
    )
    .toBe(true);
  return found!;
}

/** The first link to this site in a message's plain text. */
export function linkIn(mail: { text: string }): string {
  const link = mail.text.match(/https?:\/\/\S+/)?.[0];
  expect(link, `a link in: ${mail.text}`).toBeTruthy();
  return link as string;
}
