//! The inline error of a form: always present, so screen readers announce
//! its content when it changes (`aria-live`).

use leptos::prelude::*;

use crate::error::AppError;

/// Shows `error` (or nothing) in a live region.
#[component]
pub fn FormError(
    /// The error to show, if any.
    #[prop(into)]
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <p class="form-error" role="alert" aria-live="assertive" data-testid="form-error">
            {move || error.get().map(|e| e.to_string())}
        </p>
    }
}

/// The error to show: the action's, or else one carried by `?error=` after a
/// form post without JavaScript.
pub fn form_error<I>(action: ServerAction<I>) -> Signal<Option<AppError>>
where
    I: leptos::server_fn::ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    let query = leptos_router::hooks::use_query_map();
    Signal::derive(move || match action.value().get() {
        Some(Err(err)) => Some(err),
        Some(Ok(())) => None,
        None => query
            .read()
            .get("error")
            .and_then(|c| AppError::from_code(&c)),
    })
}
