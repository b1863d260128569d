//! Server functions, one module per area. Each runs on the server only; the
//! WASM bundle gets a stub that calls it over HTTP (always POST).
//!
//! Every one is written the same way, with three pieces of this layer:
//!
//! ```ignore
//! #[server(client = crate::csrf::CsrfClient)]
//! pub async fn revoke_other_sessions() -> Result<(), AppError> {
//!     Reply::form("revoke_other_sessions", SESSIONS)   // how it answers
//!         .then_reload(SESSIONS)
//!         .run(async {
//!             let Signed { ctx, auth } = Require::recent().check()?;   // what it requires
//!             ctx.auth.revoke_others(&auth, &session::client_info()).await?;
//!             Ok(())
//!         })
//!         .await
//! }
//! ```
//!
//! - [`require`]: what the caller must be (nobody, signed in, recently
//!   authenticated, or a credential attempt within the limits), checked
//!   once, handing back the context and the session;
//! - [`reply`]: the one answer wrapper (a span per function, `no-store`, a
//!   redirect for a plain form post); the error's status comes from the
//!   error itself, set by the server for every server function;
//! - [`completion`]: the end of every sign-in (password, passkey, mailed
//!   link or code, or a sign-in provider).
//!
//! The areas use these and never each other (a test checks the modules
//! import one another in no loop).

pub mod account;
pub mod auth;
pub mod email;
pub mod identities;
pub mod mailed_sign_in;
pub mod passkeys;
pub mod recovery;
pub mod security;
pub mod status;

#[cfg(feature = "ssr")]
pub mod completion;
#[cfg(feature = "ssr")]
pub mod context;
#[cfg(feature = "ssr")]
pub mod reply;
#[cfg(feature = "ssr")]
pub mod require;

#[cfg(test)]
mod tests {
    /// Every server function answers through [`reply::Reply`] under its own
    /// name (its span) and checks a [`require::Require`] first; one that
    /// skipped them would log without a span and check nobody.
    #[test]
    fn every_server_function_uses_the_layer_under_its_own_name() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/server_fns");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("server_fns is readable") {
            let path = entry.expect("an entry").path();
            let source = std::fs::read_to_string(&path).expect("a source file");
            for function in source.split("\n#[server(").skip(1) {
                let name = function
                    .split("pub async fn ")
                    .nth(1)
                    .and_then(|rest| rest.split('(').next())
                    .expect("a server function has a name");
                let replies = [
                    format!("Reply::json(\"{name}\")"),
                    format!("Reply::form(\"{name}\""),
                ];
                assert!(
                    replies
                        .iter()
                        .any(|reply| function.contains(reply.as_str())),
                    "{}: `{name}` does not answer through Reply under its own name",
                    path.display()
                );
                assert!(
                    function.contains("Require::"),
                    "{}: `{name}` checks no Require",
                    path.display()
                );
                seen += 1;
            }
        }
        assert!(seen >= 20, "found only {seen} server functions");
    }
}
