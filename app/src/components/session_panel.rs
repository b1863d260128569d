//! The session as seen from a static page: checked in the browser with a
//! short-lived access token, never by the server that served the page.

use leptos::{either::EitherOf3, prelude::*};

use crate::{
    client_session::{call_me, ClientSession, ClientState},
    format::{utc, utc_seconds},
};

/// Shows the browser-side session check's result (the header island
/// starts it), with a button that calls the stateless `/api/me` with the
/// access token.
#[island]
pub fn SessionPanel() -> impl IntoView {
    let session = ClientSession::get();
    // Effects run only in the browser, after hydration; the header's
    // island has started the check already, and a second start is a no-op.
    Effect::new(move |_| session.start());
    let me = Action::new_local(move |_: &()| call_me(session));

    view! {
        <section class="card" data-testid="client-session" aria-live="polite">
            <h2>"Your session, checked in the browser"</h2>
            // `EitherOf3`, not `into_any`: a type-erased view costs the
            // bundle every way of rendering it, hydrating lazily included.
            {move || match session.state() {
                ClientState::Unknown => EitherOf3::A(view! {
                    <p data-testid="client-state" class="muted">"Checking your session…"</p>
                }),
                ClientState::SignedOut => EitherOf3::B(view! {
                    <p data-testid="client-state">
                        "You are signed out. " <a href="/login">"Sign in"</a> " or " <a href="/signup">"create an account"</a> "."
                    </p>
                }),
                ClientState::SignedIn { name, session_expires_at, token_expires_at, confirmed } => EitherOf3::C(view! {
                    <p data-testid="client-state">"Signed in as " <strong>{name}</strong></p>
                    <dl class="facts">
                        <dt>"Session ends at the latest"</dt>
                        <dd>{utc(session_expires_at)}</dd>
                        <dt>"Access token"</dt>
                        <dd data-testid="token-expiry">
                            {if confirmed { format!("valid until {}", utc_seconds(token_expires_at)) } else { "confirming…".to_owned() }}
                        </dd>
                        <dt>"Tokens obtained on this page"</dt>
                        <dd data-testid="refresh-count">{move || session.refreshes()}</dd>
                    </dl>
                    <button type="button" class="button secondary" on:click=move |_| { me.dispatch(()); }>
                        "Call /api/me with the token"
                    </button>
                    <pre class="api-result" data-testid="api-me">
                        {move || me.value().get().map(|r| r.unwrap_or_else(|e| format!("error: {e}")))}
                    </pre>
                }),
            }}
        </section>
    }
}
