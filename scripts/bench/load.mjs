#!/usr/bin/env node
// The load benchmark's driver; run it through `scripts/bench.sh`, which
// builds the two release servers first. See BENCHMARKS.md.
//
// For each backend (SQLite; PostgreSQL when it answers) it starts the
// release server on a throw-away database, seeds users with their own
// sessions through the real sign-up form, then measures with wrk, in one
// run, each route at each concurrency level, plus refresh and sign-in from
// this script; then the bench-only build without session validation on the
// same database, for the /dashboard ratio. wrk shares the machine with the
// server, so absolute numbers understate the server: the ratios are the
// point.
//
//   node scripts/bench/load.mjs --server BIN --bypass BIN --site DIR
//        [--duration 30] [--connections 8,64,256] [--backends sqlite,postgres]

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

import {
  Jar,
  credentials,
  freshPostgres,
  reachable,
  refresh,
  sleep,
  startServer,
  stopServer,
  wrk as wrkRun,
} from "./common.mjs";

const wrk = (url, connections, headers = []) => wrkRun(url, { threads: 2, connections, duration: DURATION, headers });

const opts = parseArgs(process.argv.slice(2));
const DURATION = Number(opts.duration ?? 30);
const CONNECTIONS = (opts.connections ?? "8,64,256").split(",").map(Number);
const CLIENTS = 32; // refresh: concurrent clients, each with its own session
const PG_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432";

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, "")] = argv[i + 1];
  for (const required of ["server", "bypass", "site"]) {
    if (!out[required]) {
      console.error(`missing --${required}; run scripts/bench.sh instead`);
      process.exit(2);
    }
  }
  return out;
}

/** The server's memory now, in MB: resident (anonymous + file-backed) and peak. */
function memory(server) {
  const status = readFileSync(`/proc/${server.child.pid}/status`, "utf8");
  const mb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: mb("VmRSS"), anon: mb("RssAnon"), file: mb("RssFile"), peak: mb("VmHWM") };
}

