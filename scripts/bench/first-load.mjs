#!/usr/bin/env node
// The first-load benchmark's driver; run it through `scripts/first-load.sh`,
// which builds the release site first. See BENCHMARKS.md.
//
// What a person waits for, in Chromium, on the release build: for `/`,
// `/login` and `/dashboard` (signed in), the JS + WASM + CSS bytes
// transferred before the page is interactive (as served: brotli) and the
// time to hydrated; on `/` signed in, the time until the header shows the
// user; and Lighthouse (mobile preset) on `/`, `/login` and, with the
// signed-up browser's cookies, `/dashboard` (the example's `/settings`). Every page
// load is a fresh browser context, so nothing comes from the cache.
//
// With `--example BIN --example-site DIR` it measures Leptos'
// `projects/session_auth_axum` example the same way, in the same run
// (`/`, `/login`, and `/settings` signed in).
//
//   node scripts/bench/first-load.mjs --server BIN --site DIR
//        [--runs 5] [--lighthouse CLI.js] [--example BIN --example-site DIR]

import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

import { PASSWORD, startExample, startServer, stopServer } from "./common.mjs";

const opts = parseArgs(process.argv.slice(2));
const RUNS = Number(opts.runs ?? 5);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const require = createRequire(new URL("../../end2end/package.json", import.meta.url));
const { chromium } = require("@playwright/test");

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, "")] = argv[i + 1];
  for (const required of ["server", "site"]) {
    if (!out[required]) {
      console.error(`missing --${required}; run scripts/first-load.sh instead`);
      process.exit(2);
    }
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

/**
 * Records, in the page, when it became interactive: when the app marks the
 * document `data-hydrated` (this app), or else (a page without the marker)
 * the first task after the WebAssembly instance is ready, which is after a
 * synchronous `hydrate()` in the same promise chain has returned. Also when
 * the element `userSelector` first has text.
 */
function probe({ marker, userSelector }) {
  const t = (window.__firstLoad = { hydrated: null, user: null });
  const mark = () => {
    if (t.hydrated === null) t.hydrated = performance.now();
  };
  if (marker) {
    // The init script runs before `<html>` exists: watch the document.
    new MutationObserver(() => {
      if (document.documentElement?.hasAttribute("data-hydrated")) mark();
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
  } else {
    for (const name of ["instantiateStreaming", "instantiate"]) {
      const original = WebAssembly[name];
      WebAssembly[name] = function (...args) {
        const result = original.apply(this, args);
        result.then(() => setTimeout(mark, 0));
        return result;
      };
    }
  }
  if (userSelector) {
    const seen = () => {
      const el = document.querySelector(userSelector);
      if (t.user === null && el && el.textContent.trim()) t.user = performance.now();
    };
    document.addEventListener("DOMContentLoaded", () => {
      seen();
      new MutationObserver(seen).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
  }
}

/**
 * One cold load of `url`: bytes before interactive, time to hydrated, time
 * to the user shown. In a fresh context with `storageState`, or in
 * `context` (the signed-in browser itself) with its HTTP cache cleared.
 */
async function coldLoad(browser, site, url, storageState, userSelector, context = null) {
  const own = context === null;
  if (own) context = await browser.newContext({ storageState });
  const page = await context.newPage();
  if (!own) {
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.clearBrowserCache");
  }
  await page.addInitScript(probe, { marker: site.marker, userSelector });
  const requests = [];
  let interactive = false;
  page.on("request", (request) => requests.push({ request, early: !interactive }));
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => window.__firstLoad.hydrated !== null, null, { timeout: 30_000 });
  interactive = true;
  if (userSelector) {
    await page.waitForFunction(() => window.__firstLoad.user !== null, null, { timeout: 30_000 });
  }
  const times = await page.evaluate(() => window.__firstLoad);
  await page.waitForLoadState("networkidle");
  const bytes = { js: 0, wasm: 0, css: 0 };
  const files = [];
  for (const { request, early } of requests) {
    const kind = /\.(js|wasm|css)(\?|$)/.exec(new URL(request.url()).pathname)?.[1];
    const response = await request.response();
    if (!kind || !response || !early) continue;
    const sizes = await request.sizes();
    bytes[kind] += sizes.responseBodySize;
    files.push(`${path.basename(new URL(request.url()).pathname)} ${sizes.responseBodySize} B (${response.headers()["content-encoding"] ?? "identity"})`);
  }
  await (own ? context.close() : page.close());
  return { bytes, files, hydrated: times.hydrated, user: times.user };
}

/**
 * Signs up through `site`'s own form in a browser: that browser's context
 * (its device key stays in its IndexedDB), and its cookies.
 */
async function signedIn(browser, site) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await site.signUp(page, `firstload${Date.now().toString(36)}`);
  await page.close();
  return { context, state: await context.storageState() };
}

async function measure(site) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    const { context, state } = await signedIn(browser, site);
    const pages = {};
    for (const { path: p, signedIn: auth } of site.pages) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(await coldLoad(browser, site, site.base + p, auth ? state : undefined));
      const bytes = runs[0].bytes;
      pages[p] = {
        signedIn: auth,
        bytes,
        total: bytes.js + bytes.wasm + bytes.css,
        files: runs[0].files,
        hydrated: median(runs.map((r) => r.hydrated)),
      };
      console.log(`${site.name} ${p}: ${pages[p].total} B, hydrated in ${pages[p].hydrated.toFixed(0)} ms`);
    }
    // In the browser that signed up (the refresh token is bound to its
    // device key), cache cleared and the stored snapshot of the session
    // removed, so the header waits for hydration and a refresh (with the
    // snapshot it shows the name sooner, from storage).
    const user = [];
    for (let i = 0; site.userSelector && i < RUNS; i++) {
      const blank = await context.newPage();
      await blank.goto(`${site.base}/healthz`);
      await blank.evaluate(() => localStorage.clear());
      await blank.close();
      user.push((await coldLoad(browser, site, `${site.base}/`, undefined, site.userSelector, context)).user);
    }
    const header = site.userSelector ? median(user) : null;
    if (header !== null) console.log(`${site.name} /, signed in: header shows the user at ${header.toFixed(0)} ms`);
    const cookie = state.cookies.map((c) => `${c.name}=${c.value}`).join("; ");
    return { pages, header, cookie };
  } finally {
    await browser.close();
  }
}

