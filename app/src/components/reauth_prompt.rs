//! The password prompt of a hydrated page whose action answered
//! [`AppError::ReauthRequired`]: the user confirms in place, and the action
//! is sent again with the same input. (Without JavaScript the server sends
//! the form to `/account/confirm` instead, which returns to the page.)

use leptos::{html, prelude::*, server_fn::ServerFn};

use crate::{
    components::{form_error::FormError, passkey::PasskeyConfirm},
    csrf::CsrfField,
    error::AppError,
    server_fns::security::ConfirmPassword,
};

/// Shown while `action`'s last answer asks for the password again. A page
/// with several prompts names each with its own `id` (the prefix of its
/// element ids).
#[component]
pub fn ReauthPrompt<I>(
    /// The action to retry once the password is confirmed.
    action: ServerAction<I>,
    /// The prefix of the prompt's element ids.
    #[prop(default = "reauth")]
    id: &'static str,
) -> impl IntoView
where
    I: ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    // The input is cleared once the action resolves: keep the last one, to
    // send again after the confirmation.
    let last = StoredValue::new(None::<I>);
    Effect::new(move |_| {
        if let Some(input) = action.input().get() {
            last.set_value(Some(input));
        }
    });
    let confirm = ServerAction::<ConfirmPassword>::new();
    let dismissed = RwSignal::new(false);
    Effect::new(move |_| {
        if matches!(confirm.value().get(), Some(Ok(()))) {
            if let Some(input) = last.get_value() {
                action.dispatch(input);
            }
        }
    });
    // A new answer of the action shows the prompt again if it asks.
    Effect::new(move |_| {
        action.version().track();
        dismissed.set(false);
    });
    let needed = move || {
        !dismissed.get() && matches!(action.value().get(), Some(Err(AppError::ReauthRequired)))
    };
    let error = Signal::derive(move || confirm.value().get().and_then(Result::err));
    // Confirmed with a passkey instead: the same retry.
    let retry = Callback::new(move |()| {
        if let Some(input) = last.get_value() {
            action.dispatch(input);
        }
    });
    let input = NodeRef::<html::Input>::new();
    input.on_load(|el| {
        let _ = el.focus();
    });

    view! {
        <Show when=needed>
            <div class="reauth" role="group" aria-labelledby=format!("{id}-title") data-testid="reauth-prompt">
                <h2 id=format!("{id}-title")>"Confirm it's you"</h2>
                <p class="muted">"Enter your password, or use a passkey, to continue. We will then finish what you asked."</p>
                <ActionForm action=confirm attr:class="form">
                    <CsrfField />
                    <div class="field">
                        <label for=format!("{id}-password")>"Password"</label>
                        <input id=format!("{id}-password") name="password" type="password" node_ref=input
                            autocomplete="current-password" required maxlength="128" />
                    </div>
                    <FormError error />
                    <div class="actions">
                        <button type="submit" class="button">"Confirm"</button>
                        <button type="button" class="button secondary"
                            on:click=move |_| dismissed.set(true)>"Cancel"</button>
                    </div>
                </ActionForm>
                <PasskeyConfirm next="" confirmed=retry />
            </div>
        </Show>
    }
}
