#!/usr/bin/env node
// The flood scenarios of the load benchmark; run them through
// `scripts/flood.sh`, which builds the release server first. See
// BENCHMARKS.md ("Floods").
//
// Behind TRUSTED_PROXIES=127.0.0.1 and the default rate limits, WORKERS
// concurrent loops send as fast as they can, for DURATION seconds, one of:
// - `sign-in`: bad sign-ins, each from the next of 1,000 client addresses
//   (half IPv4, half IPv6 in distinct /48s, through X-Forwarded-For);
// - `passkey-start`: passkey sign-in starts (anyone can send them), all
//   from one address, as the security review did;
// - `crafted-password`: sign-ups with a 78-character password built to
//   make the strength estimate slow, from 8 addresses (within their
//   budgets: what reaches the server is the estimate's cost).
// Meanwhile one signed-in user loads /dashboard again and again and
// refreshes every few seconds; then signs out, and signs in again. The
// same user runs first on a quiet server, for the comparison. The driver
// shares the machine with the server, so the flood also takes CPU from the
// server through the driver.
//
//   node scripts/bench/flood.mjs --server BIN --site DIR [--scenario sign-in]
//     [--duration 30] [--workers 48]

import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { Jar, credentials, form, post, refresh, sleep, startServer, stopServer } from "./common.mjs";

const opts = {};
for (let i = 2; i < process.argv.length; i += 2) opts[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
for (const required of ["server", "site"]) {
  if (!opts[required]) {
    console.error(`missing --${required}; run scripts/flood.sh instead`);
    process.exit(2);
  }
}
const DURATION = Number(opts.duration ?? 30) * 1000;
const WORKERS = Number(opts.workers ?? 48);
const SCENARIO = opts.scenario ?? "sign-in";
const ADDRESSES = 1000;
// The review's crafted password: l33t-heavy runs that keep the strength
// estimator busy, repeated to 78 characters.
const CRAFTED = "4@8({[</369&#!1/|0$5+7%2/".repeat(4).slice(0, 78);
const REFRESH_EVERY_MS = 5000;

/** The `i`th client address: even ones IPv4, odd ones IPv6 (each its own /48). */
function address(i) {
  return i % 2 === 0 ? `10.1.${(i >> 8) & 255}.${i & 255}` : `2001:db8:${i.toString(16)}::1`;
}

/** Counts one answer (or error) of the flood. */
function count(statuses, key) {
  statuses[key] = (statuses[key] ?? 0) + 1;
}

/** Passkey sign-in starts from one address until `stopAt`, or `count` of them. */
async function passkeyStarter(base, stopAt, statuses, limit = Infinity) {
  const jar = new Jar();
  const { csrf } = await form(base, jar, "/login", "sign_in");
  for (let n = 0; n < limit && Date.now() < stopAt; n++) {
    try {
      const res = await fetch(`${base}/api/passkeys/login/start`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          "sec-fetch-site": "same-origin",
          "x-csrf-token": csrf,
          "x-forwarded-for": "203.0.113.50",
          cookie: jar.header(),
        },
        body: "{}",
      });
      await res.arrayBuffer();
      count(statuses, res.status);
    } catch {
      count(statuses, "error");
    }
  }
}

/** Sign-ups with the crafted password from 8 addresses until `stopAt`. */
async function craftedSignUps(base, w, stopAt, statuses) {
  let jar = new Jar();
  let { action, csrf } = await form(base, jar, "/signup", "sign_up");
  for (let n = w; Date.now() < stopAt; n += WORKERS) {
    try {
      const fields = { username: `crafted-${w}-${n}`, password: CRAFTED, csrf_token: csrf };
      const res = await post(base, jar, action, fields, { "x-forwarded-for": `10.9.0.${n % 8}` });
      count(statuses, res.status);
      if (res.status === 200) {
        // Signed up (the estimator judged the password strong): the next
        // attempt comes from a new browser, as a flooder's would.
        jar = new Jar();
        ({ action, csrf } = await form(base, jar, "/signup", "sign_up"));
      }
    } catch {
      count(statuses, "error");
    }
  }
}

