//! The words of each message, as plain text and as HTML.
//!
//! Every message names the site and says why it came, so a person who
//! did not ask for it knows what to ignore; links are absolute
//! (`PUBLIC_URL`), and every value put into the HTML body is escaped.

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use super::{EmailAddress, LinkPurpose, Mail};

/// What every message needs to know of the site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The name the messages sign with.
    pub name: String,
    /// The origin links point to (`https://app.example`), no trailing `/`.
    pub origin: String,
}

impl Site {
    /// The absolute URL of `path_and_query`.
    #[must_use]
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.origin.trim_end_matches('/'))
    }

    /// "Confirm your email address", with the link that does.
    #[must_use]
    pub fn verification(&self, to: &EmailAddress, link: &str) -> Mail {
        let name = &self.name;
        Mail {
            kind: LinkPurpose::Verify.as_str().to_owned(),
            to: to.as_str().to_owned(),
            subject: format!("Confirm your email address for {name}"),
            text: format!(
                "Someone, probably you, added this address to an account on {name}.\n\n\
                 To confirm it, open this link (it works for 24 hours, once):\n\n{link}\n\n\
                 If it was not you, ignore this message: the address stays unconfirmed \
                 and receives nothing else.\n"
            ),
            html: format!(
                "<p>Someone, probably you, added this address to an account on {name}.</p>\n\
                 <p><a href=\"{href}\">Confirm your email address</a> \
                 (the link works for 24 hours, once).</p>\n\
                 <p>If it was not you, ignore this message: the address stays unconfirmed \
                 and receives nothing else.</p>\n",
                name = text(name),
                href = attr(link),
            ),
        }
    }
}

impl Site {
    /// "Reset your password", with the link that opens the form.
    #[must_use]
    pub fn password_reset(&self, to: &EmailAddress, link: &str) -> Mail {
        let name = &self.name;
        Mail {
            kind: LinkPurpose::Reset.as_str().to_owned(),
            to: to.as_str().to_owned(),
            subject: format!("Reset your password on {name}"),
            text: format!(
                "Someone, probably you, asked to reset the password of your account on {name}.\n\n\
                 To choose a new password, open this link (it works for 15 minutes, once):\n\n\
                 {link}\n\n\
                 Choosing one signs out every device signed in to the account.\n\n\
                 If it was not you, ignore this message: your password has not changed.\n"
            ),
            html: format!(
                "<p>Someone, probably you, asked to reset the password of your account on {name}.</p>\n\
                 <p><a href=\"{href}\">Choose a new password</a> \
                 (the link works for 15 minutes, once).</p>\n\
                 <p>Choosing one signs out every device signed in to the account.</p>\n\
                 <p>If it was not you, ignore this message: your password has not changed.</p>\n",
                name = text(name),
                href = attr(link),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Site;
    use crate::email::EmailAddress;

    #[test]
    fn a_message_links_absolutely_and_escapes_what_it_quotes() {
        let site = Site {
            name: "Ada & <Co>".into(),
            origin: "https://app.example/".into(),
        };
        let link = site.url("/verify-email?token=a\"b");
        assert_eq!(link, "https://app.example/verify-email?token=a\"b");
        let mail = site.verification(&EmailAddress::trusted("ada@example.com"), &link);
        assert_eq!(mail.to, "ada@example.com");
        assert!(mail.text.contains(&link));
        assert!(mail.html.contains("Ada &amp; &lt;Co&gt;"));
        assert!(mail.html.contains("token=a&quot;b"));
        assert!(!mail.html.contains("<Co>"));
    }
}
