//! A signal that changes whenever this tab signs in or out, so every view of
//! "who is signed in" refetches.

use leptos::prelude::*;

/// Bumped after sign-in, sign-up, logout and revocations.
#[derive(Clone, Copy, Debug)]
pub struct AuthVersion(RwSignal<u32>);

impl AuthVersion {
    /// Provides a fresh counter to the app.
    pub fn provide() {
        provide_context(Self(RwSignal::new(0)));
    }

    /// The app's counter.
    #[must_use]
    pub fn get() -> Self {
        use_context::<Self>().unwrap_or_else(|| Self(RwSignal::new(0)))
    }

    /// Tracks the counter (for resource sources).
    #[must_use]
    pub fn track(self) -> u32 {
        self.0.get()
    }

    /// Signals a change, here and (through the client session) in the
    /// other tabs.
    pub fn bump(self) {
        self.0.update(|v| *v = v.wrapping_add(1));
        crate::client_session::ClientSession::get().changed();
    }

    /// Bumps whenever `action` completes successfully.
    pub fn bump_on_success<I, E>(self, action: ServerAction<I>)
    where
        I: leptos::server_fn::ServerFn<Output = (), Error = E> + Clone + Send + Sync + 'static,
        E: Send + Sync + Clone + 'static,
        I::Output: Send + Sync,
    {
        Effect::new(move |_| {
            if matches!(action.value().get(), Some(Ok(()))) {
                self.bump();
            }
        });
    }
}