/** Bad sign-ins from rotating addresses until `stopAt`; counts statuses. */
async function attacker(base, w, stopAt, statuses, victim) {
  const jar = new Jar();
  const { action, csrf } = await form(base, jar, "/login", "sign_in");
  for (let n = w; Date.now() < stopAt; n += WORKERS) {
    // Mostly unknown names; every tenth guess is at the signed-in user.
    const username = n % 10 === 0 ? victim : `guess-${n % 500}`;
    try {
      const fields = { username, password: "wrong guess", csrf_token: csrf };
      const res = await post(base, jar, action, fields, { "x-forwarded-for": address(n % ADDRESSES) });
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    } catch {
      statuses.error = (statuses.error ?? 0) + 1;
    }
  }
}

/** The signed-in user until `stopAt`: /dashboard in a loop, a refresh every few seconds. */
async function user(base, jar, name, stopAt) {
  const latencies = [];
  const failures = [];
  let refreshes = 0;
  let nextRefresh = Date.now() + REFRESH_EVERY_MS;
  while (Date.now() < stopAt) {
    const started = performance.now();
    try {
      const res = await fetch(`${base}/dashboard`, { redirect: "manual", headers: { cookie: jar.header() } });
      const body = await res.text();
      latencies.push(performance.now() - started);
      if (res.status !== 200 || !body.includes(name)) failures.push(`/dashboard ${res.status}`);
    } catch (err) {
      failures.push(`/dashboard ${err.message}`);
    }
    if (Date.now() >= nextRefresh) {
      const { status } = await refresh(base, jar);
      refreshes++;
      if (status !== 200) failures.push(`refresh ${status}`);
      nextRefresh += REFRESH_EVERY_MS;
    }
  }
  return { latencies, failures, refreshes };
}

/** Signs out through the navigation's form; true when the session cookie is gone. */
async function signOut(base, jar) {
  // Under /api/auth, where the refresh cookie comes along.
  const { action, csrf } = await form(base, jar, "/dashboard", "auth/logout");
  const res = await post(base, jar, action, { csrf_token: csrf });
  return res.status < 400 && jar.get("session") === undefined;
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

function summary(run) {
  const sorted = [...run.latencies].sort((a, b) => a - b);
  return { requests: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), failures: run.failures };
}

const dir = mkdtempSync(path.join(tmpdir(), "leptos-sessions-flood-"));
cpSync(opts.site, path.join(dir, "site"), { recursive: true });
const server = await startServer(opts.server, {
  port: 3310,
  dbUrl: `sqlite://${path.join(dir, "flood.db")}`,
  dir,
  // The defaults (docs/CONFIGURATION.md), not the load benchmark's lifted ones.
  extraEnv: {
    TRUSTED_PROXIES: "127.0.0.1",
    RATE_LIMIT_CREDENTIALS_PER_IP: "20/1m",
    RATE_LIMIT_CREDENTIALS_PER_ACCOUNT: "5/1m",
    RATE_LIMIT_REFRESH_PER_IP: "120/1m",
    RATE_LIMIT_PASSKEY_STARTS_PER_IP: "30/1m",
  },
});
// A run that breaks leaves no server behind on the port.
process.on("exit", () => server.child.kill());
const base = server.base;
const name = "flood-user";
const jar = new Jar();
if (!(await credentials(base, jar, "/signup", "sign_up", name))) throw new Error("sign-up failed");

console.log(`quiet: the user alone for ${DURATION / 1000} s`);
const quiet = summary(await user(base, jar, name, Date.now() + DURATION));

