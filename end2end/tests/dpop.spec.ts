import { test, expect, type Page } from "@playwright/test";
import { hydrated, signUp, uniqueUser, watchConsole } from "./helpers";

/** The stored DPoP key pair, as far as the page itself can see it. */
async function storedKey(page: Page) {
  return page.evaluate(async () => {
    const db: IDBDatabase = await new Promise((ok, fail) => {
      const open = indexedDB.open("leptos-sessions");
      open.onsuccess = () => ok(open.result);
      open.onerror = () => fail(open.error);
    });
    const pair: CryptoKeyPair = await new Promise((ok, fail) => {
      const get = db.transaction("keys").objectStore("keys").get("dpop");
      get.onsuccess = () => ok(get.result);
      get.onerror = () => fail(get.error);
    });
    db.close();
    let exported = "exported";
    try {
      await crypto.subtle.exportKey("pkcs8", pair.privateKey);
    } catch (e) {
      exported = (e as Error).name;
    }
    const pub = await crypto.subtle.exportKey("jwk", pair.publicKey);
    return { extractable: pair.privateKey.extractable, exported, x: pub.x, y: pub.y };
  });
}

test("refreshes carry a proof from a key that cannot be read out, the same across reloads", async ({ page }) => {
  const problems = watchConsole(page);
  const user = uniqueUser("dpop");
  await signUp(page, user);

  const proofs: string[] = [];
  page.on("request", (req) => {
    if (req.url().endsWith("/api/auth/refresh")) proofs.push(req.headers()["dpop"] ?? "");
  });
  await page.goto("/about");
  await hydrated(page);
  // "valid until" once the refresh's token is adopted, which is after it
  // is kept for the tab: the name alone may be the stored snapshot's.
  await expect(page.getByTestId("token-expiry")).toContainText("valid until");

  const key = await storedKey(page);
  expect(key.extractable).toBe(false);
  expect(key.exported).toBe("InvalidAccessError");

  // A tab that holds no token yet refreshes (this one keeps its bound token
  // in sessionStorage, so it is dropped first, as a new tab has none): the
  // session was bound to the key on the first, so these succeed only with it.
  for (let i = 0; i < 2; i++) {
    await page.evaluate(() => sessionStorage.removeItem("leptos-sessions.token"));
    const refreshed = page.waitForResponse((res) => res.url().endsWith("/api/auth/refresh"));
    await page.reload();
    expect((await refreshed).status()).toBe(200);
    await expect(page.getByTestId("client-state")).toContainText(`Signed in as ${user}`);
    // Kept for the tab by now, so the next turn's removal is not undone.
    await expect(page.getByTestId("token-expiry")).toContainText("valid until");
  }
  expect(await storedKey(page)).toEqual(key);
  expect(proofs.length).toBeGreaterThanOrEqual(3);
  for (const proof of proofs) {
    const header = JSON.parse(Buffer.from(proof.split(".")[0], "base64url").toString());
    expect(header).toMatchObject({ typ: "dpop+jwt", alg: "ES256", jwk: { kty: "EC", crv: "P-256", x: key.x } });
    expect(header.jwk.d).toBeUndefined();
  }
  expect(problems).toEqual([]);
});

test("the bound access token reaches the API only with a proof of the key, which a copy lacks", async ({
  page,
  request,
}) => {
  const problems = watchConsole(page);
  const user = uniqueUser("dpopapi");
  await signUp(page, user);
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("client-state")).toContainText(`Signed in as ${user}`);
  const sent = page.waitForRequest((req) => req.url().endsWith("/api/me"));
  await page.getByRole("button", { name: "Call /api/me with the token" }).click();
  await expect(page.getByTestId("api-me")).toContainText(`"name":"${user}"`);
  const headers = (await sent).headers();
  const [scheme, token] = headers["authorization"].split(" ");
  expect(scheme).toBe("DPoP");
  const claims = JSON.parse(Buffer.from(headers["dpop"].split(".")[1], "base64url").toString());
  expect(claims).toMatchObject({ htm: "GET", htu: expect.stringMatching(/\/api\/me$/) });
  expect(claims.ath).toMatch(/^[A-Za-z0-9_-]{43}$/);
  // The same token copied out of the page: refused as a bearer token, and
  // with the page's own (used) proof.
  for (const extra of [
    { authorization: `Bearer ${token}` },
    { authorization: `DPoP ${token}` },
    { authorization: `DPoP ${token}`, dpop: headers["dpop"] },
  ]) {
    const res = await request.get("/api/me", { headers: extra });
    expect(res.status(), JSON.stringify(Object.keys(extra))).toBe(401);
  }
  expect(problems).toEqual([]);
});

test("cookies copied into another browser do not refresh there", async ({ page, browser }) => {
  const user = uniqueUser("copied");
  await signUp(page, user);
  await page.goto("/about");
  await expect(page.getByTestId("client-state")).toContainText(`Signed in as ${user}`);

  // Another profile with every cookie, but its own key (none of the first's).
  const thief = await browser.newContext();
  await thief.addCookies(await page.context().cookies());
  const other = await thief.newPage();
  const refreshed = other.waitForResponse((res) => res.url().endsWith("/api/auth/refresh"));
  await other.goto("/about");
  const res = await refreshed;
  expect(res.status()).toBe(401);
  expect(res.headers()["www-authenticate"]).toContain("invalid_dpop_proof");
  await expect(other.getByTestId("client-state")).toContainText("You are signed out");
  await thief.close();

  // The real browser is untouched.
  await page.reload();
  await expect(page.getByTestId("client-state")).toContainText(`Signed in as ${user}`);
});
