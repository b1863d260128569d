//! `/about`: SSR vs SSG vs the API, and the token model. Prerendered.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::session_panel::SessionPanel;

/// Explains how the pieces fit; a static page that still knows who you are.
#[component]
pub fn AboutPage() -> impl IntoView {
    view! {
        <Title text="How it works" />
        <article class="card prose">
            <h1>"How sessions work in this template"</h1>
            <p>"Three kinds of routes, one source of truth: the session row in the database."</p>

            <h2>"Server-rendered pages (SSR)"</h2>
            <p>
                "The browser sends an opaque token in the " <code>"__Host-session"</code>
                " cookie (HttpOnly, Secure, SameSite=Lax). A middleware hashes it, looks the hash up once, checks the idle and absolute expiry, "
                "and renders the page with your data in the first response. Protected pages redirect anonymous visitors before anything is rendered."
            </p>

            <h2>"Static pages (SSG)"</h2>
            <p>
                "Pages like this one are rendered to files once, when the server starts, and served without touching the database. "
                "After the WebAssembly app hydrates, it asks " <code>"POST /api/auth/refresh"</code>
                " for an access token. That endpoint checks the database session behind the HttpOnly refresh cookie (sent only to "
                <code>"/api/auth"</code> "), rotates the refresh token, and returns a JWT valid for a few minutes."
            </p>

            <h2>"The stateless API"</h2>
            <p>
                <code>"GET /api/me"</code> " and " <code>"GET /api/validate-session"</code>
                " verify the JWT's Ed25519 signature and claims only: no database. The public keys are at "
                <code>"/.well-known/jwks.json"</code> "."
            </p>

            <h2>"What revocation means"</h2>
            <p>
                "Signing out, revoking a device or signing out everywhere ends the database session at once: SSR pages and refreshes fail on the next request. "
                "An access token that was already issued stays valid until it expires (5 minutes by default), because checking it needs no database. "
                "That is the trade-off that makes the API stateless; keep the token lifetime short."
            </p>

            <h2>"Refresh tokens"</h2>
            <p>
                "Every refresh rotates the token. Presenting an already rotated token after a short grace window (30 s) is treated as theft: the whole session is revoked. "
                "Inside the window, tabs refreshing at the same moment all succeed."
            </p>

            <h2>"Where the access token lives"</h2>
            <p>
                "Each page is an ordinary page load, so by default a token bound to this browser's key is kept in sessionStorage for this tab: following a link costs no refresh while it is valid. "
                "A script that copies it gets nothing it can use: every API refuses it without a proof signed by the browser's key, which cannot be read out. "
                "A token that could not be bound (no WebCrypto) stays in memory. "
                "With " <code>"TOKEN_STORAGE=memory"</code> " every page load asks for a new token; with " <code>"TOKEN_STORAGE=local"</code>
                " it survives closing the tab, even unbound, where any script running on the page (an XSS) could use it. "
                "Only a non-secret snapshot (your name and the session's expiry) is always stored, so the next page shows the right header at once."
            </p>
        </article>
        <SessionPanel />
    }
}
