import { test, expect, type Page, type Response } from "@playwright/test";
import { ROUTES, signUp, uniqueUser, watchConsole, hydrated } from "./helpers";

// Islands (app/src/components): the server renders every page, and only the
// interactive parts ship WebAssembly. The main module holds the islands
// every page may have (the header, the idle prompt, the home page's
// session panel); a lazy island (the forms that answer in place, the
// passkey buttons, the dashboard's live facts) is a chunk of its own, which
// the server that renders it preloads with links at the island's end, each
// chunk once per page. With E2E_RELEASE set
// the suite runs against the release bundle (scripts/test.sh): hashed
// names, immutable caching, brotli copies.
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

/** The WebAssembly files `html` preloads: its preload links' `href`s
 * (the main module's in `<head>`, the lazy islands' chunks in the body). */
function preloads(html: string): string[] {
  return (html.match(/<link [^>]*>/g) ?? [])
    .filter((tag) => tag.includes('rel="preload"') && tag.includes('type="application/wasm"'))
    .map((tag) => /href="([^"]+)"/.exec(tag)?.[1] ?? "");
}

/** The function names of a WebAssembly module's `name` section (its
 * subsection 1), or `null` if it has none: the release bundle's are
 * stripped. */
function functionNames(module: Buffer): string[] | null {
  let at = 8; // magic and version
  const leb = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = module[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const text = (length: number) => module.toString("utf8", at, (at += length));
  while (at < module.length) {
    const id = module[at++];
    const end = leb() + at;
    if (id === 0 && text(leb()) === "name") {
      while (at < end) {
        const sub = module[at++];
        const subEnd = leb() + at;
        if (sub === 1) {
          const names: string[] = [];
          for (let count = leb(); count > 0; count--) {
            leb(); // the function's index
            names.push(text(leb()));
          }
          return names;
        }
        at = subEnd;
      }
    }
    at = end;
  }
  return null;
}

/** The page's own sentences: text outside every island, or in an island's
 * children (which the server renders, like the rest of the page), long
 * enough to be prose rather than a word an island could also say. */
async function pageProse(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll("main p, main li, main h1, main h2, main dt")]
      .filter((el) => !el.closest("leptos-island") || el.closest("leptos-children"))
      .map((el) => (el.textContent ?? "").trim())
      .filter((text) => text.length >= 30 && !text.includes("\n")),
  );
}

test("the first load of / fetches the main module and no chunk", async ({ page }) => {
  const problems = watchConsole(page);
  const wasm = watchWasm(page);
  await page.goto("/");
  await hydrated(page);
  await page.waitForLoadState("networkidle");
  expect(wasm.filter((r) => isMain(r.url()))).toHaveLength(1);
  expect(wasm.filter((r) => isChunk(r.url())).map((r) => file(r.url()))).toEqual([]);
  expect(problems).toEqual([]);
});

test("every page hydrates its islands with the chunks its HTML preloads, and ships none of its own text", async ({
  page,
  request,
}) => {
  test.setTimeout(90_000);
  const problems = watchConsole(page);
  const prose = new Map<string, string[]>();
  // Every WebAssembly file any page preloads: the main module and the
  // chunks of every lazy island.
  const shipped = new Set<string>();
  const visit = async (path: string) => {
    const wasm = watchWasm(page);
    const response = await page.goto(path);
    const html = await response!.text();
    await hydrated(page);
    await page.waitForLoadState("networkidle");
    // No island takes props: Leptos would decode them with serde_json,
    // whose parser would then be part of that page's load.
    expect(html, `${path}: an island with props`).not.toContain("data-props");
    // The HTML preloads what hydrating it needs: no second round trip.
    const preloaded = preloads(html);
    preloaded.forEach((href) => shipped.add(new URL(href, page.url()).href));
    for (const chunk of wasm.filter((r) => isChunk(r.url())).map((r) => file(r.url()))) {
      expect(preloaded, `${path} preloads ${chunk}`).toContain(`/pkg/${chunk}`);
    }
    prose.set(path, await pageProse(page));
    page.removeAllListeners("response");
  };
  // Every page of the route table: the public ones signed out, then the
  // account's signed in (the step-up pages right after signing up, so no
  // password is asked again).
  for (const route of ROUTES.filter((r) => r.access === "public")) await visit(route.path);
  await signUp(page, uniqueUser("chunks"));
  for (const route of ROUTES.filter((r) => r.access !== "public")) await visit(route.path);

  // Pages are server-side only: the WebAssembly (every file the site
  // serves) carries none of their text.
  expect([...shipped].filter(isMain)).toHaveLength(1);
  const bundle = (await Promise.all([...shipped].map(async (url) => (await request.get(url)).body())))
    .map((bytes) => bytes.toString("latin1"))
    .join("\n");
  expect(bundle.length).toBeGreaterThan(10_000);
  // The islands' own words are there: the search reads the real bytes.
  expect(bundle.includes("Still there?"), "the idle prompt's title is in the bundle").toBe(true);
  expect([...prose.values()].flat().length, "the pages' own text").toBeGreaterThan(10);
  for (const [path, sentences] of prose) {
    for (const sentence of sentences) {
      expect(bundle.includes(sentence), `${path}: "${sentence}" is in the bundle`).toBe(false);
    }
  }
  expect(problems).toEqual([]);
});

