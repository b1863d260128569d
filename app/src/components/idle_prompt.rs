//! The idle-timeout prompt: shortly before inactivity would end the session,
//! offer to stay signed in (one refresh, which slides the idle expiry) or to
//! sign out. If nobody answers, sign out here too when the time is up, and
//! say why.
//!
//! It follows WCAG 2.2.1 (Timing Adjustable): a warning before the time
//! runs out, at least 20 seconds to answer with the default settings, and
//! one simple action to extend.
//!
//! An island on every page: the session's times come from the page's
//! header (server-rendered pages) or from the browser's own check
//! (prerendered ones), through the page's
//! [`SessionClock`](crate::session_clock::SessionClock).

use leptos::prelude::*;

/// Shown on every page while a session is known to this tab.
#[island]
pub fn IdlePrompt() -> impl IntoView {
    live::prompt()
}

/// The server's prompt: closed, since the server has no clock ticking (the
/// browser's is `None` until it hydrates, too), so it renders the closed
/// prompt's placeholder and makes none of what the open one reacts to.
#[cfg(not(feature = "hydrate"))]
mod live {
    use leptos::prelude::IntoView;

    use super::super::when::when;

    /// The closed prompt.
    pub fn prompt() -> impl IntoView {
        when(|| false, || ())
    }
}

/// The browser's prompt.
#[cfg(feature = "hydrate")]
mod live {
    use leptos::{html, prelude::*, task::spawn_local};

    use super::super::when::when;
    use crate::{
        client_session::{ClientSession, ClientState},
        format::countdown,
        navigation,
        session_clock::{Phase, SessionClock},
    };

    /// Signs this tab out, tells the others, and goes to the sign-in page
    /// (`query` says why).
    fn sign_out(query: &'static str) {
        spawn_local(async move {
            let logout = <crate::server_fns::auth::Logout as leptos::server_fn::ServerFn>::url();
            if crate::post::post(logout, String::new()).await.is_ok() {
                ClientSession::get().announce();
            }
            navigation::go(&format!("/login?{query}"));
        });
    }

    /// The prompt, live.
    pub fn prompt() -> impl IntoView {
        let clock = SessionClock::get();
        let session = ClientSession::get();
        let leaving = RwSignal::new(false);
        // The refresh slides the expiry and reports the new times, which
        // closes the prompt. If it fails, the prompt stays and can be retried.
        let stay = Action::new_local(move |_: &()| async move {
            session.refresh_now().await;
        });
        // Signed out elsewhere (another tab, a revocation): nothing to count.
        Effect::new(move |_| {
            if session.state() == ClientState::SignedOut {
                clock.clear();
            }
        });

        // Until the clock ticks `now()` is `None`: nothing shows, as the
        // server rendered it.
        let phase = Memo::new(move |_| match (clock.times(), clock.now()) {
            (Some(times), Some(now)) => times.phase(now),
            _ => Phase::Quiet,
        });
        // `Some(extendable)` while the prompt is open; changes only on opening
        // and closing, so the dialog (and its focus) is not rebuilt every second.
        let open = Memo::new(move |_| match phase.get() {
            Phase::Ending { extendable, .. } => Some(extendable),
            _ => None,
        });
        let remaining = move || match phase.get() {
            Phase::Ending { remaining, .. } => countdown(remaining),
            _ => String::new(),
        };
        Effect::new(move |_| {
            if phase.get() == Phase::Ended && !leaving.get_untracked() {
                leaving.set(true);
                clock.clear();
                sign_out("ended=idle");
            }
        });

        let stay_button = NodeRef::<html::Button>::new();
        let sign_out_button = NodeRef::<html::Button>::new();
        // Move focus to the dialog's main action when it opens.
        Effect::new(move |_| {
            if let Some(extendable) = open.get() {
                let target = if extendable {
                    stay_button.get()
                } else {
                    sign_out_button.get()
                };
                if let Some(button) = target {
                    let _ = button.focus();
                }
            }
        });

        view! {
            {when(move || open.get().is_some(), move || view! {
                {move || {
                    let extendable = open.get().unwrap_or(true);
                    view! {
                        <div
                            class="idle-prompt"
                            role="alertdialog"
                            aria-labelledby="idle-prompt-title"
                            aria-describedby="idle-prompt-text"
                            data-testid="idle-prompt"
                        >
                            <h2 id="idle-prompt-title">"Still there?"</h2>
                            <p id="idle-prompt-text">
                                {if extendable {
                                    "For your security you will be signed out "
                                } else {
                                    "Your session reaches its maximum length and ends "
                                }}
                                <span data-testid="idle-remaining">{remaining}</span>
                                {if extendable { " because of inactivity." } else { ". Sign in again to continue." }}
                            </p>
                            <div class="actions">
                                {extendable.then(|| view! {
                                    <button
                                        type="button"
                                        class="button"
                                        node_ref=stay_button
                                        disabled=move || stay.pending().get()
                                        on:click=move |_| { stay.dispatch(()); }
                                    >
                                        "Stay signed in"
                                    </button>
                                })}
                                <button
                                    type="button"
                                    class="button secondary"
                                    node_ref=sign_out_button
                                    disabled=move || leaving.get()
                                    on:click=move |_| {
                                        leaving.set(true);
                                        sign_out("signed_out=1");
                                    }
                                >
                                    "Sign out"
                                </button>
                            </div>
                        </div>
                    }
                }}
            })}
        }
    }
}
