//! The guides under `/guides/:slug`: short Markdown files from `guides/`,
//! compiled into the server and rendered to HTML when the static pages are
//! generated at start-up.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Every guide: slug and title, in reading order.
pub const GUIDES: &[(&str, &str)] = &[
    ("protected-ssr-page", "Add a protected server-rendered page"),
    (
        "static-page-with-session",
        "Add a static page that shows the session",
    ),
    (
        "server-functions",
        "Add a server function (with CSRF protection)",
    ),
    ("token-model", "The token model"),
    ("postgres-and-redis", "Switch to PostgreSQL and Redis"),
    ("deployment", "Deploy several instances behind a proxy"),
];

/// A rendered guide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guide {
    /// Title.
    pub title: String,
    /// Body as HTML (from trusted Markdown in this repository).
    pub html: String,
}

/// The guide `slug`, rendered. Runs while the static pages are generated;
/// the result is embedded in each page for hydration.
///
/// # Errors
/// [`AppError::NotFound`] for an unknown slug.
#[server(client = crate::csrf::CsrfClient)]
pub async fn load_guide(slug: String) -> Result<Guide, AppError> {
    let (_, title) = GUIDES
        .iter()
        .find(|(s, _)| *s == slug)
        .ok_or(AppError::NotFound)?;
    let markdown = source(&slug).ok_or(AppError::NotFound)?;
    let mut html = String::new();
    let parser = pulldown_cmark::Parser::new_ext(markdown, pulldown_cmark::Options::ENABLE_TABLES);
    pulldown_cmark::html::push_html(&mut html, parser);
    // The first heading is the page title; drop it from the body.
    if let Some(end) = html.find("</h1>") {
        html.replace_range(..end + "</h1>".len(), "");
    }
    Ok(Guide {
        title: (*title).to_owned(),
        html,
    })
}

#[cfg(feature = "ssr")]
fn source(slug: &str) -> Option<&'static str> {
    Some(match slug {
        "protected-ssr-page" => include_str!("../../guides/protected-ssr-page.md"),
        "static-page-with-session" => include_str!("../../guides/static-page-with-session.md"),
        "server-functions" => include_str!("../../guides/server-functions.md"),
        "token-model" => include_str!("../../guides/token-model.md"),
        "postgres-and-redis" => include_str!("../../guides/postgres-and-redis.md"),
        "deployment" => include_str!("../../guides/deployment.md"),
        _ => return None,
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn every_listed_guide_has_a_source_with_a_title() {
        for (slug, title) in GUIDES {
            let md = source(slug).unwrap_or_else(|| panic!("no source for {slug}"));
            assert!(
                md.starts_with(&format!("# {title}")),
                "{slug}: title mismatch"
            );
        }
    }
}
