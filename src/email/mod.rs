//! Email: the account's address, the one-time links and codes mailed to
//! it, and the mail itself.
//!
//! - [`address`]: an address as typed (kept for display and sending) and
//!   its lookup key (one account per verified address, whatever the case);
//! - [`link`]: a one-time token sent by mail, bound to one purpose, one
//!   account and the address it went to, stored only as a hash;
//! - [`mail`]: a message in the outbox, and how long a failed one waits;
//! - [`templates`]: the words of each message, plain text and HTML.
//!
//! Mail is never sent from a request: the store writes it to the outbox in
//! the same transaction as what caused it, and the server's sender delivers
//! it with retries. An SMTP server that is down delays mail, loses none,
//! and slows no request.

pub mod address;
pub mod link;
pub mod mail;
pub mod templates;

pub use address::EmailAddress;
pub use link::{LinkPurpose, LinkRecord, NewLink};
pub use mail::{Mail, QueuedMail};
