//! `when(condition, view)`: a view shown while a condition holds, for the
//! islands.
//!
//! Leptos' `<Show>` takes its fallback as a type-erased view, and a
//! type-erased view costs the bundle every way of rendering one (lazy
//! hydration included), even where there is no fallback, as in every use
//! here. This is `<Show>` without one: the condition memoised, the view
//! built when it turns true and dropped when it turns false.
//!
//! On the server an island renders once, so the condition is read once,
//! with nothing kept to react to it: the same HTML (the view, or the
//! placeholder of none), at a fraction of a memo's cost per render.

use leptos::prelude::*;

/// `view` while `condition` holds, nothing otherwise.
#[cfg(feature = "hydrate")]
pub fn when<V: IntoView + 'static>(
    condition: impl Fn() -> bool + Send + Sync + 'static,
    view: impl Fn() -> V + Send + Sync + 'static,
) -> impl IntoView {
    let shown = Memo::new(move |_| condition());
    move || shown.get().then(&view)
}

/// `view` if `condition` holds as the server renders.
#[cfg(not(feature = "hydrate"))]
pub fn when<V: IntoView + 'static>(
    condition: impl Fn() -> bool + Send + Sync + 'static,
    view: impl Fn() -> V + Send + Sync + 'static,
) -> impl IntoView {
    condition().then(view)
}

#[cfg(all(test, not(feature = "hydrate")))]
mod tests {
    use super::*;

    /// The browser's `when` is a closure over a memo; this is the HTML such
    /// a closure renders, which the browser then hydrates.
    fn as_a_closure(shown: bool) -> String {
        let view = move || shown.then(|| view! { <p>"shown"</p> });
        view.to_html()
    }

    #[test]
    fn the_server_renders_what_the_browser_hydrates() {
        for shown in [true, false] {
            let server = when(move || shown, || view! { <p>"shown"</p> }).to_html();
            assert_eq!(server, as_a_closure(shown), "shown: {shown}");
        }
        assert_eq!(as_a_closure(false), "<!>", "none is a placeholder");
    }
}
