//! The server build's stand-in for `browser.rs`: the same functions, doing
//! nothing. The server has no cookie jar of its own, and a token never has
//! to be fetched there (the session layer hands each request its token).

pub fn header_value() -> Option<String> {
    None
}

pub async fn fetch_token() -> Option<String> {
    None
}
