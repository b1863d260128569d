#!/usr/bin/env node
// This app's signed-in SSR pages against Leptos' `projects/session_auth_axum`
// example, side by side in one run; run it through `scripts/versus.sh`.
// See BENCHMARKS.md.
//
// Both release builds, on throw-away SQLite databases, each with one user
// signed in through its own sign-up server function; then `wrk -t1 -c32`
// (the same settings for every route, one after the other) on this app's
// `/dashboard`, `/account/sessions` and anonymous `/login`, and the
// example's `/settings` (signed in). Every response must be a 200 with the
// signed-in page, checked before each run. This app runs on SQLite, then
// on PostgreSQL when it is reachable (`--postgres URL`, a throw-away
// database `leptos_sessions_versus` made on it; `--postgres off` skips it).
//
//   node scripts/bench/versus.mjs --server BIN --site DIR --example BIN --example-site DIR
//        [--duration 10] [--connections 32] [--postgres postgres://postgres@127.0.0.1:5432]

import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import {
  Jar,
  credentials,
  exampleSession,
  freshPostgres,
  reachable,
  startExample,
  startServer,
  stopServer,
  wrk as wrkRun,
} from "./common.mjs";

const wrk = (url, headers) => wrkRun(url, { threads: 1, connections: CONNECTIONS, duration: DURATION, headers });

const opts = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) opts[argv[i].replace(/^--/, "")] = argv[i + 1];
for (const required of ["server", "site", "example", "example-site"]) {
  if (!opts[required]) {
    console.error(`missing --${required}; run scripts/versus.sh instead`);
    process.exit(2);
  }
}
const DURATION = Number(opts.duration ?? 10);
const CONNECTIONS = Number(opts.connections ?? 32);
const PG_URL = opts.postgres ?? "postgres://postgres@127.0.0.1:5432";


/** Fails unless `url` with `cookie` answers 200 with `expect` in its body. */
async function check(url, cookie, expect) {
  const res = await fetch(url, { headers: cookie ? { cookie } : {}, redirect: "manual" });
  const body = await res.text();
  if (res.status !== 200 || !body.includes(expect)) {
    throw new Error(`${url}: ${res.status}, ${body.length} B, without "${expect}"`);
  }
  return body.length;
}

const rows = [];
const run = (site, route, note, url, headers) => {
  const r = wrk(url, headers);
  console.log(`${site} ${route}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors}`);
  rows.push({ site, route, note, ...r });
  return r;
};

const sizes = {};
/** This app on the database `dbUrl` (`site` names it in the table). */
async function ourRoutes(site, dbUrl, dir) {
  const ours = await startServer(opts.server, { port: 3600, dbUrl, dir });
  try {
    const jar = new Jar();
    if (!(await credentials(ours.base, jar, "/signup", "sign_up", "bench"))) throw new Error("sign-up failed");
    const cookie = jar.header("session");
    sizes.dashboard = await check(`${ours.base}/dashboard`, cookie, 'data-testid="dashboard-user">bench<');
    sizes.sessions = await check(`${ours.base}/account/sessions`, cookie, "Your sessions");
    sizes.login = await check(`${ours.base}/login`, null, "Sign in");
    run(site, "/dashboard", "signed in", `${ours.base}/dashboard`, [`Cookie: ${cookie}`]);
    run(site, "/account/sessions", "signed in", `${ours.base}/account/sessions`, [`Cookie: ${cookie}`]);
    run(site, "/login", "anonymous", `${ours.base}/login`, []);
  } finally {
    await stopServer(ours);
  }
}

const dir = mkdtempSync(path.join(tmpdir(), "leptos-sessions-versus-"));
cpSync(opts.site, path.join(dir, "site"), { recursive: true });
await ourRoutes("this app (SQLite)", `sqlite://${path.join(dir, "versus.db")}`, dir);
if (opts.postgres !== "off" && (await reachable(PG_URL))) {
  // The same site and keys, another database.
  await ourRoutes("this app (PostgreSQL)", freshPostgres(PG_URL, "leptos_sessions_versus"), dir);
} else {
  console.log(`PostgreSQL not run (${opts.postgres === "off" ? "--postgres off" : `not reachable at ${PG_URL}`})`);
}
const ex = await startExample(opts.example, opts["example-site"], 3700);
try {
  const cookie = await exampleSession(ex.base);
  sizes.settings = await check(`${ex.base}/settings`, cookie, "<h1>Settings</h1>");
  run("session_auth_axum", "/settings", "signed in", `${ex.base}/settings`, [`Cookie: ${cookie}`]);
} finally {
  ex.child.kill("SIGTERM");
}

const settings = rows.find((r) => r.route === "/settings").rps;
const lines = [
  `| site | route | | req/s | p50 | p99 | errors | vs. the example's \`/settings\` |`,
  "|---|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.site} | \`${r.route}\` | ${r.note} | ${r.rps.toFixed(0)} | ${r.p50} ms | ${r.p99} ms | ${r.errors} | ${(r.rps / settings).toFixed(2)}× |`,
  ),
  "",
  `HTML sizes: /dashboard ${sizes.dashboard} B, /account/sessions ${sizes.sessions} B, /login ${sizes.login} B; the example's /settings ${sizes.settings} B.`,
];
const out = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../target/bench");
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, "versus.md"), lines.join("\n") + "\n");
console.log(`\n${lines.join("\n")}`);
