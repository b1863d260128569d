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
    ("passkeys", "Add passkeys to a page"),
    ("email-and-recovery", "Email and account recovery"),
    ("identity-providers", "Sign in with an identity provider"),
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
pub async fn load_guide(
    /// The guide's name in its path (`/guides/<slug>`).
    slug: String,
) -> Result<Guide, AppError> {
    let (_, title) = GUIDES
        .iter()
        .find(|(s, _)| *s == slug)
        .ok_or(AppError::NotFound)?;
    let markdown = source(&slug).ok_or(AppError::NotFound)?;
    Ok(Guide {
        title: (*title).to_owned(),
        html: render(markdown),
    })
}

/// The guide's body as HTML, without its first heading (the page title).
/// Raw HTML in the Markdown is shown as text, never passed through: a
/// `<script>` in a guide stays inert words on the page (and the CSP of
/// prerendered pages allows only the app's own scripts anyway).
#[cfg(feature = "ssr")]
fn render(markdown: &str) -> String {
    use pulldown_cmark::Event;
    let parser = pulldown_cmark::Parser::new_ext(markdown, pulldown_cmark::Options::ENABLE_TABLES)
        .map(|event| match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            other => other,
        });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    if let Some(end) = html.find("</h1>") {
        html.replace_range(..end + "</h1>".len(), "");
    }
    html
}

#[cfg(feature = "ssr")]
fn source(slug: &str) -> Option<&'static str> {
    Some(match slug {
        "protected-ssr-page" => include_str!("../../guides/protected-ssr-page.md"),
        "static-page-with-session" => include_str!("../../guides/static-page-with-session.md"),
        "server-functions" => include_str!("../../guides/server-functions.md"),
        "passkeys" => include_str!("../../guides/passkeys.md"),
        "email-and-recovery" => include_str!("../../guides/email-and-recovery.md"),
        "identity-providers" => include_str!("../../guides/identity-providers.md"),
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
    fn raw_html_in_a_guide_is_text() {
        let html = render("# T\n\nHi <b onclick=\"x()\">there</b>\n\n<script>alert(1)</script>\n");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b "), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<h1>"), "{html}");
    }

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
