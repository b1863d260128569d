// What the benchmark drivers share (`load.mjs`, `flood.mjs`, `versus.mjs`):
// a cookie jar, starting and stopping the release server (and Leptos'
// example), a throw-away PostgreSQL database, and the real forms' requests.

import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export const PASSWORD = "correct horse battery";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Cookies by name; enough of a jar for one host. */
export class Jar {
  constructor() {
    this.cookies = new Map();
  }
  absorb(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  get(suffix) {
    for (const [k, v] of this.cookies) if (k === suffix || k.endsWith(`-${suffix}`)) return v;
    return undefined;
  }
  header(...names) {
    return [...this.cookies]
      .filter(([k]) => names.length === 0 || names.some((n) => k === n || k.endsWith(`-${n}`)))
      .map(([k, v]) => `${k}=${v}`)
      .join("; ");
  }
}

/** Whether something listens at `url`'s host and port (PostgreSQL's by default). */
export function reachable(url) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port || 5432), u.hostname);
    s.setTimeout(1000);
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
    s.once("timeout", () => (s.destroy(), resolve(false)));
  });
}

/** A new empty database `name` on the PostgreSQL server at `url` (dropped first if there); its URL. */
export function freshPostgres(url, name) {
  const u = new URL(url);
  for (const sql of [`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, `CREATE DATABASE ${name}`]) {
    execFileSync("psql", ["-h", u.hostname, "-p", u.port || "5432", "-U", u.username || "postgres", "-qc", sql], {
      stdio: "ignore",
    });
  }
  u.pathname = `/${name}`;
  return u.toString();
}

/** The environment a benchmarked server runs with, its site in `dir/site`. */
export function serverEnv({ port, dbUrl, dir, extraEnv = {} }) {
  const site = path.join(dir, "site");
  return {
    ...process.env,
    LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    LEPTOS_SITE_ROOT: site,
    LEPTOS_RELOAD_PORT: String(port + 1),
    DATABASE_URL: dbUrl,
    JWT_KEYS_DIR: path.join(dir, "keys"),
    APP_ENV: "dev",
    // The access token must outlive a run (15 minutes, the most the server
    // accepts); the limits must not be what is measured (sign-in is
    // measured separately, against argon2).
    JWT_ACCESS_TTL: "15m",
    RATE_LIMIT_CREDENTIALS_PER_IP: "1000000/1m",
    RATE_LIMIT_CREDENTIALS_PER_ACCOUNT: "1000000/1m",
    RATE_LIMIT_REFRESH_PER_IP: "1000000/1m",
    RATE_LIMIT_PASSKEY_STARTS_PER_IP: "1000000/1m",
    RUST_LOG: "warn",
    ...extraEnv,
  };
}

/**
 * Starts the server `bin` (under `wrap`, e.g. valgrind, given `waitSeconds`
 * to be ready) and waits for `/readyz`.
 */
export async function startServer(bin, { port, dbUrl, dir, extraEnv = {}, wrap = [], waitSeconds = 30 }) {
  const env = serverEnv({ port, dbUrl, dir, extraEnv });
  const [program, ...args] = [...wrap, bin];
  const child = spawn(program, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => (log = (log + d).slice(-65536)));
  child.stderr.on("data", (d) => (log = (log + d).slice(-65536)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < waitSeconds * 10; i++) {
    if (child.exitCode !== null) throw new Error(`server exited:\n${log}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) {
        return { child, base, log: () => log };
      }
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill();
  throw new Error(`server not ready after ${waitSeconds} s:\n${log}`);
}

export async function stopServer(server) {
  server.child.kill("SIGTERM");
  await new Promise((r) => (server.child.exitCode !== null ? r() : server.child.once("exit", r)));
}

/** Loads a form page and returns its action and CSRF field. */
export async function form(base, jar, page, fn) {
  const res = await fetch(`${base}${page}`, { headers: { cookie: jar.header() } });
  jar.absorb(res);
  const html = await res.text();
  const action = new RegExp(`action="(/api/${fn}[^"]*)"`).exec(html)?.[1];
  const csrf = /name="csrf_token" value="([^"]*)"/.exec(html)?.[1];
  if (!action || !csrf) throw new Error(`no ${fn} form on ${page}`);
  return { action, csrf };
}

