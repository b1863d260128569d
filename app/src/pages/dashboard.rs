//! `/dashboard` (protected): the user and the current session, rendered on
//! the server in the first HTML response.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};

use crate::{
    error::AppError,
    format::{countdown, utc},
    server_fns::account::load_dashboard,
};

/// The signed-in user's overview.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |()| load_dashboard());

    view! {
        <Title text="Dashboard" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => {
                        let s = d.session.clone();
                        view! {
                            <section class="card">
                                <h1>"Hello, " <span data-testid="dashboard-user">{d.display_name.clone()}</span></h1>
                                <p class="muted">"Signed in as " {d.username.clone()} ". This page was rendered on the server after validating your session."</p>
                            </section>
                            <section class="card">
                                <h2>"This session"</h2>
                                <dl class="facts" data-testid="session-facts">
                                    <dt>"Device"</dt><dd>{s.device.clone()}</dd>
                                    <dt>"Created"</dt><dd>{utc(s.created_at)}</dd>
                                    <dt>"Last active"</dt><dd>{utc(s.last_seen_at)}</dd>
                                    <dt>"Idle expiry"</dt>
                                    <dd>{utc(s.idle_expires_at)} " (" {countdown(s.idle_expires_at - d.now)} ")"</dd>
                                    <dt>"Absolute expiry"</dt>
                                    <dd>{utc(s.expires_at)} " (" {countdown(s.expires_at - d.now)} ")"</dd>
                                    <dt>"Remember me"</dt><dd>{if s.persistent { "yes" } else { "no" }}</dd>
                                </dl>
                                <p><A href="/account/sessions">"Manage all your sessions →"</A></p>
                            </section>
                            <section class="card">
                                <h2>"Recent activity"</h2>
                                <ul class="events" data-testid="events">
                                    {d.events.into_iter().map(|e| view! {
                                        <li>
                                            <span>{e.description}</span>
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
