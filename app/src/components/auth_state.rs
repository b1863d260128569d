//! A signal that changes whenever this tab signs in or out, so every view of
//! "who is signed in" refetches; and whether this tab knows it is signed
//! out, so a protected page reached by a client-side navigation (the back
//! button after signing out) goes to the sign-in form without first
//! calling a server function that can only answer 401.
//!
//! A protected page that starts loading while a sign-out is on its way
//! (the link clicked right after "Sign out", or a page still arriving when
//! the button was pressed) waits for the sign-out to settle: its request
//! would otherwise reach a server that has already ended the session, and
//! come back 401.

use std::{
    cell::RefCell,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use futures::channel::oneshot;
use leptos::prelude::*;

/// Bumped after sign-in, sign-up, logout and revocations.
#[derive(Clone, Copy, Debug)]
pub struct AuthVersion {
    version: RwSignal<u32>,
    signed_out: RwSignal<bool>,
    /// Sign-out actions in flight.
    signing_out: RwSignal<u32>,
}

thread_local! {
    /// Loads waiting for the sign-outs in flight to settle. Browser-only
    /// in practice: a server render never signs out.
    static WAITING: RefCell<Vec<oneshot::Sender<()>>> = const { RefCell::new(Vec::new()) };
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
            signing_out: RwSignal::new(0),
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
    /// the sign-in form, with no request (and no 401 in the console). While
    /// a sign-out is in flight, it first waits for it to settle.
    ///
    /// # Errors
    /// As `load`, or [`AppError::Unauthorized`].
    pub async fn unless_signed_out<T>(
        self,
        load: impl std::future::Future<Output = Result<T, crate::error::AppError>>,
    ) -> Result<T, crate::error::AppError> {
        if self.signing_out.get_untracked() > 0 {
            let (tx, rx) = oneshot::channel();
            WAITING.with(|w| w.borrow_mut().push(tx));
            // A dropped sender (the tab going away) settles it too.
            let _ = rx.await;
        }
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
        if outcome == Outcome::SignedOut {
            self.track_sign_out(action);
        }
    }

    /// Counts `action` among the sign-outs in flight while it is pending.
    /// When the last one settles, the loads waiting on them go on, after
    /// `signed_out` says how it ended. (The action lowers `pending` and
    /// sets its value in one step, so both are current here.) A form taken
    /// off the page mid-flight settles too, so nothing waits forever.
    fn track_sign_out<I, E>(self, action: ServerAction<I>)
    where
        I: leptos::server_fn::ServerFn<Output = (), Error = E> + Clone + Send + Sync + 'static,
        E: Send + Sync + Clone + 'static,
        I::Output: Send + Sync,
    {
        let pending = action.pending();
        let counted = Arc::new(AtomicBool::new(false));
        Effect::new({
            let counted = Arc::clone(&counted);
            move |_| {
                if pending.get() {
                    if !counted.swap(true, Ordering::Relaxed) {
                        self.signing_out.update(|n| *n += 1);
                    }
                } else if counted.swap(false, Ordering::Relaxed) {
                    if matches!(action.value().get_untracked(), Some(Ok(()))) {
                        self.signed_out.set(true);
                    }
                    self.settle_one();
                }
            }
        });
        on_cleanup(move || {
            if counted.swap(false, Ordering::Relaxed) {
                self.settle_one();
            }
        });
    }

    /// One sign-out fewer in flight; the last one lets the waiting loads go.
    fn settle_one(self) {
        let left = self
            .signing_out
            .try_update(|n| {
                *n = n.saturating_sub(1);
                *n
            })
            .unwrap_or(0);
        if left == 0 {
            for waiting in WAITING.with(|w| std::mem::take(&mut *w.borrow_mut())) {
                let _ = waiting.send(());
            }
        }
    }
}
