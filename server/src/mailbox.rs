//! `/dev/mailbox` (development, without `SMTP_URL` only): the mail the
//! app queued, newest first, with its links made clickable, so a person
//! trying the app can follow a verification link that was never sent
//! (Phoenix's dev mailbox). The router adds no such route otherwise.

use std::sync::Arc;

use axum::{extract::State, response::Html};
use engine::Auth;

use crate::error::{ServerError, Shape};

/// How many messages the development mailbox lists.
const MAILBOX_SHOWN: u32 = 50;

/// `/dev/mailbox` (development only): the latest mail, newest first, with
/// its links made clickable.
pub async fn page(
    State((auth, stylesheet)): State<(Auth, Arc<str>)>,
) -> Result<Html<String>, ServerError> {
    let mail =
        auth.recent_mail(MAILBOX_SHOWN)
            .await
            .map_err(|source| ServerError::Unavailable {
                shape: Shape::Text,
                source,
            })?;
    let mut page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"stylesheet\" href=\"{stylesheet}\">\
         <title>Development mailbox</title></head><body><main class=\"container\">\
         <section class=\"card\"><h1>Development mailbox</h1>\
         <p>Mail the app queued, newest first. Nothing here was sent: set \
         <code>SMTP_URL</code> to deliver it.</p></section>",
        stylesheet = escape(&stylesheet),
    );
    if mail.is_empty() {
        page.push_str("<section class=\"card\"><p>No mail yet.</p></section>");
    }
    for queued in &mail {
        let status = match queued.sent_at {
            Some(at) => format!("sent {}", when(at)),
            None => "not sent".to_owned(),
        };
        page.push_str(&format!(
            "<article class=\"card\" data-testid=\"mail\"><h2>{subject}</h2><p>To {to}, queued {at}, {status}</p>\
             <pre class=\"mail-body\">{body}</pre></article>",
            subject = escape(&queued.mail.subject),
            to = escape(&queued.mail.to),
            at = when(queued.created_at),
            body = linked(&queued.mail.text),
        ));
    }
    page.push_str("</main></body></html>");
    Ok(Html(page))
}

/// `text`, escaped, with each `http(s)://` word made a link.
fn linked(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for (j, word) in line.split(' ').enumerate() {
            if j > 0 {
                out.push(' ');
            }
            if word.starts_with("http://") || word.starts_with("https://") {
                let word = escape(word);
                out.push_str(&format!("<a href=\"{word}\">{word}</a>"));
            } else {
                out.push_str(&escape(word));
            }
        }
    }
    out
}

/// `at` as RFC 3339 (UTC).
fn when(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

fn escape(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::linked;

    #[test]
    fn links_in_a_body_are_clickable_and_everything_else_escaped() {
        let shown = linked("Open\nhttp://localhost:3000/verify-email?token=a&b <b>now</b>");
        assert_eq!(
            shown,
            "Open\n<a href=\"http://localhost:3000/verify-email?token=a&amp;b\">\
             http://localhost:3000/verify-email?token=a&amp;b</a> &lt;b&gt;now&lt;/b&gt;"
        );
    }
}
