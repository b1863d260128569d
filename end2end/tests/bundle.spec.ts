import { test, expect, type Page, type Response } from "@playwright/test";
import { signUp, uniqueUser, watchConsole, hydrated } from "./helpers";

// The bundle is split by route (app/src/routes.rs): the first load carries
// the framework, the shell and the home page; every other page is a
// WebAssembly chunk of its own, named in a preload link by the server that
// renders the page. With E2E_RELEASE set the suite runs against the release
// bundle (scripts/test.sh): hashed names, immutable caching, brotli copies.
const release = !!process.env.E2E_RELEASE;

/** The bundle's main module: the one the loader script names. */
const isMain = (url: string) => /\/pkg\/leptos-sessions(\.[\w-]+)?\.wasm$/.test(url);
/** A lazy chunk: any other WebAssembly file the page fetches. */
const isChunk = (url: string) => url.endsWith(".wasm") && !isMain(url);

/** Records the WebAssembly files `page` fetches from now on. */
function watchWasm(page: Page): Response[] {
  const seen: Response[] = [];
  page.on("response", (r) => {
    if (r.url().endsWith(".wasm")) seen.push(r);
  });
  return seen;
}

const file = (url: string) => new URL(url).pathname.split("/").pop()!;

/** The `href`s of the WebAssembly preload links in `html`. */
function preloads(html: string): string[] {
  return (html.match(/<link [^>]*>/g) ?? [])
    .filter((tag) => tag.includes('rel="preload"') && tag.includes('type="application/wasm"'))
    .map((tag) => /href="([^"]+)"/.exec(tag)?.[1] ?? "");
}

// Every lazy page (`routes::LAZY`), with its heading: the public ones
// visited signed out, then the account's, signed in (the step-up pages
// right after signing up, so no password is asked again).
const PUBLIC_PAGES: [string, string][] = [
  ["/guides", "Guides"],
  ["/guides/token-model", "token"],
  ["/status", "System status"],
  ["/login", "Sign in"],
  ["/signup", "Create an account"],
];
const ACCOUNT_PAGES: [string, string][] = [
  ["/dashboard", "Hello"],
  ["/account/sessions", "Your sessions"],
  ["/account/confirm", "Confirm it's you"],
  ["/account/passkeys", "Your passkeys"],
  ["/account/password", "Change your password"],
  ["/account/delete", "Delete your account"],
];

test("the first load of / fetches no page's chunk", async ({ page }) => {
  const problems = watchConsole(page);
  const wasm = watchWasm(page);
  await page.goto("/");
  await hydrated(page);
  await page.waitForLoadState("networkidle");
  expect(wasm.filter((r) => isMain(r.url()))).toHaveLength(1);
  expect(wasm.filter((r) => isChunk(r.url())).map((r) => file(r.url()))).toEqual([]);
  expect(problems).toEqual([]);
});

test("every lazy page hydrates from a chunk of its own, preloaded by its HTML", async ({
  page,
}) => {
  const problems = watchConsole(page);
  const chunksOf = new Map<string, Set<string>>();
  const visit = async (path: string, heading: string) => {
    const wasm = watchWasm(page);
    const response = await page.goto(path);
    const html = await response!.text();
    await hydrated(page);
    await expect(page.locator("main h1")).toContainText(new RegExp(heading, "i"));
    await page.waitForLoadState("networkidle");
    const fetched = new Set(wasm.filter((r) => isChunk(r.url())).map((r) => file(r.url())));
    expect(fetched.size, `${path} fetches its chunk`).toBeGreaterThan(0);
    // The HTML preloads what hydrating it needs: no second round trip.
    const preloaded = preloads(html);
    for (const chunk of fetched) {
      expect(preloaded, `${path} preloads ${chunk}`).toContain(`/pkg/${chunk}`);
    }
    chunksOf.set(path, fetched);
    page.removeAllListeners("response");
  };
  for (const [path, heading] of PUBLIC_PAGES) await visit(path, heading);
  await signUp(page, uniqueUser("chunks"));
  for (const [path, heading] of ACCOUNT_PAGES) await visit(path, heading);
  // Each page has a chunk that no other page loads: its own code.
  for (const [path, chunks] of chunksOf) {
    const others = new Set([...chunksOf].filter(([p]) => p !== path).flatMap(([, c]) => [...c]));
    const own = [...chunks].filter((c) => !others.has(c));
    expect(own.length, `${path} has a chunk of its own (loads ${[...chunks].join(", ")})`).toBeGreaterThan(0);
  }
  expect(problems).toEqual([]);
});

test("a client-side navigation fetches the next page's chunk and shows it", async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto("/");
  await hydrated(page);
  const wasm = watchWasm(page);
  await page.getByRole("navigation").getByRole("link", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("button", { name: "Sign in", exact: true })).toBeVisible();
  expect(wasm.filter((r) => isChunk(r.url())).length).toBeGreaterThan(0);
  expect(problems).toEqual([]);
});

test("the release bundle's chunks are hashed, immutable and served brotli-compressed", async ({
  page,
}) => {
  test.skip(!release, "the release bundle only (E2E_RELEASE)");
  await signUp(page, uniqueUser("immutable"));
  const wasm = watchWasm(page);
  await page.goto("/dashboard");
  await hydrated(page);
  await page.waitForLoadState("networkidle");
  const files = wasm.filter((r) => r.url().includes("/pkg/"));
  expect(files.filter((r) => isChunk(r.url())).length).toBeGreaterThan(0);
  for (const r of files) {
    expect(r.headers()["cache-control"], file(r.url())).toContain("immutable");
    expect(r.headers()["content-encoding"], file(r.url())).toBe("br");
    expect(file(r.url()), "a content-hashed name").toMatch(/\.[\w-]{6,}\.wasm$/);
  }
});
