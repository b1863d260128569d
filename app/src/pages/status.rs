//! `/status`: a server-rendered page backed by a server function.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::server_fns::status::system_status;

/// Renders the system status on the server, in the first HTML response.
#[component]
pub fn StatusPage() -> impl IntoView {
    // One `Suspend`, not a closure making one (which the renderer would
    // call three times; `components/protected.rs`).
    let status = system_status();

    view! {
        <Title text="Status" />
        <section class="card">
            <h1>"System status"</h1>
            <p>"Rendered on the server for each request, with data from a server function."</p>
            <Suspense fallback=|| ()>
                {Suspend::new(async move {
                    match status.await {
                        Ok(s) => {
                            view! {
                                <dl class="facts" data-testid="status">
                                    <dt>"Database"</dt>
                                    <dd data-testid="status-database">{s.database}</dd>
                                    <dt>"Migrations applied"</dt>
                                    <dd data-testid="status-migrations">{s.migrations}</dd>
                                    <dt>"Version"</dt>
                                    <dd>{s.version}</dd>
                                </dl>
                            }
                                .into_any()
                        }
                        Err(err) => {
                            view! { <p role="alert" class="error">{err.to_string()}</p> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