test("the main module has no JSON deserialiser: the eager islands read through the browser's JSON", async ({
  page,
}) => {
  // Leptos decodes an island's props with serde_json, so an eager island
  // with props (or a record read with serde) puts its parser, and the
  // float printing of its error messages, on every page (app/src/record.rs).
  test.skip(release, "the release bundle strips the names this reads");
  const wasm = watchWasm(page);
  await page.goto("/");
  await hydrated(page);
  const main = wasm.find((r) => isMain(r.url()));
  const names = functionNames(await main!.body());
  expect(names, "a debug build names its functions").not.toBeNull();
  expect(names!.length).toBeGreaterThan(1000);
  expect(names!.filter((name) => name.includes("serde_json"))).toEqual([]);
});

test("a dashboard without notices loads no JSON deserialiser: its live facts take no props", async ({ page }) => {
  // The dashboard's only island (the session's live facts) reads its
  // numbers from the list's attributes; props would bring serde_json's
  // chunk to every signed-in visit (app/src/components/session_facts.rs).
  test.skip(release, "the release bundle strips the names this reads");
  const problems = watchConsole(page);
  await signUp(page, uniqueUser("facts"));
  const wasm = watchWasm(page);
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("notices")).toHaveCount(0);
  // Hydrated from the attributes: the list counts on its own.
  const facts = page.getByTestId("session-facts");
  await expect(facts).toHaveAttribute("data-session-times", /^seen=\d+, idle=\d+, absolute=\d+, warn=0, now=\d+$/);
  const idle = page.getByTestId("idle-countdown");
  const before = await idle.textContent();
  await expect(idle).not.toHaveText(before ?? "", { timeout: 3_000 });
  await page.waitForLoadState("networkidle");
  expect(wasm.filter((r) => isChunk(r.url())).length, "the facts' chunk").toBeGreaterThan(0);
  for (const module of wasm) {
    const names = functionNames(await module.body());
    expect(names, `${file(module.url())} names its functions`).not.toBeNull();
    expect(names!.filter((name) => name.includes("serde_json")), file(module.url())).toEqual([]);
  }
  expect(problems).toEqual([]);
});

test("the forms' pages load no JSON deserialiser: their islands take no props", async ({ page }) => {
  // The in-place form reads its options from its form's attributes, the
  // passkey ceremonies send and read the browser's own JSON
  // (app/src/components/in_place_form.rs, passkey.rs).
  test.skip(release, "the release bundle strips the names this reads");
  const problems = watchConsole(page);
  for (const path of ["/login", "/signup"]) {
    const wasm = watchWasm(page);
    await page.goto(path);
    await hydrated(page);
    await page.waitForLoadState("networkidle");
    expect(wasm.filter((r) => isChunk(r.url())).length, `${path} loads its islands' chunks`).toBeGreaterThan(0);
    for (const module of wasm) {
      const names = functionNames(await module.body());
      expect(names, `${file(module.url())} names its functions`).not.toBeNull();
      expect(names!.filter((name) => name.includes("serde_json")), `${path}: ${file(module.url())}`).toEqual([]);
    }
    page.removeAllListeners("response");
  }
  expect(problems).toEqual([]);
});

test("a page with a lazy island fetches its chunk, preloaded", async ({ page }) => {
  const problems = watchConsole(page);
  const wasm = watchWasm(page);
  const response = await page.goto("/login");
  const html = await response!.text();
  await hydrated(page);
  await page.waitForLoadState("networkidle");
  const chunks = wasm.filter((r) => isChunk(r.url())).map((r) => file(r.url()));
  expect(chunks.length).toBeGreaterThan(0);
  // The page's two lazy islands (the form, the passkey button) share
  // chunks: the HTML names each once, and the chunk loader's fetch found
  // the preload: one download per chunk.
  const preloaded = preloads(html);
  expect(new Set(preloaded).size, "each preloaded once").toBe(preloaded.length);
  for (const chunk of chunks) expect(preloaded).toContain(`/pkg/${chunk}`);
  const linked = await page.evaluate(() =>
    [...document.querySelectorAll('link[rel="preload"][type="application/wasm"]')].map(
      (link) => new URL((link as HTMLLinkElement).href).pathname,
    ),
  );
  expect(linked.sort()).toEqual(preloaded.map((href) => new URL(href, "http://x").pathname).sort());
  expect(chunks.length, "each fetched once").toBe(new Set(chunks).size);
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
