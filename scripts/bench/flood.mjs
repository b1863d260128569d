#!/usr/bin/env node
// The flood scenario of the load benchmark; run it through
// `scripts/flood.sh`, which builds the release server first. See
// BENCHMARKS.md ("Sign-in flood").
//
// Behind TRUSTED_PROXIES=127.0.0.1 and the default rate limits, WORKERS
// concurrent loops send bad sign-ins as fast as they can, each from the
// next of 1,000 client addresses (half IPv4, half IPv6 in distinct /48s,
// through X-Forwarded-For), for DURATION seconds. Meanwhile one signed-in
// user loads /dashboard again and again and refreshes every few seconds;
// then signs out, and signs in again. The same user runs first on a quiet
// server, for the comparison. The driver shares the machine with the
// server, so the flood also takes CPU from the server through the driver.
//
//   node scripts/bench/flood.mjs --server BIN --site DIR [--duration 30] [--workers 48]

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
const ADDRESSES = 1000;
const REFRESH_EVERY_MS = 5000;

/** The `i`th client address: even ones IPv4, odd ones IPv6 (each its own /48). */
function address(i) {
  return i % 2 === 0 ? `10.1.${(i >> 8) & 255}.${i & 255}` : `2001:db8:${i.toString(16)}::1`;
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
  const { action, csrf } = await form(base, jar, "/dashboard", "logout");
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
  },
});
const base = server.base;
const name = "flood-user";
const jar = new Jar();
if (!(await credentials(base, jar, "/signup", "sign_up", name))) throw new Error("sign-up failed");

console.log(`quiet: the user alone for ${DURATION / 1000} s`);
const quiet = summary(await user(base, jar, name, Date.now() + DURATION));

console.log(`flood: ${WORKERS} concurrent bad sign-ins from ${ADDRESSES} addresses for ${DURATION / 1000} s, the user as before`);
const statuses = {};
const stopAt = Date.now() + DURATION;
const attackers = Array.from({ length: WORKERS }, (_, w) => attacker(base, w, stopAt, statuses, name));
const flooded = summary(await user(base, jar, name, stopAt));
await Promise.all(attackers);

const signedOut = await signOut(base, jar);
// The user's browser carries the device cookie: the flood's guesses at its
// name do not lock it out.
const signedInAgain = await credentials(base, jar, "/login", "sign_in", name);
await sleep(100);
await stopServer(server);

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
  `flood: ${attempts} bad sign-ins in ${DURATION / 1000} s (${(attempts / (DURATION / 1000)).toFixed(0)}/s) from ${ADDRESSES} addresses by ${WORKERS} workers; answers ${flood}`,
  `user p99 under flood / quiet: ${ratio.toFixed(2)}× (target < 3×)`,
  `then: signed out ${signedOut ? "yes" : "NO"}; signed in again during the flood's locks ${signedInAgain ? "yes" : "NO"}`,
].join("\n");
console.log(`\n${md}`);
for (const f of flooded.failures.slice(0, 10)) console.log(`user failure: ${f}`);
mkdirSync("target/bench", { recursive: true });
writeFileSync("target/bench/flood.md", `${md}\n`);
writeFileSync("target/bench/flood.json", JSON.stringify({ quiet, flooded, statuses, signedOut, signedInAgain }, null, 2));
console.log("\nsaved target/bench/flood.md and target/bench/flood.json");
if (flooded.failures.length > 0 || !signedOut || !signedInAgain) process.exit(1);
