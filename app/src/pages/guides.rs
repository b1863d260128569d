//! `/guides` and `/guides/:slug`: prerendered for every guide.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    error::AppError,
    guides::{load_guide, GUIDES},
    pages::not_found::NotFound,
};

/// The list of guides.
#[component]
pub fn GuideIndexPage() -> impl IntoView {
    view! {
        <Title text="Guides" />
        <section class="card">
            <h1>"Guides"</h1>
            <p class="muted">"Short how-tos for building on this template."</p>
            <ul class="guide-list">
                {GUIDES.iter().map(|(slug, title)| view! {
                    <li><a href=format!("/guides/{slug}")>{*title}</a></li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// One guide.
#[component]
pub fn GuidePage() -> impl IntoView {
    let params = use_params_map();
    let guide = Resource::new(
        move || params.read().get("slug").unwrap_or_default(),
        load_guide,
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match guide.await {
                    Ok(g) => view! {
                        <Title text=g.title.clone() />
                        <article class="card prose guide">
                            <p class="muted"><a href="/guides">"← All guides"</a></p>
                            <h1>{g.title}</h1>
                            <div class="guide-body" inner_html=g.html />
                        </article>
                    }.into_any(),
                    Err(AppError::NotFound) => view! { <NotFound /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
