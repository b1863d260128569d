//! One request at a time, shared: callers arriving while a future is in
//! flight await the same one instead of starting their own. The browser app
//! needs this wherever two overlapping requests would step on each other
//! (a token refresh, a CSRF token fetch). Browser-only: WASM is single
//! threaded, so the slot lives in a `thread_local!`.

use std::{cell::RefCell, future::Future, thread::LocalKey};

use futures::{
    future::{LocalBoxFuture, Shared},
    FutureExt as _,
};

/// The slot holding the future in flight, if any.
pub struct Slot<T: Clone>(RefCell<Option<Shared<LocalBoxFuture<'static, T>>>>);

impl<T: Clone> Slot<T> {
    /// An empty slot, for a `thread_local!` initialiser.
    #[must_use]
    pub const fn new() -> Self {
        Self(RefCell::new(None))
    }
}

impl<T: Clone> Default for Slot<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Joins the future in flight in `slot`, or starts `start()` there. Once it
/// completes, the slot is emptied only if it still holds that same future,
/// so a newer one started meanwhile stays shared.
pub async fn join<T, F>(slot: &'static LocalKey<Slot<T>>, start: impl FnOnce() -> F) -> T
where
    T: Clone + 'static,
    F: Future<Output = T> + 'static,
{
    let pending = slot.with(|s| {
        s.0.borrow_mut()
            .get_or_insert_with(|| start().boxed_local().shared())
            .clone()
    });
    let output = pending.clone().await;
    slot.with(|s| {
        let mut current = s.0.borrow_mut();
        if current.as_ref().is_some_and(|f| f.ptr_eq(&pending)) {
            *current = None;
        }
    });
    output
}