const what = {
  "sign-in": `${WORKERS} concurrent bad sign-ins from ${ADDRESSES} addresses`,
  "passkey-start": `${WORKERS} concurrent passkey sign-in starts from one address`,
  "crafted-password": `${WORKERS} concurrent sign-ups with a crafted 78-character password from 8 addresses`,
}[SCENARIO];
if (!what) throw new Error(`unknown scenario ${SCENARIO}`);
console.log(`flood: ${what} for ${DURATION / 1000} s, the user as before`);
const statuses = {};
const stopAt = Date.now() + DURATION;
const attackers = Array.from({ length: WORKERS }, (_, w) => {
  if (SCENARIO === "passkey-start") return passkeyStarter(base, stopAt, statuses);
  if (SCENARIO === "crafted-password") return craftedSignUps(base, w, stopAt, statuses);
  return attacker(base, w, stopAt, statuses, name);
});
const flooded = summary(await user(base, jar, name, stopAt));
await Promise.all(attackers);

// The review's measure: 20,000 sign-in starts from one address, 1,000 in
// flight (past 4,096 held refusals they are sent at once).
const burst = {};
if (SCENARIO === "passkey-start") {
  const BURST = 20_000;
  const IN_FLIGHT = 1_000;
  const each = Math.ceil(BURST / IN_FLIGHT);
  const far = Date.now() + 10 * 60_000;
  await Promise.all(Array.from({ length: IN_FLIGHT }, () => passkeyStarter(base, far, burst, each)));
}

const signedOut = await signOut(base, jar);
// The user's browser carries the device cookie: the flood's guesses at its
// name do not lock it out.
const signedInAgain = await credentials(base, jar, "/login", "sign_in", name);
await sleep(100);
await stopServer(server);
// What the flood left in the store (through Python's sqlite3, when there).
const stored = spawnSync("python3", [
  "-c",
  "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM passkey_ceremonies').fetchone()[0])",
  path.join(dir, "flood.db"),
]);
const ceremoniesStored = stored.status === 0 ? String(stored.stdout).trim() : "not counted (no python3)";

const attempts = Object.values(statuses).reduce((a, b) => a + b, 0);
const ratio = flooded.p99 / quiet.p99;
const rows = [
  "| run | user requests | user p50 | user p99 | user failures |",
  "|---|---|---|---|---|",
  `| quiet | ${quiet.requests} | ${quiet.p50.toFixed(1)} ms | ${quiet.p99.toFixed(1)} ms | ${quiet.failures.length} |`,
  `| flood | ${flooded.requests} | ${flooded.p50.toFixed(1)} ms | ${flooded.p99.toFixed(1)} ms | ${flooded.failures.length} |`,
];
const flood = Object.entries(statuses)
  .sort()
  .map(([status, n]) => `${status}: ${n}`)
  .join(", ");
const md = [
  ...rows,
  "",
  `flood (${SCENARIO}): ${attempts} requests in ${DURATION / 1000} s (${(attempts / (DURATION / 1000)).toFixed(0)}/s): ${what}; answers ${flood}`,
  ...(SCENARIO === "passkey-start"
    ? [`then a burst of 20,000 starts from the same address, 1,000 in flight; answers ${Object.entries(burst).sort().map(([s, n]) => `${s}: ${n}`).join(", ")}`]
    : []),
  `passkey ceremonies stored at the end: ${ceremoniesStored}`,
  `user p99 under flood / quiet: ${ratio.toFixed(2)}× (target < 3×)`,
  `then: signed out ${signedOut ? "yes" : "NO"}; signed in again during the flood's locks ${signedInAgain ? "yes" : "NO"}`,
].join("\n");
console.log(`\n${md}`);
for (const f of flooded.failures.slice(0, 10)) console.log(`user failure: ${f}`);
mkdirSync("target/bench", { recursive: true });
writeFileSync(`target/bench/flood-${SCENARIO}.md`, `${md}\n`);
writeFileSync(
  `target/bench/flood-${SCENARIO}.json`,
  JSON.stringify({ quiet, flooded, statuses, signedOut, signedInAgain, ceremoniesStored }, null, 2),
);
console.log(`\nsaved target/bench/flood-${SCENARIO}.md and .json`);
if (flooded.failures.length > 0 || !signedOut || !signedInAgain) process.exit(1);
