//! A signed-in page's data, in one line: `signed_in(load_x, |x| view! {…})`.
//!
//! A page declared `Session` in the route table is only rendered once the
//! server's session layer has found a session (anonymous requests get a 303
//! to the sign-in page first), and pages render on the server only, after
//! their data (`SsrMode::Async`). So all a page needs is to load its data
//! and render it, with one way to show a failure. A session that ended
//! between the layer's check and the load (revoked meanwhile) goes to the
//! sign-in page like an anonymous request.
//!
//! Everything the page shows comes through `load`: `render` only renders.
//! A resource of its own inside `render` (a nested `Suspense` with its own
//! server function) was seen, under load, to run without the request's
//! context, about once in a hundred renders, and show nothing
//! (`BENCHMARKS.md`, the dashboard's providers entry).

use std::future::Future;

use leptos::prelude::*;

use crate::error::AppError;

/// Loads with `load` and renders the data with `render`; an error shows as
/// an alert, and a session that is gone sends the browser to sign in.
pub fn signed_in<T, F, V>(
    load: impl FnOnce() -> F,
    render: impl FnOnce(T) -> V + Send + 'static,
) -> impl IntoView
where
    F: Future<Output = Result<T, AppError>> + Send + 'static,
    T: Send + 'static,
    V: IntoView + 'static,
{
    // One `Suspend`, not a closure that makes one: the renderer calls a
    // closure child once to look for pending work, once to wait for it and
    // once to write the HTML, and each call loaded the data and rendered the
    // page again (three renders per request; BENCHMARKS.md). A page renders
    // on the server only, so nothing needs the closure's reactivity.
    let data = load();
    view! {
        <Suspense fallback=|| ()>
            {Suspend::new(async move {
                match data.await {
                    Ok(data) => render(data).into_any(),
                    Err(AppError::Unauthorized) => {
                        sign_in_again();
                        ().into_any()
                    }
                    Err(err) => {
                        answer_with_status_of(&err);
                        view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// Redirects this render to the sign-in page, back here afterwards.
#[cfg(feature = "ssr")]
fn sign_in_again() {
    let here = leptos_router::hooks::use_location()
        .pathname
        .get_untracked();
    leptos_axum::redirect(&crate::redirect::via(crate::paths::LOGIN, &here));
}

/// Pages render on the server only.
#[cfg(not(feature = "ssr"))]
fn sign_in_again() {}

/// The page's status says what went wrong (503 while the database is
/// away), as a server function's answer would: a monitor or a proxy sees
/// the failure, not a 200 with an alert in it.
#[cfg(feature = "ssr")]
fn answer_with_status_of(err: &AppError) {
    if let Ok(status) = http::StatusCode::from_u16(err.status()) {
        crate::session::set_status(status);
    }
}

/// Pages render on the server only.
#[cfg(not(feature = "ssr"))]
fn answer_with_status_of(_: &AppError) {}
