//! `/dashboard` (protected): the user, their security notices and the
//! current session, rendered on the server in the first HTML response; the
//! times count live once the page has hydrated. Dismissing a notice is a
//! POST form that also works without JavaScript; one raised since this
//! session began asks for a credential first (whoever caused it cannot
//! erase it).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};

use crate::{
    components::{auth_state::AuthVersion, form_error::FormError, reauth_prompt::ReauthPrompt},
    csrf::CsrfField,
    error::AppError,
    format::{ago, countdown, utc},
    server_fns::account::{load_dashboard, DismissNotice, NoticeView},
    session_clock::{SessionClock, SessionTimes},
};

/// The signed-in user's overview.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let auth = AuthVersion::get();
    let dismiss = ServerAction::<DismissNotice>::new();
    let data = Resource::new(
        move || dismiss.version().get(),
        move |_| auth.unless_signed_out(load_dashboard()),
    );
    let dismiss_error = Signal::derive(move || dismiss.value().get().and_then(Result::err));
    let clock = SessionClock::get();

    view! {
        <Title text="Dashboard" />
        // Outside the data's Suspense, which reloads after each dismissal:
        // the prompt keeps the dismissal to retry once confirmed.
        <ReauthPrompt action=dismiss />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => {
                        let s = d.session.clone();
                        // The server's numbers as rendered; once the browser
                        // clock runs, the newest known (the idle prompt's
                        // refresh moves them) against the ticking time.
                        let rendered = SessionTimes {
                            last_seen_at: s.last_seen_at,
                            idle_expires_at: s.idle_expires_at,
                            expires_at: s.expires_at,
                            warn_before: 0,
                            now: d.now,
                        };
                        let times = move || clock.times().filter(|t| t.now >= rendered.now).unwrap_or(rendered);
                        let now = move || clock.now().unwrap_or(rendered.now);
                        let created = s.created_at;
                        view! {
                            <section class="card">
                                <h1>"Hello, " <span data-testid="dashboard-user">{d.display_name.clone()}</span></h1>
                                <p class="muted">"Signed in as " {d.username.clone()} ". This page was rendered on the server after validating your session."</p>
                            </section>
                            {(!d.notices.is_empty()).then(|| view! {
                                <section class="card notices" aria-labelledby="notices-title">
                                    <h2 id="notices-title">"Security notices"</h2>
                                    <FormError error=dismiss_error />
                                    <ul class="notice-list" data-testid="notices">
                                        {d.notices.clone().into_iter().map(|n| view! { <Notice notice=n dismiss /> }).collect_view()}
                                    </ul>
                                </section>
                            })}
                            <section class="card">
                                <h2>"This session"</h2>
                                <dl class="facts" data-testid="session-facts">
                                    <dt>"Device"</dt><dd>{s.device.clone()}</dd>
                                    <dt>"Created"</dt>
                                    <dd>{utc(created)} " · " <span data-testid="created-ago">{move || ago(now() - created)}</span></dd>
                                    <dt>"Last active"</dt>
                                    <dd>
                                        {move || utc(times().last_seen_at)} " · "
                                        <span data-testid="last-active">{move || ago(now() - times().last_seen_at)}</span>
                                    </dd>
                                    <dt>"Idle expiry"</dt>
                                    <dd>
                                        {move || utc(times().idle_expires_at)} " · "
                                        <span data-testid="idle-countdown">{move || countdown(times().idle_expires_at - now())}</span>
                                    </dd>
                                    <dt>"Absolute expiry"</dt>
                                    <dd>
                                        {utc(s.expires_at)} " · "
                                        <span data-testid="absolute-countdown">{move || countdown(s.expires_at - now())}</span>
                                    </dd>
                                    <dt>"Remember me"</dt><dd>{if s.persistent { "yes" } else { "no" }}</dd>
                                </dl>
                                <p><A href="/account/sessions">"Manage all your sessions →"</A></p>
                            </section>
                            <section class="card">
                                <h2>"Account"</h2>
                                <ul class="links">
                                    <li><A href="/account/passkeys">"Passkeys"</A></li>
                                    <li><A href="/account/password">"Change your password"</A></li>
                                    <li><A href="/account/delete">"Delete your account"</A></li>
                                </ul>
                                <p class="muted small">"Both ask for your password again if you last entered it more than a few minutes ago."</p>
                            </section>
                            <section class="card">
                                <h2>"Recent activity"</h2>
                                <ul class="events" data-testid="events">
                                    {d.events.into_iter().map(|e| view! {
                                        <li>
                                            <span>
                                                {e.description}
                                                {(e.count > 1).then(|| format!(" (×{} that day)", e.count))}
                                            </span>
                                            <span class="muted">{utc(e.at)} {e.ip_address.map(|ip| format!(" · {ip}"))}</span>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            </section>
                        }.into_any()
                    }
                    Err(AppError::Unauthorized) => view! { <Redirect path="/login?next=/dashboard" /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// One notice with its dismiss form.
#[component]
fn Notice(notice: NoticeView, dismiss: ServerAction<DismissNotice>) -> impl IntoView {
    view! {
        <li class="notice" data-testid="notice">
            <div>
                <p>{notice.message}</p>
                <p class="muted small">{utc(notice.at)} {notice.source.map(|s| format!(" · {s}"))}</p>
            </div>
            <ActionForm action=dismiss attr:class="inline-form">
                <CsrfField />
                <input type="hidden" name="id" value=notice.id />
                <button type="submit" class="button secondary small"
                    data-dismissable=notice.dismissable.to_string()>
                    {if notice.dismissable { "Dismiss" } else { "Confirm it's you to dismiss" }}
                </button>
            </ActionForm>
        </li>
    }
}
