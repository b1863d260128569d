//! `when(condition, view)`: a view shown while a condition holds, for the
//! islands.
//!
//! Leptos' `<Show>` takes its fallback as a type-erased view, and a
//! type-erased view costs the bundle every way of rendering one (lazy
//! hydration included), even where there is no fallback, as in every use
//! here. This is `<Show>` without one: the condition memoised, the view
//! built when it turns true and dropped when it turns false.

use leptos::prelude::*;

/// `view` while `condition` holds, nothing otherwise.
pub fn when<V: IntoView + 'static>(
    condition: impl Fn() -> bool + Send + Sync + 'static,
    view: impl Fn() -> V + Send + Sync + 'static,
) -> impl IntoView {
    let shown = Memo::new(move |_| condition());
    move || shown.get().then(&view)
}
