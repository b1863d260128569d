//! A signal that changes whenever this tab signs in or out, so every view of
//! "who is signed in" refetches; and whether this tab knows it is signed
//! out, so a protected page reached by a client-side navigation (the back
//! button after signing out) goes to the sign-in form without first
//! calling a server function that can only answer 401.

use leptos::prelude::*;

/// Bumped after sign-in, sign-up, logout and revocations.
#[derive(Clone, Copy, Debug)]
pub struct AuthVersion {
    version: RwSignal<u32>,
    signed_out: RwSignal<bool>,
}

/// What a successful action did to this tab's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Signed in (or up).
    SignedIn,
    /// Signed out (this device, or everywhere).
    SignedOut,
}

impl AuthVersion {
    fn new() -> Self {
        Self {
            version: RwSignal::new(0),
            signed_out: RwSignal::new(false),
        }
    }

    /// Provides a fresh counter to the app.
    pub fn provide() {
        provide_context(Self::new());
    }

    /// The app's counter.
    #[must_use]
    pub fn get() -> Self {
        use_context::<Self>().unwrap_or_else(Self::new)
    }

    /// Tracks the counter (for resource sources).
    #[must_use]
    pub fn track(self) -> u32 {
        self.version.get()
    }

    /// Signals a change, here and (through the client session) in the
    /// other tabs.
    pub fn bump(self) {
        self.version.update(|v| *v = v.wrapping_add(1));
        crate::client_session::ClientSession::get().changed();
    }

    /// Records what the server said about this tab's session (the
    /// navigation asks it after every change).
    pub fn observe(self, signed_in: bool) {
        if self.signed_out.get_untracked() == signed_in {
            self.signed_out.set(!signed_in);
        }
    }

    /// `load`, unless this tab knows it is signed out: then
    /// [`AppError::Unauthorized`] at once, which protected pages turn into
    /// the sign-in form, with no request (and no 401 in the console).
    ///
    /// # Errors
    /// As `load`, or [`AppError::Unauthorized`].
    pub async fn unless_signed_out<T>(
        self,
        load: impl std::future::Future<Output = Result<T, crate::error::AppError>>,
    ) -> Result<T, crate::error::AppError> {
        if self.signed_out.get_untracked() {
            return Err(crate::error::AppError::Unauthorized);
        }
        load.await
    }

    /// Bumps whenever `action` completes successfully, which had `outcome`.
    pub fn bump_on_success<I, E>(self, action: ServerAction<I>, outcome: Outcome)
    where
        I: leptos::server_fn::ServerFn<Output = (), Error = E> + Clone + Send + Sync + 'static,
        E: Send + Sync + Clone + 'static,
        I::Output: Send + Sync,
    {
        Effect::new(move |_| {
            if matches!(action.value().get(), Some(Ok(()))) {
                self.signed_out.set(outcome == Outcome::SignedOut);
                self.bump();
            }
        });
    }
}
