//! The browser half of [`super::ClientSession`]: the token, its refresh
//! schedule, the snapshot in `localStorage` and the cross-tab channel. Only
//! in the WASM build; the server build compiles the no-op twin
//! (`server.rs`) with the same signatures instead.

use std::{cell::RefCell, time::Duration};

use leptos::{prelude::*, task::spawn_local};
use wasm_bindgen::{closure::Closure, JsCast as _};

use super::{ClientSession, ClientState, TokenResponse, TokenStorage};
use crate::record::{Kept, Record};

// Browser-only, like this file (beside it: a `#[path]` module's children are).
mod dpop;

const SNAPSHOT_KEY: &str = "leptos-sessions.snapshot";
/// `localStorage`, with `TOKEN_STORAGE=local`: the token and its expiry.
const TOKEN_KEY: &str = "leptos-sessions.access-token";
/// `sessionStorage`, by default: a bound token's whole answer and expiry.
const TAB_TOKEN_KEY: &str = "leptos-sessions.token";
const CHANNEL: &str = "leptos-sessions";

thread_local! {
    static SHARED: ClientSession = crate::page_wide::for_the_page(ClientSession::new);
}

pub fn shared() -> ClientSession {
    SHARED.with(|session| *session)
}

/// A bound token kept for the tab (`{token, expires_at_ms}`), with its
/// expiry in this browser's time.
struct TabToken {
    token: TokenResponse,
    expires_at_ms: f64,
}

impl TabToken {
    fn load() -> Option<Self> {
        let kept = Kept::Tab.get(TAB_TOKEN_KEY)?;
        Some(Self {
            token: token_of(&kept.record("token")?)?,
            expires_at_ms: kept.number("expires_at_ms")?,
        })
    }

    fn save(&self) {
        let kept = Record::new()
            .with_record("token", &token_record(&self.token))
            .with("expires_at_ms", self.expires_at_ms);
        Kept::Tab.set(TAB_TOKEN_KEY, &kept);
    }
}

/// Non-secret summary kept across page loads.
struct Snapshot {
    name: String,
    session_expires_at: i64,
}

impl Snapshot {
    fn load() -> Option<Self> {
        let kept = Kept::Local.get(SNAPSHOT_KEY)?;
        Some(Self {
            name: kept.string("name")?,
            session_expires_at: kept.integer("session_expires_at")?,
        })
    }

    fn save(&self) {
        let kept = Record::new()
            .with("name", self.name.as_str())
            .with_integer("session_expires_at", self.session_expires_at);
        Kept::Local.set(SNAPSHOT_KEY, &kept);
    }
}

/// The refresh's answer, read from its JSON.
fn token_of(answer: &Record) -> Option<TokenResponse> {
    Some(TokenResponse {
        access_token: answer.string("access_token")?,
        token_type: answer.string("token_type")?,
        expires_in: answer.integer("expires_in")?,
        expires_at: answer.integer("expires_at")?,
        name: answer.string("name")?,
        session_expires_at: answer.integer("session_expires_at")?,
        session_idle_expires_at: answer.integer("session_idle_expires_at")?,
    })
}

/// [`token_of`]'s inverse, to keep a token for the tab.
fn token_record(token: &TokenResponse) -> Record {
    Record::new()
        .with("access_token", token.access_token.as_str())
        .with("token_type", token.token_type.as_str())
        .with_integer("expires_in", token.expires_in)
        .with_integer("expires_at", token.expires_at)
        .with("name", token.name.as_str())
        .with_integer("session_expires_at", token.session_expires_at)
        .with_integer("session_idle_expires_at", token.session_idle_expires_at)
}

#[derive(Default)]
struct Inner {
    token: Option<(String, f64)>,
    /// Whether the token is bound to this browser's DPoP key (the server
    /// said `token_type: "DPoP"`): it is then sent with a proof.
    bound: bool,
    timer: Option<TimeoutHandle>,
    channel: Option<web_sys::BroadcastChannel>,
    started: bool,
    /// Someone used the page since the last refresh.
    active: bool,
    /// A scheduled refresh was skipped for want of activity: the next
    /// activity performs it.
    due: bool,
    listening: bool,
}