/** Starts a new peak (`VmHWM`) from the current RSS (Linux `clear_refs`). */
function resetPeak(server) {
  try {
    writeFileSync(`/proc/${server.child.pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

const fmtMemory = (m) => `${m.rss.toFixed(1)} MB (${m.anon.toFixed(1)} anonymous, ${m.file.toFixed(1)} file-backed)`;

/** Runs wrk; req/s, p50/p99 in ms, and the error count. */

function sqliteDigest(file) {
  try {
    return createHash("sha256").update(execFileSync("sqlite3", [file, ".dump"])).digest("hex");
  } catch {
    return null;
  }
}

/** A digest of every table's rows in a PostgreSQL database (the `/login` check). */
function postgresDigest(url) {
  const u = new URL(url);
  const psql = (sql) =>
    execFileSync("psql", ["-h", u.hostname, "-p", u.port || "5432", "-U", u.username || "postgres", "-d", u.pathname.slice(1), "-Atc", sql], {
      encoding: "utf8",
    });
  try {
    const tables = psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").split("\n").filter(Boolean);
    const parts = tables.map((t) => psql(`SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM "${t}" x`));
    return createHash("sha256").update(tables.join(",") + parts.join(",")).digest("hex");
  } catch {
    return null;
  }
}

/**
 * Whether the release build's pages hydrate in Chromium: the bundle went
 * through wasm-opt, which the debug build the end-to-end tests use does not
 * (an old wasm-opt once broke it without any build error).
 */
async function hydrates(base) {
  const require = createRequire(new URL("../../end2end/package.json", import.meta.url));
  const { chromium } = require("@playwright/test");
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" });
  try {
    const page = await browser.newPage();
    for (const route of ["/", "/login"]) {
      await page.goto(`${base}${route}`);
      await page.waitForSelector("html[data-hydrated]", { state: "attached", timeout: 15000 });
    }
    return true;
  } catch (err) {
    console.log(`hydration check failed: ${err.message.split("\n")[0]}`);
    return false;
  } finally {
    await browser.close();
  }
}

async function benchBackend(backend) {
  const dir = mkdtempSync(path.join(tmpdir(), `leptos-sessions-bench-${backend}-`));
  cpSync(opts.site, path.join(dir, "site"), { recursive: true });
  let dbUrl;
  let dbFile = null;
  if (backend === "sqlite") {
    dbFile = path.join(dir, "bench.db");
    dbUrl = `sqlite://${dbFile}`;
  } else {
    dbUrl = freshPostgres(PG_URL, "leptos_sessions_bench");
  }

  const server = await startServer(opts.server, { port: 3300, dbUrl, dir });
  const base = server.base;
  const idle = memory(server);
  console.log(`RSS at start: ${fmtMemory(idle)}`);
  const hydrated = await hydrates(base);
  console.log(`release build hydrates in Chromium (/, /login): ${hydrated ? "yes" : "NO"}`);
  if (!hydrated) throw new Error("the release build does not hydrate");
  // A plain file with the home page's exact bytes (prerendered at start-up),
  // served by the file handler: the baseline for the prerendered page.
  copyFileSync(path.join(dir, "site", "index.html"), path.join(dir, "site", "bench-plain.html"));
  console.log(`\n== ${backend}: seeding ${CLIENTS} users, each with a session`);
  const jars = [];
  for (let i = 0; i < CLIENTS; i++) {
    const jar = new Jar();
    if (!(await credentials(base, jar, "/signup", "sign_up", `bench-${i}`))) throw new Error("sign-up failed");
    jars.push(jar);
  }
  const afterSeeding = memory(server);
  console.log(`RSS after seeding (${CLIENTS} sign-ups, argon2id): ${fmtMemory(afterSeeding)}, peak ${afterSeeding.peak.toFixed(1)} MB`);
  // The request-load peaks start here, not at the sign-ups' argon2 peak
  // (whose buffers the allocator hands back to the system within ~0.1 s).
  await sleep(1000);
  const settled = memory(server);
  console.log(`RSS a second later: ${fmtMemory(settled)}`);
  const peakReset = resetPeak(server);
  const first = await refresh(base, jars[0]);
  if (first.status !== 200) throw new Error(`refresh failed: ${first.status} ${first.body}`);
  const token = JSON.parse(first.body).access_token;
  const session = `Cookie: ${jars[0].header("session")}`;

  const routes = [
    ["/healthz", "/healthz", []],
    ["/api/me (JWT)", "/api/me", [`Authorization: Bearer ${token}`]],
    ["/ static page", "/", []],
    ["plain file, same bytes", "/bench-plain.html", []],
    ["/ static page + session cookie", "/", [session]],
    ["plain file + session cookie", "/bench-plain.html", [session]],
    ["/login anonymous SSR", "/login", []],
    ["/dashboard (validated)", "/dashboard", [session]],
  ];
  const results = {};
  let loginWrites = null;
  // Peak RSS per route (VmHWM reset before each), and the highest of them.
  let loadPeak = 0;
  const digest = () => (dbFile ? sqliteDigest(dbFile) : postgresDigest(dbUrl));
  for (const [label, route, headers] of routes) {
    for (const c of CONNECTIONS) {
      const before = route === "/login" ? digest() : null;
      resetPeak(server);
      const r = wrk(`${base}${route}`, c, headers);
      r.peakMb = memory(server).peak;
      loadPeak = Math.max(loadPeak, r.peakMb);
      if (before !== null) {
        const after = digest();
        loginWrites = (loginWrites ?? 0) + (after === before ? 0 : 1);
      }
      results[`${label}@${c}`] = r;
      console.log(`${label.padEnd(32)} c=${String(c).padEnd(4)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}  peak RSS ${r.peakMb.toFixed(1)} MB`);
    }
  }

  // Refresh: CLIENTS concurrent clients, each rotating its own session's
  // refresh token as fast as it can.
  let ok = 0;
  let failed = 0;
  resetPeak(server);
  const until = Date.now() + DURATION * 1000;
  await Promise.all(
    jars.map(async (jar) => {
      while (Date.now() < until) {
        const r = await refresh(base, jar);
        if (r.status === 200) ok++;
        else failed++;
      }
    }),
  );
  const reuse = (server.log().match(/refresh token reuse/g) ?? []).length;
  let alive = 0;
  for (const jar of jars) {
    const res = await fetch(`${base}/dashboard`, { redirect: "manual", headers: { cookie: jar.header() } });
    await res.arrayBuffer();
    if (res.status === 200) alive++;
  }
  const refreshResult = { rps: ok / DURATION, errors: failed, reuse, alive };
  console.log(`refresh, ${CLIENTS} clients: ${refreshResult.rps.toFixed(0)} /s, errors ${failed}, reuse alarms ${reuse}, sessions alive ${alive}/${CLIENTS}`);

  const underLoad = memory(server);
  const refreshPeak = underLoad.peak;
  const rssBeforeSignIn = peakReset ? Math.max(loadPeak, refreshPeak) : underLoad.peak;
  console.log(`RSS after the request and refresh load: ${fmtMemory(underLoad)}; peak ${rssBeforeSignIn.toFixed(1)} MB (refresh run ${refreshPeak.toFixed(1)} MB)`);
  resetPeak(server);
  // Sign-in: argon2id at the configured cost is the limit, on purpose.
  let signIns = 0;
  const signInUntil = Date.now() + Math.min(DURATION, 10) * 1000;
  await Promise.all(
    [0, 1, 2, 3].map(async (w) => {
      for (let i = w; Date.now() < signInUntil; i += 4) {
        // Never bench-0: its dashboard lists its sessions, and the bypass
        // run that follows must render the same page as the validated one.
        if (await credentials(base, new Jar(), "/login", "sign_in", `bench-${1 + (i % (CLIENTS - 1))}`)) signIns++;
      }
    }),
  );
  const signInRate = signIns / Math.min(DURATION, 10);
  console.log(`sign-in (4 concurrent, argon2id): ${signInRate.toFixed(1)} /s`);
  const rss = memory(server).peak;
  console.log(`peak RSS: ${rssBeforeSignIn.toFixed(1)} MB under the request load, ${rss.toFixed(1)} MB during the sign-in run`);
  await stopServer(server);

  // The same database and keys, session validation bypassed.
  const bypass = await startServer(opts.bypass, { port: 3300, dbUrl, dir, extraEnv: { BENCH_BYPASS: "1" } });
  for (const c of CONNECTIONS) {
    const r = wrk(`${bypass.base}/dashboard`, c, [session]);
    results[`/dashboard (bypass)@${c}`] = r;
    console.log(`${"/dashboard (bypass, bench-only)".padEnd(32)} c=${String(c).padEnd(4)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}`);
  }
  await stopServer(bypass);
  return { backend, hydrated, results, loginWrites, refresh: refreshResult, signInRate, rss, rssBeforeSignIn, idle, afterSeeding, settled, underLoad, peakReset };
}

function report(all) {
  const lines = [];
  const fmt = (r) =>
    `${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} | ${r.peakMb === undefined ? "" : r.peakMb.toFixed(1)}`;
  for (const run of all) {
    lines.push(`\n### ${run.backend}\n`);
    lines.push("| route | conns | req/s | p50 ms | p99 ms | errors | peak RSS MB |", "|---|---|---|---|---|---|---|");
    for (const [key, r] of Object.entries(run.results)) {
      const [label, c] = key.split("@");
      lines.push(`| ${label} | ${c} | ${fmt(r)} |`);
    }
    lines.push("", "| ratio (same run) | " + CONNECTIONS.map((c) => `c=${c}`).join(" | ") + " | target |");
    lines.push("|---|" + CONNECTIONS.map(() => "---|").join("") + "---|");
    const ratio = (a, b, target) => {
      const cells = CONNECTIONS.map((c) => (run.results[`${a}@${c}`].rps / run.results[`${b}@${c}`].rps).toFixed(2));
      lines.push(`| ${a} ÷ ${b} | ${cells.join(" | ")} | ${target} |`);
    };
    ratio("/dashboard (validated)", "/dashboard (bypass)", "≥ 0.90");
    ratio("/api/me (JWT)", "/healthz", "≥ 0.80");
    ratio("/ static page", "plain file, same bytes", "≥ 0.95");
    ratio("/ static page + session cookie", "plain file + session cookie", "≥ 0.95");
    const errors = Object.values(run.results).reduce((a, r) => a + r.errors, 0);
    lines.push("");
    lines.push(`- the release build hydrates in Chromium (\`/\`, \`/login\`): **${run.hydrated ? "yes" : "NO"}**`);
    lines.push(`- errors, all routes and levels up to ${Math.max(...CONNECTIONS)} connections: **${errors}**`);
    lines.push(`- \`/login\` anonymous: database unchanged during its runs: **${run.loginWrites === null ? "not checked (sqlite3 or psql missing)" : run.loginWrites === 0 ? "yes, 0 rows written" : "NO"}**`);
    lines.push(`- refresh, ${CLIENTS} clients each with its own session: **${run.refresh.rps.toFixed(0)}/s**, errors ${run.refresh.errors}, false reuse alarms ${run.refresh.reuse}, sessions alive afterwards ${run.refresh.alive}/${CLIENTS}`);
    lines.push(`- sign-in, 4 concurrent (argon2id at the configured cost): **${run.signInRate.toFixed(1)}/s**`);
    lines.push(
      `- server RSS: **${run.idle.rss.toFixed(1)} MB** at start (${run.idle.anon.toFixed(1)} anonymous, ${run.idle.file.toFixed(1)} file-backed); ` +
        `peak **${run.rssBeforeSignIn.toFixed(1)} MB** under the request and refresh load (VmHWM${run.peakReset ? ", reset after seeding and before each route" : ", since start"}); ` +
        `peak **${run.rss.toFixed(1)} MB** during the sign-in run (argon2id: 19 MiB per hash, one hash per core at a time)`,
    );
  }
  return lines.join("\n");
}

function haveCommand(cmd) {
  try {
    execFileSync(cmd, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const backends = (opts.backends ?? "sqlite,postgres").split(",");
const runs = [];
for (const backend of backends) {
  if (backend === "postgres" && !(await reachable(PG_URL))) {
    console.log(`\n== postgres: not reachable at ${PG_URL}, skipped`);
    continue;
  }
  if (backend === "postgres" && !haveCommand("psql")) {
    console.log("\n== postgres: psql (to create the bench database) not installed, skipped");
    continue;
  }
  runs.push(await benchBackend(backend));
}
const md = report(runs);
console.log(`\n## Results (${DURATION} s per level)\n${md}`);
mkdirSync("target/bench", { recursive: true });
writeFileSync("target/bench/load.md", md);
writeFileSync("target/bench/load.json", JSON.stringify(runs, null, 2));
console.log("\nsaved target/bench/load.md and target/bench/load.json");
