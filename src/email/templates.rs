//! The words of each message, as plain text and as HTML.
//!
//! Every message names the site and says why it came, so a person who
//! did not ask for it knows what to ignore; links are absolute
//! (`PUBLIC_URL`), and every value put into the HTML body is escaped.

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use super::{mail::link_kind, EmailAddress, LinkPurpose, Mail};
use crate::record::{Notice, NoticeKind};

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
    pub fn verification(&self, to: &EmailAddress, link: &str, code: &str) -> Mail {
        let name = &self.name;
        Mail {
            kind: link_kind(LinkPurpose::Verify.as_str()),
            to: to.as_str().to_owned(),
            subject: format!("Confirm your email address for {name}"),
            text: format!(
                "Someone, probably you, added this address to an account on {name}.\n\n\
                 To confirm it, open this link (it works for 24 hours, once):\n\n{link}\n\n\
                 Or, signed in, enter this code on your account's email page: {code}\n\n\
                 If it was not you, ignore this message: the address stays unconfirmed \
                 and receives nothing else.\n"
            ),
            html: format!(
                "<p>Someone, probably you, added this address to an account on {name}.</p>\n\
                 <p><a href=\"{href}\">Confirm your email address</a> \
                 (the link works for 24 hours, once).</p>\n\
                 <p>Or, signed in, enter this code on your account's email page: \
                 <strong>{code}</strong></p>\n\
                 <p>If it was not you, ignore this message: the address stays unconfirmed \
                 and receives nothing else.</p>\n",
                name = text(name),
                href = attr(link),
                code = text(code),
            ),
        }
    }
}

impl Site {
    /// "Sign in", with the link and the code for the browser that asked.
    #[must_use]
    pub fn sign_in(&self, to: &EmailAddress, link: &str, code: &str) -> Mail {
        let name = &self.name;
        Mail {
            kind: link_kind(LinkPurpose::SignIn.as_str()),
            to: to.as_str().to_owned(),
            subject: format!("Your sign-in code for {name}: {code}"),
            text: format!(
                "Someone, probably you, asked to sign in to your account on {name}.\n\n\
                 Enter this code in the browser where you asked (it works for 15 minutes, \
                 once):\n\n{code}\n\n\
                 Or open this link in that same browser:\n\n{link}\n\n\
                 If it was not you, ignore this message: without that browser, the code and \
                 the link sign nobody in.\n"
            ),
            html: format!(
                "<p>Someone, probably you, asked to sign in to your account on {name}.</p>\n\
                 <p>Enter this code in the browser where you asked (it works for 15 minutes, \
                 once):</p>\n<p><strong>{code}</strong></p>\n\
                 <p>Or <a href=\"{href}\">sign in with this link</a> in that same browser.</p>\n\
                 <p>If it was not you, ignore this message: without that browser, the code and \
                 the link sign nobody in.</p>\n",
                name = text(name),
                code = text(code),
                href = attr(link),
            ),
        }
    }

