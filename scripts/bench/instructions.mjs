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
// included). Needs valgrind (Debian: `apt-get install valgrind`).
//
//   node scripts/bench/instructions.mjs --server BIN --site DIR
//        [--n 100] [--routes /dashboard,/login,/account/sessions]

import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { Jar, credentials, serverEnv, sleep } from "./common.mjs";

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

const dir = mkdtempSync(path.join(tmpdir(), "leptos-sessions-instructions-"));
cpSync(opts.site, path.join(dir, "site"), { recursive: true });
const port = 3660;
const out = path.join(dir, "callgrind.out");
const child = spawn("valgrind", ["--tool=callgrind", `--callgrind-out-file=${out}`, opts.server], {
  env: serverEnv({ port, dbUrl: `sqlite://${path.join(dir, "bench.db")}`, dir }),
  stdio: ["ignore", "ignore", "pipe"],
});
let log = "";
child.stderr.on("data", (d) => (log += d));
const base = `http://127.0.0.1:${port}`;
try {
  // Under valgrind the start-up (migrations, keys) takes a while.
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || i > 1200) throw new Error(`server not ready:\n${log}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  const jar = new Jar();
  if (!(await credentials(base, jar, "/signup", "sign_up", "bench"))) throw new Error("sign-up failed");
  const cookie = jar.header("session");
  const get = async (route) => {
    const res = await fetch(base + route, { headers: ANONYMOUS.has(route) ? {} : { cookie } });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${route}: ${res.status}`);
    return body.length;
  };
  for (const route of ROUTES) for (let i = 0; i < 20; i++) await get(route);
  const control = (flag) => execFileSync("callgrind_control", [flag, String(child.pid)], { stdio: "ignore" });
  console.log(`| route | instructions per request (${N} requests) | HTML |\n|---|---|---|`);
  for (const route of ROUTES) {
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
    console.log(`| \`${route}\` | ${(total / N / 1000).toFixed(1)} k | ${size} B |`);
  }
} finally {
  child.kill("SIGTERM");
}
