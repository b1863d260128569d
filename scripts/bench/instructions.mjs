#!/usr/bin/env node
// Instructions per request of a release server, counted by valgrind's
// callgrind: a figure that does not move with the machine's load, where
// `wrk` on a shared two-core machine varies by ±10 % from run to run. See
// BENCHMARKS.md ("Signed-in SSR against Leptos' session example").
//
// Starts the server under callgrind on a throw-away SQLite database, signs
// up one user, makes 20 requests per route to warm up, then for each route
// zeroes the counters, makes `--n` requests one after the other and reads
// the instructions counted (every thread of the server, the runtime's
// included). With `--example`, Leptos' `projects/session_auth_axum`
// release build is counted the same way on its signed-in `/settings` (the
// page `scripts/versus.sh` compares with), so the two are side by side in
// figures that do not move with the machine. Needs valgrind (Debian:
// `apt-get install valgrind`).
//
//   node scripts/bench/instructions.mjs --server BIN --site DIR
//        [--n 100] [--routes /dashboard,/login,/account/sessions]
//        [--example BIN --example-site DIR]

import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { Jar, credentials, exampleSession, startExample, startServer, stopServer } from "./common.mjs";

const opts = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) opts[argv[i].replace(/^--/, "")] = argv[i + 1];
for (const required of ["server", "site"]) {
  if (!opts[required]) {
    console.error(`missing --${required}`);
    process.exit(2);
  }
}
const N = Number(opts.n ?? 100);
const ROUTES = (opts.routes ?? "/dashboard,/login,/account/sessions").split(",");
const ANONYMOUS = new Set(["/login", "/signup"]);
// What each page must show, checked on every request: signed in, not an
// error page. (The example's page streams out of order, so its size
// depends on timing; its text does not.)
const EXPECT = {
  "/dashboard": 'data-testid="dashboard-user">bench<',
  "/account/sessions": "Your sessions",
  "/login": "Sign in",
  "/signup": "Create account",
  "/settings": "<h1>Settings</h1>",
};

const callgrind = (out) => ["valgrind", "--tool=callgrind", `--callgrind-out-file=${out}`];

/**
 * For each route: zeroes the counters of the callgrind process `pid`
 * (writing into `dir`), makes N requests with `get` and reads the
 * instructions counted; the table's rows.
 */
function counter(pid, dir) {
  const control = (flag) => execFileSync("callgrind_control", [flag, String(pid)], { stdio: "ignore" });
  return async (site, routes, get) => {
    const rows = [];
    for (const route of routes) {
      control("-z");
      let size = 0;
      for (let i = 0; i < N; i++) size = await get(route);
      const before = new Set(readdirSync(dir));
      control("-d");
      const dump = readdirSync(dir)
        .filter((f) => f.startsWith("callgrind.out") && !before.has(f))
        .sort()
        .pop();
      const total = Number(/^(?:totals|summary):\s+(\d+)/m.exec(readFileSync(path.join(dir, dump), "utf8"))?.[1]);
      rows.push({ site, route, perRequest: total / N, size });
    }
    return rows;
  };
}

/** A GET that must answer 200 with the page's text; the body's length. */
const getter = (base, cookieFor) => async (route) => {
  const cookie = cookieFor(route);
  const res = await fetch(base + route, { headers: cookie ? { cookie } : {} });
  const body = await res.text();
  if (res.status !== 200 || !body.includes(EXPECT[route] ?? "")) {
    throw new Error(`${route}: ${res.status}, ${body.length} B, without "${EXPECT[route]}"`);
  }
  return body.length;
};

async function ours() {
  const dir = mkdtempSync(path.join(tmpdir(), "leptos-sessions-instructions-"));
  cpSync(opts.site, path.join(dir, "site"), { recursive: true });
  // Under valgrind the start-up (migrations, keys) takes a while.
  const server = await startServer(opts.server, {
    port: 3660,
    dbUrl: `sqlite://${path.join(dir, "bench.db")}`,
    dir,
    wrap: callgrind(path.join(dir, "callgrind.out")),
    waitSeconds: 300,
  });
  const { base } = server;
  try {
    const jar = new Jar();
    if (!(await credentials(base, jar, "/signup", "sign_up", "bench"))) throw new Error("sign-up failed");
    const cookie = jar.header("session");
    const get = getter(base, (route) => (ANONYMOUS.has(route) ? null : cookie));
    for (const route of ROUTES) for (let i = 0; i < 20; i++) await get(route);
    return await counter(server.child.pid, dir)("this app (SQLite)", ROUTES, get);
  } finally {
    await stopServer(server);
  }
}

async function example() {
  const out = mkdtempSync(path.join(tmpdir(), "session-auth-axum-instructions-"));
  const ex = await startExample(opts.example, opts["example-site"], 3700, {
    wrap: callgrind(path.join(out, "callgrind.out")),
    waitSeconds: 300,
  });
  try {
    const cookie = await exampleSession(ex.base);
    const get = getter(ex.base, () => cookie);
    for (let i = 0; i < 20; i++) await get("/settings");
    return await counter(ex.child.pid, out)("session_auth_axum", ["/settings"], get);
  } finally {
    ex.child.kill("SIGTERM");
  }
}

const rows = await ours();
if (opts.example) rows.push(...(await example()));
const settings = rows.find((r) => r.route === "/settings");
console.log(
  `| site | route | instructions per request (${N} requests) | HTML |${settings ? " the example's `/settings` ÷ this |" : ""}`,
);
console.log(`|---|---|---|---|${settings ? "---|" : ""}`);
for (const r of rows) {
  const ratio = settings ? ` ${(settings.perRequest / r.perRequest).toFixed(2)}× |` : "";
  console.log(`| ${r.site} | \`${r.route}\` | ${(r.perRequest / 1000).toFixed(1)} k | ${r.size} B |${ratio}`);
}