thread_local! {
    static INNER: RefCell<Inner> = RefCell::new(Inner::default());
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn token_storage() -> TokenStorage {
    document()
        .query_selector("meta[name=token-storage]")
        .ok()
        .flatten()
        .and_then(|m| m.get_attribute("content"))
        .map_or(TokenStorage::Session, |v| TokenStorage::parse(&v))
}

fn use_local_storage() -> bool {
    token_storage() == TokenStorage::Local
}

/// Marks the session client started; `false` if it already was.
fn first_start() -> bool {
    INNER.with_borrow_mut(|i| !std::mem::replace(&mut i.started, true))
}

pub fn start(session: ClientSession) {
    if !first_start() {
        return;
    }
    listen_to_other_tabs(session);
    // A bound token this tab obtained on an earlier page: no request.
    if let Some(kept) = TabToken::load() {
        if kept.expires_at_ms - now_ms() > 2_000.0 && token_storage() == TokenStorage::Session {
            adopt(session, &kept.token, kept.expires_at_ms);
            return;
        }
    }
    if let Some(snap) = Snapshot::load() {
        if snap.session_expires_at * 1000 > now_ms() as i64 {
            session.state.set(ClientState::SignedIn {
                name: snap.name,
                session_expires_at: snap.session_expires_at,
                token_expires_at: 0,
                confirmed: false,
            });
        }
    }
    if use_local_storage() {
        if let Some(kept) = Kept::Local.get(TOKEN_KEY) {
            if let (Some(token), Some(exp)) = (kept.string("token"), kept.number("expires_at_ms")) {
                INNER.with_borrow_mut(|i| i.token = Some((token, exp)));
            }
        }
    }
    spawn_local(async move {
        access_token(session).await;
    });
}

pub fn observe_server(session: ClientSession, signed_in: Option<(String, i64)>) {
    if !first_start() {
        return;
    }
    listen_to_other_tabs(session);
    let known = Snapshot::load();
    match signed_in {
        Some((name, session_expires_at)) => {
            let changed = known.as_ref().is_none_or(|k| k.name != name);
            Snapshot {
                name: name.clone(),
                session_expires_at,
            }
            .save();
            session.state.set(ClientState::SignedIn {
                name,
                session_expires_at,
                token_expires_at: 0,
                confirmed: true,
            });
            if changed {
                forget_token();
                announce_to_other_tabs();
            }
        }
        None => {
            session.state.set(ClientState::SignedOut);
            if known.is_some() {
                forget_token();
                Kept::Local.delete(SNAPSHOT_KEY);
                announce_to_other_tabs();
            }
        }
    }
}

pub fn announce(_: ClientSession) {
    forget_token();
    announce_to_other_tabs();
}

/// Drops the token wherever it is kept.
fn forget_token() {
    INNER.with_borrow_mut(|i| i.token = None);
    Kept::Local.delete(TOKEN_KEY);
    Kept::Tab.delete(TAB_TOKEN_KEY);
}

pub async fn access_token(session: ClientSession) -> Option<String> {
    let fresh = INNER.with_borrow(|i| {
        i.token
            .as_ref()
            .filter(|(_, exp)| *exp - now_ms() > 2_000.0)
            .map(|(t, _)| t.clone())
    });
    if let Some(token) = fresh {
        if !matches!(
            session.state.get_untracked(),
            ClientState::SignedIn {
                confirmed: true,
                ..
            }
        ) {
            // A token from localStorage: confirm the state once.
            return refresh(session).await.map(|r| r.access_token);
        }
        return Some(token);
    }
    refresh(session).await.map(|r| r.access_token)
}

/// The refresh endpoint (also the `htu` of its DPoP proofs).
const REFRESH_PATH: &str = "/api/auth/refresh";

thread_local! {
    static REFRESH: crate::single_flight::Slot<Option<TokenResponse>> =
        const { crate::single_flight::Slot::new() };
}

/// One refresh at a time: callers arriving while one is in flight share
/// its result. Two at once would present the same refresh token twice,
/// which the server takes for reuse.
pub async fn refresh(session: ClientSession) -> Option<TokenResponse> {
    crate::single_flight::join(&REFRESH, || do_refresh(session)).await
}

async fn do_refresh(session: ClientSession) -> Option<TokenResponse> {
    INNER.with_borrow_mut(|i| {
        i.active = false;
        i.due = false;
    });
    // Sign-in always sets the CSRF cookie; without one this browser has
    // no session here, and the server would refuse the call anyway.
    let Some(csrf) = crate::csrf::header_value() else {
        signed_out(session);
        return None;
    };
    let mut request = crate::fetch::Request::post(REFRESH_PATH)
        .header("Accept", "application/json")
        .header(crate::csrf::HEADER, &csrf);
    if let Some(proof) = dpop::proof("POST", REFRESH_PATH, None).await {
        request = request.header("DPoP", &proof);
    }
    let response = request.send().await;
    if let Ok(res) = &response {
        crate::session_clock::observe_header(res.header(crate::session_clock::HEADER).as_deref());
    }
    match response {
        Ok(res) if res.status() == 200 => {
            let token = res.json().await.ok().as_ref().and_then(token_of)?;
            accept(session, &token);
            Some(token)
        }
        // 204: no refresh cookie at all; 401: invalid, reused or ended.
        Ok(res) if res.status() == 204 || res.status() == 401 => {
            signed_out(session);
            None
        }
        // Network or server trouble: keep what we show, retry later.
        _ => {
            schedule(session, 10_000.0, Need::Nothing);
            None
        }
    }
}

fn accept(session: ClientSession, token: &TokenResponse) {
    let expires_at_ms = now_ms() + token.expires_in as f64 * 1000.0;
    match token_storage() {
        TokenStorage::Local => {
            let kept = Record::new()
                .with("token", token.access_token.as_str())
                .with("expires_at_ms", expires_at_ms);
            Kept::Local.set(TOKEN_KEY, &kept);
        }
        // Kept for the next page only when bound: copied out, it is
        // useless without this browser's key.
        TokenStorage::Session if token.is_bound() => {
            TabToken {
                token: token.clone(),
                expires_at_ms,
            }
            .save();
        }
        TokenStorage::Session | TokenStorage::Memory => {}
    }
    session.refreshes.update(|n| *n += 1);
    adopt(session, token, expires_at_ms);
}

/// Holds `token` (expiring at `expires_at_ms`) and shows its session.
fn adopt(session: ClientSession, token: &TokenResponse, expires_at_ms: f64) {
    INNER.with_borrow_mut(|i| {
        i.token = Some((token.access_token.clone(), expires_at_ms));
        i.bound = token.is_bound();
    });
    Snapshot {
        name: token.name.clone(),
        session_expires_at: token.session_expires_at,
    }
    .save();
    session.state.set(ClientState::SignedIn {
        name: token.name.clone(),
        session_expires_at: token.session_expires_at,
        token_expires_at: token.expires_at,
        confirmed: true,
    });
    // Refresh at 80% of the lifetime, at least one second ahead, if
    // someone is using the page by then.
    let lifetime = expires_at_ms - now_ms();
    listen_for_activity(session);
    schedule(
        session,
        (lifetime * 0.8).min(lifetime - 1_000.0).max(500.0),
        Need::Activity,
    );
}

/// Marks activity; performs a refresh that was skipped for want of it.
fn listen_for_activity(session: ClientSession) {
    if INNER.with_borrow_mut(|i| std::mem::replace(&mut i.listening, true)) {
        return;
    }
    let on_activity = Closure::<dyn Fn()>::new(move || {
        let due = INNER.with_borrow_mut(|i| {
            i.active = true;
            std::mem::take(&mut i.due)
        });
        if due {
            spawn_local(async move {
                refresh(session).await;
            });
        }
    });
    let options = web_sys::AddEventListenerOptions::new();
    options.set_passive(true);
    for event in [
        "pointerdown",
        "pointermove",
        "keydown",
        "wheel",
        "touchstart",
    ] {
        let _ = window().add_event_listener_with_callback_and_add_event_listener_options(
            event,
            on_activity.as_ref().unchecked_ref(),
            &options,
        );
    }
    on_activity.forget();
}

fn signed_out(session: ClientSession) {
    INNER.with_borrow_mut(|i| {
        if let Some(timer) = i.timer.take() {
            timer.clear();
        }
    });
    forget_token();
    Kept::Local.delete(SNAPSHOT_KEY);
    session.state.set(ClientState::SignedOut);
}

/// When a scheduled refresh may run.
#[derive(Clone, Copy)]
enum Need {
    /// Always (a retry after a network or server failure).
    Nothing,
    /// Only if someone used the page since the last refresh; otherwise
    /// it is marked due and the next activity performs it.
    Activity,
}

fn schedule(session: ClientSession, after_ms: f64, need: Need) {
    let handle = set_timeout_with_handle(
        move || {
            let go = match need {
                Need::Nothing => true,
                Need::Activity => INNER.with_borrow_mut(|i| {
                    i.due = !i.active;
                    i.active
                }),
            };
            if go {
                spawn_local(async move {
                    refresh(session).await;
                });
            }
        },
        Duration::from_millis(after_ms as u64),
    )
    .ok();
    INNER.with_borrow_mut(|i| {
        if let Some(old) = std::mem::replace(&mut i.timer, handle) {
            old.clear();
        }
    });
}

/// Sign-in or logout happened (here, or in another tab when `announce`
/// is false): forget the token and ask the server again.
pub fn changed(session: ClientSession, announce: bool) {
    forget_token();
    if announce {
        announce_to_other_tabs();
    }
    spawn_local(async move {
        refresh(session).await;
    });
}

/// Tells the other tabs (a channel posts to every other one of its name,
/// never to itself).
fn announce_to_other_tabs() {
    INNER.with_borrow_mut(|i| {
        if i.channel.is_none() {
            i.channel = web_sys::BroadcastChannel::new(CHANNEL).ok();
        }
        if let Some(channel) = &i.channel {
            let _ = channel.post_message(&"changed".into());
        }
    });
}

fn listen_to_other_tabs(session: ClientSession) {
    if let Ok(channel) = web_sys::BroadcastChannel::new(CHANNEL) {
        let on_message = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_| {
            changed(session, false);
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        INNER.with_borrow_mut(|i| i.channel = Some(channel));
    }
    // Fallback for browsers without BroadcastChannel: another tab
    // writing or deleting the snapshot.
    let on_storage =
        Closure::<dyn Fn(web_sys::StorageEvent)>::new(move |ev: web_sys::StorageEvent| {
            if ev.key().as_deref() == Some(SNAPSHOT_KEY) {
                let signed_in = ev.new_value().is_some();
                let known = matches!(session.state.get_untracked(), ClientState::SignedIn { .. });
                if signed_in != known {
                    changed(session, false);
                }
            }
        });
    let _ =
        window().add_event_listener_with_callback("storage", on_storage.as_ref().unchecked_ref());
    on_storage.forget();
}

pub async fn call_me(session: ClientSession) -> Result<String, String> {
    const ME: &str = "/api/me";
    let token = access_token(session).await.ok_or("not signed in")?;
    // A token bound to this browser's key goes with a proof of it (RFC
    // 9449 §7): copied out of the page, it is useless elsewhere.
    let request = if INNER.with_borrow(|i| i.bound) {
        let proof = dpop::proof("GET", ME, Some(&token))
            .await
            .ok_or("this browser's key is not available")?;
        crate::fetch::Request::get(ME)
            .header("Authorization", &format!("DPoP {token}"))
            .header("DPoP", &proof)
    } else {
        crate::fetch::Request::get(ME).header("Authorization", &format!("Bearer {token}"))
    };
    let res = request.send().await.map_err(|e| e.to_string())?;
    let status = res.status();
    let body = res.text().await.map_err(|e| e.to_string())?;
    if status == 200 {
        Ok(body)
    } else {
        Err(format!("{status}: {body}"))
    }
}
