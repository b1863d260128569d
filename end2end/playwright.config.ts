import { defineConfig, devices } from "@playwright/test";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

// The server under test runs on its own port with a throw-away database, so
// the suite never touches a developer's `data/` folder.
const port = Number(process.env.E2E_PORT ?? 3100);
const repoRoot = path.resolve(__dirname, "..");
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, "target");
const serverBin = process.env.SERVER_BIN ?? path.join(targetDir, "debug", "server");

// Debian's Chromium; Playwright's own browser download is never used.
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** One server under test, on `port`, with its own throw-away data. */
function server(port: number, extraEnv: Record<string, string>) {
  const dataDir = mkdtempSync(path.join(tmpdir(), "leptos-sessions-e2e-"));
  return {
    command: serverBin,
    cwd: repoRoot,
    // /readyz answers 200 only once the database is migrated.
    url: `http://127.0.0.1:${port}/readyz`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "pipe" as const,
    stderr: "pipe" as const,
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      // Each server prerenders into its own copy of the built site.
      LEPTOS_SITE_ROOT: siteCopy(dataDir),
      LEPTOS_RELOAD_PORT: String(port + 1),
      // E2E_DATABASE_URL / E2E_SESSION_STORE run the suite on PostgreSQL
      // and Redis instead of a throw-away SQLite file.
      DATABASE_URL: process.env.E2E_DATABASE_URL ?? `sqlite://${path.join(dataDir, "e2e.db")}`,
      ...(process.env.E2E_SESSION_STORE ? { SESSION_STORE: process.env.E2E_SESSION_STORE } : {}),
      JWT_KEYS_DIR: path.join(dataDir, "keys"),
      APP_ENV: "dev",
      // Every test signs in from 127.0.0.1: keep the per-address limit out
      // of the way (the per-account limit stays at its default).
      RATE_LIMIT_CREDENTIALS_PER_IP: "1000/1m",
      RATE_LIMIT_PASSKEY_STARTS_PER_IP: "1000/1m",
      RUST_LOG: process.env.RUST_LOG ?? "warn,server=info",
      ...extraEnv,
    },
  };
}

// The built site: the debug build's, or E2E_SITE (the release bundle's).
const site = process.env.E2E_SITE ?? path.join(targetDir, "site");

/** Copies the built site so servers do not overwrite each other's pages. */
function siteCopy(dataDir: string): string {
  const dest = path.join(dataDir, "site");
  cpSync(site, dest, { recursive: true });
  return dest;
}

// With PostgreSQL reachable, one more server runs on it through a relay the
// outage tests can cut (support/pg-stack.mjs); otherwise those tests skip.
const pgPort = port + 4;
const pg = spawnSync("pg_isready", ["-q", "-h", "127.0.0.1", "-p", "5432"]).status === 0;
if (pg) {
  // Read by tests/db-outage.spec.ts (the config is loaded in every worker).
  process.env.E2E_PG_BASE = `http://localhost:${pgPort}`;
  process.env.E2E_PG_CONTROL = `http://127.0.0.1:${pgPort + 91}`;
}

function pgServer() {
  const base = server(pgPort, {
    DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort + 90}/leptos_sessions_e2e`,
    DATABASE_ACQUIRE_TIMEOUT_MS: "1000",
    RELAY_PORT: String(pgPort + 90),
    CONTROL_PORT: String(pgPort + 91),
    E2E_PG_DB: "leptos_sessions_e2e",
  });
  return { ...base, command: `node support/pg-stack.mjs ${serverBin}`, cwd: __dirname };
}

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 7_500 },
  fullyParallel: true,
  // Most of the suite waits on the clock (5-second tokens, the idle prompt),
  // not on the CPU: two workers take 2.8 min where one takes 3.9, even on
  // two cores. Playwright's default would be one worker there.
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"], ["html", { open: "never" }]],
  use: {
    baseURL: `http://localhost:${port}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    video: "off",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: chromium,
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
          ],
        },
      },
    },
  ],
  webServer: [
    // A real SMTP server (npm maildev) for the first server's mail; its
    // REST API is how the tests read what arrived (helpers.ts, mailTo).
    {
      command: `npx maildev --smtp ${port + 13} --web ${port + 12} --ip 127.0.0.1 --web-ip 127.0.0.1`,
      cwd: __dirname,
      url: `http://127.0.0.1:${port + 12}/api/email`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: "ignore" as const,
      stderr: "pipe" as const,
    },
    server(port, { SMTP_URL: `smtp://127.0.0.1:${port + 13}` }),
    // Short lifetimes, to watch refreshes and the idle prompt: 5 s tokens,
    // sessions that idle out after 20 s (the prompt opens 5 s before).
    server(port + 2, {
      JWT_ACCESS_TTL: "5s",
      TOKEN_STORAGE: "local",
      SESSION_IDLE_TIMEOUT: "20s",
      SESSION_TOUCH_INTERVAL: "1s",
    }),
    // Step-up: sensitive actions ask for the password again 3 s after it
    // was last given (everything else at its default).
    server(port + 6, { REAUTH_WINDOW: "3s" }),
    // The strictest token storage: nothing kept between page loads.
    server(port + 8, { TOKEN_STORAGE: "memory" }),
    // A real OpenID provider (PyPI oidc-provider-mock, in .venv), on
    // 127.0.0.1: another site than the app's localhost, as a real provider
    // is, so SameSite rules apply to its redirect back.
    {
      command: `.venv/bin/oidc-provider-mock --port ${port + 14}`,
      cwd: __dirname,
      url: `http://127.0.0.1:${port + 14}/.well-known/openid-configuration`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: "ignore" as const,
      stderr: "pipe" as const,
    },
    // "Sign in with Mock ID" (identities.spec.ts); no SMTP, so its mail is
    // at /dev/mailbox.
    server(port + 10, {
      OIDC_PROVIDERS: "mock",
      OIDC_MOCK_NAME: "Mock ID",
      OIDC_MOCK_ISSUER: `http://127.0.0.1:${port + 14}`,
      OIDC_MOCK_CLIENT_ID: "leptos-sessions-e2e",
      OIDC_MOCK_CLIENT_SECRET: "e2e-secret",
      OIDC_MOCK_TRUST_EMAIL: "true",
    }),
    ...(pg ? [pgServer()] : []),
  ],
});