/**
 * Lighthouse's four scores (0-100) for `url`, mobile preset (its default);
 * with `cookie`, its browser sends that `Cookie` header (a signed-in page).
 */
function lighthouse(url, cookie) {
  if (!opts.lighthouse) return null;
  const out = execFileSync(
    process.execPath,
    [
      opts.lighthouse,
      url,
      "--output=json",
      "--quiet",
      "--only-categories=performance,accessibility,best-practices,seo",
      `--chrome-path=${CHROMIUM}`,
      "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
      ...(cookie ? [`--extra-headers=${JSON.stringify({ Cookie: cookie })}`] : []),
    ],
    { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, CHROME_PATH: CHROMIUM } },
  );
  const report = JSON.parse(out.toString());
  const score = (id) => Math.round((report.categories[id]?.score ?? 0) * 100);
  const failed = Object.values(report.audits)
    .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode === "binary")
    .map((a) => a.id);
  return {
    performance: score("performance"),
    accessibility: score("accessibility"),
    bestPractices: score("best-practices"),
    seo: score("seo"),
    lcp: report.audits["largest-contentful-paint"]?.numericValue,
    tbt: report.audits["total-blocking-time"]?.numericValue,
    failed,
  };
}

// This app: sign-up form, header `nav-user`, hydration marker.
const ours = (base) => ({
  name: "this app",
  base,
  marker: true,
  userSelector: '[data-testid="nav-user"]',
  pages: [
    { path: "/", signedIn: false },
    { path: "/login", signedIn: false },
    { path: "/signup", signedIn: false },
    { path: "/dashboard", signedIn: true },
  ],
  async signUp(page, name) {
    await page.goto(`${base}/signup`);
    await page.waitForSelector("html[data-hydrated]", { state: "attached" });
    await page.getByLabel("User name or e-mail").fill(name);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account", exact: true }).click();
    await page.waitForURL(/\/dashboard$/);
  },
});

