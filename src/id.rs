//! Identifiers for users and sessions.
//!
//! UUIDv7: unique without coordination between server instances, and
//! time-ordered, which keeps B-tree inserts local. A session id is *not* a
//! secret (the token is); it names a session in the UI and in revocation
//! forms, and only ever together with the owner's own session.

use std::{fmt, str::FromStr};

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, unique id.
            #[must_use]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The id as a UUID (a passkey's user handle is its user's).
            #[must_use]
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// The id a UUID stands for.
            #[must_use]
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        /// Parses untrusted input; anything but a canonical UUID is rejected.
        impl FromStr for $name {
            type Err = crate::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if s.len() != 36 {
                    return Err(crate::Error::InvalidId);
                }
                Uuid::parse_str(s).map(Self).map_err(|_| crate::Error::InvalidId)
            }
        }
    };
}

id_type!(
    /// A user account's id.
    UserId
);
id_type!(
    /// A session's id (public; the token is the secret).
    SessionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_junk() {
        let id = SessionId::new();
        assert_eq!(id.to_string().parse::<SessionId>().unwrap(), id);
        for junk in ["", "x", "' OR 1=1 --", &"a".repeat(5000), "urn:uuid:0000"] {
            assert!(junk.parse::<UserId>().is_err(), "{junk}");
        }
    }
}