    /// "Reset your password", with the link that opens the form.
    #[must_use]
    pub fn password_reset(&self, to: &EmailAddress, link: &str) -> Mail {
        let name = &self.name;
        Mail {
            kind: link_kind(LinkPurpose::Reset.as_str()),
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

impl Site {
    /// A security notice by mail; `None` for a kind that is counted on the
    /// dashboard only (failed sign-ins: a stranger can cause them at will).
    #[must_use]
    pub fn notice(&self, to: &EmailAddress, notice: &Notice) -> Option<Mail> {
        let (subject, what) = match notice.kind {
            NoticeKind::FailedSignIns => return None,
            NoticeKind::NewDevice => (
                "New sign-in to your account",
                "Someone signed in to your account from a browser it had not used before.",
            ),
            NoticeKind::RefreshReuse => (
                "A session of yours was signed out",
                "A copy of one of your sessions' tokens was used after the session had moved \
                 on, so that session was signed out.",
            ),
            NoticeKind::PasswordChanged => (
                "Your password was changed",
                "The password of your account was set or changed, and every other device was \
                 signed out.",
            ),
            NoticeKind::PasswordReset => (
                "Your password was reset",
                "The password of your account was reset from a link mailed to this address, \
                 and every device was signed out.",
            ),
            NoticeKind::PasswordRemoved => (
                "Your password was removed",
                "The password of your account was removed: it signs in with its passkeys only.",
            ),
            NoticeKind::PasskeyAdded => (
                "A passkey was added to your account",
                "A passkey was added to your account: it can now sign in with it.",
            ),
            NoticeKind::PasskeyRemoved => (
                "A passkey was removed from your account",
                "A passkey was removed from your account.",
            ),
            NoticeKind::EmailChanged => (
                "Your email address was changed",
                "Your account's email address was changed to this one.",
            ),
            NoticeKind::IdentityLinked => (
                "A sign-in provider was linked to your account",
                "An account at a sign-in provider was linked to your account: it can now \
                 sign in with it.",
            ),
            NoticeKind::IdentityUnlinked => (
                "A sign-in provider was unlinked from your account",
                "An account at a sign-in provider was unlinked from your account.",
            ),
            NoticeKind::EmailReverted => (
                "Your email address was put back",
                "A change of your account's email address was undone from the previous \
                 address, and every device was signed out.",
            ),
        };
        let name = &self.name;
        let when = notice
            .created_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let from = match (&notice.ip_address, &notice.user_agent) {
            (Some(ip), Some(agent)) => format!("{ip} ({agent})"),
            (Some(ip), None) => ip.clone(),
            (None, Some(agent)) => agent.clone(),
            (None, None) => "unknown".to_owned(),
        };
        let (login, sessions) = (self.url("/login"), self.url("/account/sessions"));
        let advice = "If it was you, there is nothing to do. If it was not, sign in, change \
                      your password, and sign out the sessions you do not know";
        Some(Mail {
            kind: format!("notice:{}", notice.kind.as_str()),
            to: to.as_str().to_owned(),
            subject: format!("{subject} on {name}"),
            text: format!(
                "{what}\n\nWhen: {when}\nFrom: {from}\n\n{advice}:\n\n{login}\n{sessions}\n"
            ),
            html: format!(
                "<p>{what}</p>\n<p>When: {when}<br>From: {from}</p>\n\
                 <p>{advice}: <a href=\"{login_href}\">sign in</a>, then \
                 <a href=\"{sessions_href}\">your sessions</a>.</p>\n",
                what = text(what),
                from = text(&from),
                advice = text(advice),
                login_href = attr(&login),
                sessions_href = attr(&sessions),
            ),
        })
    }

    /// "Your address was changed", to the address the change replaced,
    /// with the link that puts it back.
    #[must_use]
    pub fn email_changed(&self, old: &EmailAddress, new: &EmailAddress, link: &str) -> Mail {
        let name = &self.name;
        Mail {
            // A notice: spaced, never capped by links others asked for.
            kind: format!("notice:{}", NoticeKind::EmailChanged.as_str()),
            to: old.as_str().to_owned(),
            subject: format!("Your email address on {name} was changed"),
            text: format!(
                "The email address of your account on {name} was changed from this one to \
                 {new}.\n\n\
                 If it was you, there is nothing to do.\n\n\
                 If it was not, open this link (it works for 7 days, once) to put this address \
                 back and sign every device out; then reset your password from the sign-in \
                 page:\n\n{link}\n"
            ),
            html: format!(
                "<p>The email address of your account on {name} was changed from this one to \
                 {new}.</p>\n<p>If it was you, there is nothing to do.</p>\n\
                 <p>If it was not, <a href=\"{href}\">put this address back and sign every \
                 device out</a> (the link works for 7 days, once); then reset your password \
                 from the sign-in page.</p>\n",
                name = text(name),
                new = text(new.as_str()),
                href = attr(link),
            ),
        }
    }

    /// "Your account was deleted", to its confirmed address.
    #[must_use]
    pub fn farewell(&self, to: &EmailAddress) -> Mail {
        let name = &self.name;
        let what = "Your account and everything stored with it were deleted. If it was not \
                    you, someone had your password or one of your signed-in devices: change \
                    that password wherever else you use it.";
        Mail {
            kind: "deleted".to_owned(),
            to: to.as_str().to_owned(),
            subject: format!("Your account on {name} was deleted"),
            text: format!("{what}\n"),
            html: format!("<p>{}</p>\n", text(what)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Site;
    use crate::{
        email::EmailAddress,
        record::{Notice, NoticeKind},
    };

    #[test]
    fn every_notice_but_the_failure_count_is_mailed_with_its_source_escaped() {
        let site = Site {
            name: "App".into(),
            origin: "https://app.example".into(),
        };
        let to = EmailAddress::trusted("ada@example.com");
        let mut subjects = std::collections::HashSet::new();
        for &kind in NoticeKind::ALL {
            let notice = Notice {
                kind,
                count: 3,
                ip_address: Some("192.0.2.1".into()),
                user_agent: Some("<script>x</script>".into()),
                created_at: time::OffsetDateTime::UNIX_EPOCH,
            };
            let Some(mail) = site.notice(&to, &notice) else {
                assert_eq!(kind, NoticeKind::FailedSignIns);
                continue;
            };
            assert!(
                subjects.insert(mail.subject.clone()),
                "{kind:?}: {}",
                mail.subject
            );
            assert_eq!(mail.kind, format!("notice:{}", kind.as_str()));
            assert!(mail.text.contains("1970-01-01T00:00:00Z") && mail.text.contains("192.0.2.1"));
            assert!(mail.text.contains("https://app.example/account/sessions"));
            assert!(!mail.html.contains("<script>"), "{}", mail.html);
        }
        assert_eq!(subjects.len(), NoticeKind::ALL.len() - 1);
    }

    #[test]
    fn a_message_links_absolutely_and_escapes_what_it_quotes() {
        let site = Site {
            name: "Ada & <Co>".into(),
            origin: "https://app.example/".into(),
        };
        let link = site.url("/verify-email?token=a\"b");
        assert_eq!(link, "https://app.example/verify-email?token=a\"b");
        let mail = site.verification(&EmailAddress::trusted("ada@example.com"), &link, "123456");
        assert_eq!(mail.to, "ada@example.com");
        assert!(mail.text.contains(&link));
        assert!(mail.html.contains("Ada &amp; &lt;Co&gt;"));
        assert!(mail.html.contains("token=a&quot;b"));
        assert!(!mail.html.contains("<Co>"));
    }
}
