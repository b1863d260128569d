//! `/dashboard` (protected): the user, their security notices and the
//! current session, rendered on the server in the first HTML response; the
//! times count live in the page's `SessionFacts` island. Dismissing a
//! notice is a POST form that also works without JavaScript; one raised
//! since this session began asks for a credential first (whoever caused it
//! cannot erase it).

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::{in_place_form::InPlaceForm, protected::signed_in, session_facts::SessionFacts},
    csrf::CsrfField,
    format::utc,
    server_fns::account::{load_dashboard, DismissNotice, NoticeView},
};

/// The signed-in user's overview.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = use_query_map();
    let error = query.read_untracked().get("error");
    let reset = query.read_untracked().get("reset").is_some();

    view! {
        <Title text="Dashboard" />
        {signed_in(load_dashboard, move |d| {
            let error = error.clone();
            view! {
                {reset.then(|| view! {
                    <p class="success" role="status" data-testid="password-reset">
                        "Your password has been reset, and every other device has been signed out."
                    </p>
                })}
                <section class="card">
                    <h1>"Hello, " <span data-testid="dashboard-user">{d.display_name.clone()}</span></h1>
                    <p class="muted">"Signed in as " {d.username.clone()} ". This page was rendered on the server after validating your session."</p>
                </section>
                {(!d.notices.is_empty()).then(|| view! {
                    <section class="card notices" aria-labelledby="notices-title">
                        <h2 id="notices-title">"Security notices"</h2>
                        <ul class="notice-list" data-testid="notices">
                            {d.notices.clone().into_iter().enumerate().map(|(i, n)| {
                                let error = error.clone().filter(|_| i == 0);
                                view! { <Notice notice=n error /> }
                            }).collect_view()}
                        </ul>
                    </section>
                })}
                <section class="card">
                    <h2>"This session"</h2>
                    <SessionFacts session=d.session.clone() now=d.now />
                    <p><a href="/account/sessions">"Manage all your sessions →"</a></p>
                </section>
                <section class="card">
                    <h2>"Account"</h2>
                    <ul class="links">
                        <li><a href="/account/passkeys">"Passkeys"</a></li>
                        <li><a href="/account/email">"Email address"</a></li>
                        {d.providers.then(|| view! {
                            <li><a href=crate::paths::PROVIDERS>"Sign-in providers"</a></li>
                        })}
                        <li><a href="/account/password">"Change your password"</a></li>
                        <li><a href="/account/delete">"Delete your account"</a></li>
                    </ul>
                    <p class="muted small">"Changes here ask for your password again if you last entered it more than a few minutes ago."</p>
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
            }
        })}
    }
}

/// One notice with its dismiss form (the first carries a plain post's
/// error, if it came back with one).
#[component]
fn Notice(notice: NoticeView, error: Option<String>) -> impl IntoView {
    view! {
        <li class="notice" data-testid="notice">
            <div>
                <p>{notice.message}</p>
                <p class="muted small">{utc(notice.at)} {notice.source.map(|s| format!(" · {s}"))}</p>
            </div>
            <InPlaceForm action=DismissNotice::url().to_owned() class="inline-form".to_owned()
                error=error confirm=true id=format!("notice-{}", notice.id)>
                <CsrfField />
                <input type="hidden" name="id" value=notice.id />
                <button type="submit" class="button secondary small"
                    data-dismissable=notice.dismissable.to_string()>
                    {if notice.dismissable { "Dismiss" } else { "Confirm it's you to dismiss" }}
                </button>
            </InPlaceForm>
        </li>
    }
}
