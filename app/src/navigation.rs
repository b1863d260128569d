//! Leaving the page: islands go to the next page with an ordinary page
//! load (there is no client-side router). A no-op on the server, where
//! nothing navigates.

/// Loads `path` (a local path).
#[cfg(feature = "hydrate")]
pub fn go(path: &str) {
    let _ = leptos::prelude::window().location().assign(path);
}

/// Loads `path` (a local path).
#[cfg(not(feature = "hydrate"))]
pub fn go(_path: &str) {}

/// Loads the current page again, without its `error` parameter (a plain
/// form's failure that a later success has made stale).
#[cfg(feature = "hydrate")]
pub fn reload() {
    let location = leptos::prelude::window().location();
    let path = location.pathname().unwrap_or_default();
    let query = location.search().unwrap_or_default();
    go(&without_error(&path, &query));
}

/// Loads the current page again, without its `error` parameter.
#[cfg(not(feature = "hydrate"))]
pub fn reload() {}

/// `path` with `query` minus its `error=` pairs.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn without_error(path: &str, query: &str) -> String {
    let kept: Vec<&str> = query
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("error="))
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::without_error;

    #[test]
    fn reloading_drops_only_the_stale_error() {
        assert_eq!(without_error("/a", ""), "/a");
        assert_eq!(without_error("/a", "?error=x"), "/a");
        assert_eq!(without_error("/a", "?next=%2Fb&error=x"), "/a?next=%2Fb");
        assert_eq!(without_error("/a", "?added=key"), "/a?added=key");
    }
}