/**
 * Posts `fields` to a form's `action` as the hydrated app does (JSON
 * answers), with the jar's cookies and any `headers`; the response, read.
 */
export async function post(base, jar, action, fields, headers = {}) {
  const res = await fetch(`${base}${action}`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
      "sec-fetch-site": "same-origin",
      cookie: jar.header(),
      ...headers,
    },
    body: new URLSearchParams(fields),
  });
  jar.absorb(res);
  await res.arrayBuffer();
  return res;
}

/** Submits a credentials form as a browser would; true on success. */
export async function credentials(base, jar, page, fn, username) {
  const { action, csrf } = await form(base, jar, page, fn);
  const res = await post(base, jar, action, { username, password: PASSWORD, csrf_token: csrf });
  return res.status < 400 && jar.get("session") !== undefined;
}

export async function refresh(base, jar) {
  const res = await fetch(`${base}/api/auth/refresh`, {
    method: "POST",
    headers: {
      accept: "application/json",
      "sec-fetch-site": "same-origin",
      "x-csrf-token": jar.get("csrf") ?? "",
      cookie: jar.header(),
    },
  });
  jar.absorb(res);
  const body = await res.text();
  return { status: res.status, body };
}

/**
 * One `wrk --latency` run: requests per second, p50 and p99 in ms, and
 * errors (non-2xx/3xx answers and socket errors).
 */
export function wrk(url, { threads, connections, duration, headers = [] }) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${duration}s`, "--latency", "--timeout", "10s"];
  for (const h of headers) args.push("-H", h);
  const out = execFileSync("wrk", [...args, url], { encoding: "utf8" });
  const ms = (v) => {
    const m = /([\d.]+)(us|ms|s)/.exec(v ?? "");
    if (!m) return NaN;
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p50: ms(/^\s+50%\s+(\S+)/m.exec(out)?.[1]),
    p99: ms(/^\s+99%\s+(\S+)/m.exec(out)?.[1]),
    errors: non2xx + (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
  };
}

/**
 * Starts a release build of Leptos' `projects/session_auth_axum` example on
 * `port`, in a throw-away directory `dir` with its own copy of the site;
 * `wrap` runs it under another program (valgrind), with `waitSeconds` to
 * start.
 */
export async function startExample(bin, site, port, { wrap = [], waitSeconds = 30 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "session-auth-axum-"));
  cpSync(site, path.join(dir, "site"), { recursive: true });
  // It opens `sqlite:Todos.db` in its working directory, which must exist.
  writeFileSync(path.join(dir, "Todos.db"), "");
  const [program, ...args] = [...wrap, bin];
  const child = spawn(program, args, {
    cwd: dir,
    env: {
      ...process.env,
      LEPTOS_SITE_ROOT: path.join(dir, "site"),
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_OUTPUT_NAME: "session_auth_axum",
      LEPTOS_RELOAD_PORT: String(port + 1),
      LEPTOS_ENV: "PROD",
    },
    // It prints a line per server-function call: not kept.
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr.on("data", (d) => (log = (log + d).slice(-4096)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < waitSeconds * 10; i++) {
    if (child.exitCode !== null) throw new Error(`example exited:\n${log}`);
    try {
      if ((await fetch(`${base}/`)).status === 200) return { child, base, dir };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill();
  throw new Error(`example not ready after ${waitSeconds} s:\n${log}`);
}

/** Signs up on the example through its `signup` server function; its session cookie. */
export async function exampleSession(base) {
  const page = await (await fetch(`${base}/signup`)).text();
  const action = /action="(\/api\/signup[^"]*)"/.exec(page)?.[1];
  if (!action) throw new Error("no signup form on the example's /signup");
  const jar = new Jar();
  const res = await fetch(`${base}${action}`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username: "bench", password: PASSWORD, password_confirmation: PASSWORD, remember: "on" }),
  });
  jar.absorb(res);
  await res.arrayBuffer();
  if (res.status >= 400 || !jar.get("session")) throw new Error(`example sign-up: ${res.status}`);
  return jar.header();
}