// Leptos' session_auth_axum: its sign-up form (username, password, password
// confirmation, "remember me"), and its header's "Logged in as" text.
const example = (base) => ({
  name: "session_auth_axum",
  base,
  marker: false,
  userSelector: null,
  pages: [
    { path: "/", signedIn: false },
    { path: "/login", signedIn: false },
    { path: "/settings", signedIn: true },
  ],
  async signUp(page, name) {
    await page.goto(`${base}/signup`);
    await page.waitForLoadState("networkidle");
    await page.locator('input[name="username"]').fill(name);
    await page.locator('input[name="password"]').fill(PASSWORD);
    await page.locator('input[name="password_confirmation"]').fill(PASSWORD);
    await page.locator('button[type="submit"], input[type="submit"]').first().click();
    await page.waitForURL((u) => !u.pathname.startsWith("/signup"));
  },
});


const dir = mkdtempSync(path.join(tmpdir(), "leptos-sessions-first-load-"));
cpSync(opts.site, path.join(dir, "site"), { recursive: true });
const server = await startServer(opts.server, { port: 3400, dbUrl: `sqlite://${path.join(dir, "fl.db")}`, dir });
const results = {};
try {
  results.ours = await measure(ours(server.base));
  results.ours.lighthouse = {
    "/": lighthouse(`${server.base}/`),
    "/login": lighthouse(`${server.base}/login`),
    "/dashboard": lighthouse(`${server.base}/dashboard`, results.ours.cookie),
  };
} finally {
  await stopServer(server);
}
if (opts.example) {
  const ex = await startExample(opts.example, opts["example-site"], 3500);
  try {
    results.example = await measure(example(ex.base));
    results.example.lighthouse = {
      "/": lighthouse(`${ex.base}/`),
      "/login": lighthouse(`${ex.base}/login`),
      "/settings": lighthouse(`${ex.base}/settings`, results.example.cookie),
    };
  } finally {
    ex.child.kill("SIGTERM");
  }
}

const kb = (b) => (b / 1024).toFixed(1);
const lines = [
  `| site | page | JS | WASM | CSS | **total (brotli, as served)** | time to hydrated (median of ${RUNS}) |`,
  "|---|---|---|---|---|---|---|",
];
for (const [key, r] of Object.entries(results)) {
  const name = key === "ours" ? "this app" : "session_auth_axum";
  for (const [p, m] of Object.entries(r.pages)) {
    lines.push(
      `| ${name} | \`${p}\`${m.signedIn ? " (signed in)" : ""} | ${kb(m.bytes.js)} KiB | ${kb(m.bytes.wasm)} KiB | ${kb(m.bytes.css)} KiB | **${kb(m.total)} KiB** | ${m.hydrated.toFixed(0)} ms |`,
    );
  }
}
lines.push("");
if (results.ours.header) lines.push(`Signed-in header on \`/\` (this app): **${results.ours.header.toFixed(0)} ms** after navigation (median of ${RUNS}).`, "");
const lh = Object.entries(results).flatMap(([key, r]) =>
  Object.entries(r.lighthouse ?? {})
    .filter(([, s]) => s)
    .map(([p, s]) => `| ${key === "ours" ? "this app" : "session_auth_axum"} | \`${p}\` | ${s.performance} | ${s.accessibility} | ${s.bestPractices} | ${s.seo} | ${(s.lcp / 1000).toFixed(2)} s | ${s.tbt.toFixed(0)} ms | ${s.failed.join(", ") || "none"} |`),
);
if (lh.length) {
  lines.push("| site | page | performance | accessibility | best practices | SEO | LCP | TBT | failed audits |", "|---|---|---|---|---|---|---|---|---|", ...lh, "");
}
lines.push("Files loaded before interactive:", "");
for (const [key, r] of Object.entries(results)) {
  for (const [p, m] of Object.entries(r.pages)) lines.push(`- ${key} \`${p}\`: ${m.files.join(", ")}`);
}
const outDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../target/bench");
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, "first-load.md"), lines.join("\n") + "\n");
// The session cookies stay out of the saved results.
writeFileSync(path.join(outDir, "first-load.json"), JSON.stringify(results, (k, v) => (k === "cookie" ? undefined : v), 2));
console.log(`\n${lines.join("\n")}`);
