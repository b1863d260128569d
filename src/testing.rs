//! Helpers shared by the unit tests.

/// `token` with the character at `pos` replaced by a different one from
/// the token alphabet (never a no-op, so property tests throw no case away).
pub fn change_one(token: &str, pos: usize, pick: usize) -> String {
    const ALPHABET: &[u8; 65] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    let mut bytes = token.as_bytes().to_vec();
    let mut c = ALPHABET[pick % ALPHABET.len()];
    if c == bytes[pos] {
        c = ALPHABET[(pick + 1) % ALPHABET.len()];
    }
    bytes[pos] = c;
    String::from_utf8(bytes).unwrap_or_default()
}
