//! The session engine.
//!
//! Everything a web app needs to run server-side sessions safely, with no
//! knowledge of Leptos or any HTTP framework:
//!
//! - [`token`]: random session tokens, their parsing and their at-rest hash;
//! - [`id`]: user and session identifiers;
//! - [`credentials`]: sign-in names, password rules and Argon2id hashing;
//! - [`hashing`]: admission to password hashing (a bounded queue);
//! - [`policy`]: idle and absolute expiry;
//! - [`record`]: what is stored and returned;
//! - [`deny_list`]: recently revoked sessions, whose access tokens are refused;
//! - [`feed`]: how a revocation on one instance is heard on all the others;
//! - [`revocation`]: what an instance does with what it hears, and the
//!   fallback when the feed is down;
//! - [`store`]: the storage traits and their backends;
//! - [`auth`]: the lifecycle (sign-up, sign-in, validation, revocation);
//! - [`jwt`]: short-lived access tokens (EdDSA) and their key ring;
//! - [`dpop`]: proof of possession for refreshes and API calls (RFC 9449);
//! - [`once`]: single-use ids (proofs, signed ceremonies), shared by instances;
//! - [`email`]: accounts' addresses, one-time links and the outbox;
//! - [`passkey`]: the WebAuthn relying party and its ceremonies' state;
//! - [`cookie`]: the session, refresh and CSRF cookies' attributes;
//! - [`csrf`]: signed CSRF tokens bound to a session;
//! - [`throttle`]: brute-force limits on credentials and refreshes;
//! - [`device`]: device cookies, which spare their browser an account's lock;
//! - [`log_budget`]: at most a line a second for what anyone can cause;
//! - [`recent`]: a probe's answer reused for a moment;
//! - [`clock`]: injectable time.
//!
//! The web layers (`app/`, `server/`) call into this crate; it never calls out.

#![warn(missing_docs)]

// Redis holds sessions only; accounts always live in a SQL database.
#[cfg(all(feature = "redis", not(any(feature = "sqlite", feature = "postgres"))))]
compile_error!("the `redis` feature stores sessions only: enable `sqlite` or `postgres` too");

pub mod auth;
pub mod clock;
pub mod cookie;
pub mod credentials;
pub mod csrf;
pub mod deny_list;
pub mod device;
pub mod dpop;
pub mod email;
pub mod error;
pub mod feed;
pub mod hashing;
pub mod id;
pub mod jwt;
pub mod log_budget;
#[cfg(feature = "oidc")]
pub mod oidc;
pub mod once;
pub mod passkey;
pub mod policy;
pub mod recent;
pub mod record;
pub mod revocation;
pub mod store;
#[cfg(test)]
mod testing;
pub mod throttle;
pub mod token;

pub use crate::{
    auth::{Auth, NewSession, RefreshOutcome, Validation},
    clock::{Clock, ManualClock, SystemClock},
    cookie::CookiePolicy,
    error::Error,
    id::{SessionId, UserId},
    policy::SessionPolicy,
    record::{
        Account, Activity, AuthEvent, AuthEventKind, Authenticated, ClientInfo, Notice, NoticeKind,
        SessionRecord, StoredNotice, UserSummary,
    },
    token::{SessionToken, TokenHash},
};
