//! The RFC 5322 message both transports send.

use std::time::SystemTime;

use lettre::Address;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, Message, MultiPart, SinglePart};
use secrecy::ExposeSecret;
use steward_domain::id::OutboxId;
use steward_domain::notify::RenderedEmail;
use time::OffsetDateTime;

use crate::error::{MailError, SendError};

/// The Message-ID of an outbox email: stable across retries.
pub fn message_id(id: OutboxId) -> String {
    format!("<{id}@steward>")
}

/// Parses the configured sender, e.g. `Steward <steward@localhost>`.
pub(crate) fn parse_from(from: &str) -> Result<Mailbox, MailError> {
    from.parse().map_err(|e| MailError::Config(format!("sender address {from:?} does not parse: {e}")))
}

/// Builds the message; an unusable recipient is a permanent failure.
pub(super) fn build(from: &Mailbox, email: &RenderedEmail, date: OffsetDateTime) -> Result<Message, SendError> {
    let address: Address =
        email.to_address.parse().map_err(|e| SendError::Permanent(format!("recipient address does not parse: {e}")))?;
    let name = email.to_name.trim();
    // lettre panics on a CR or LF in a display name; no real name holds a control character.
    if name.chars().any(char::is_control) {
        return Err(SendError::Permanent("recipient name holds a control character".into()));
    }
    if email.subject.chars().any(char::is_control) {
        return Err(SendError::Permanent("subject holds a control character".into()));
    }
    let to = Mailbox::new((!name.is_empty()).then(|| name.to_string()), address);
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.as_str())
        .message_id(Some(message_id(email.id)))
        .date(SystemTime::from(date));
    let built = match &email.attachment {
        None => builder.header(ContentType::TEXT_PLAIN).body(email.body.expose_secret().to_owned()),
        Some(a) => {
            let content_type = ContentType::parse(&a.content_type)
                .map_err(|e| SendError::Permanent(format!("attachment content type does not parse: {e}")))?;
            let file = Attachment::new(a.filename.clone()).body(a.content.clone(), content_type);
            builder.multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(email.body.expose_secret().to_owned()))
                    .singlepart(file),
            )
        }
    };
    built.map_err(|e| SendError::Permanent(format!("message does not build: {e}")))
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;
    use time::macros::datetime;

    use super::*;

    fn email(to_name: &str, to_address: &str, subject: &str) -> RenderedEmail {
        RenderedEmail {
            attachment: None,
            id: OutboxId::new(),
            to_address: to_address.into(),
            to_name: to_name.into(),
            subject: subject.into(),
            body: SecretString::from("Hello,\nyour password is s3cret-Pa55word.\n"),
        }
    }

    fn render(e: &RenderedEmail) -> String {
        let from = parse_from("Steward <steward@localhost>").unwrap();
        String::from_utf8(build(&from, e, datetime!(2030-01-02 03:04:05 UTC)).unwrap().formatted()).unwrap()
    }

    #[test]
    fn headers_and_body() {
        let e = email("Ada Lovelace", "ada@example.com", "Your Steward account");
        let text = render(&e);
        assert!(text.contains("From: Steward <steward@localhost>\r\n"), "{text}");
        assert!(
            text.contains("To: \"Ada Lovelace\" <ada@example.com>\r\n")
                || text.contains("To: Ada Lovelace <ada@example.com>\r\n"),
            "{text}"
        );
        assert!(text.contains("Subject: Your Steward account\r\n"), "{text}");
        assert!(text.contains(&format!("Message-ID: <{}@steward>\r\n", e.id)), "{text}");
        assert!(text.contains("Date: Wed, 02 Jan 2030 03:04:05 +0000\r\n"), "{text}");
        assert!(text.contains("Content-Type: text/plain; charset=utf-8\r\n"), "{text}");
        assert!(text.contains("s3cret-Pa55word"), "{text}");
    }

    #[test]
    fn control_characters_in_name_or_subject_are_permanent_not_injected() {
        let from = parse_from("steward@localhost").unwrap();
        let now = datetime!(2030-01-01 0:00 UTC);
        let injected = "Eve\r\nBcc: mallory@example.com";
        for e in [email(injected, "eve@example.com", "Hi"), email("Eve", "eve@example.com", injected)] {
            assert!(matches!(build(&from, &e, now), Err(SendError::Permanent(_))));
        }
    }

    #[test]
    fn unicode_name_and_subject_are_encoded() {
        let e = email("Zoë Ångström", "zoe@example.com", "Willkommen, Zoë — ваш аккаунт");
        let text = render(&e);
        let headers = text.split("\r\n\r\n").next().unwrap();
        assert!(headers.is_ascii(), "{headers}");
        assert!(headers.contains("=?utf-8?"), "{headers}");
    }

    #[test]
    fn bad_recipients_are_permanent() {
        let from = parse_from("steward@localhost").unwrap();
        let now = datetime!(2030-01-01 0:00 UTC);
        for bad in ["", "no-at-sign", "a@b@c", "two words@example.com"] {
            let e = email("X", bad, "s");
            assert!(matches!(build(&from, &e, now), Err(SendError::Permanent(_))), "{bad:?}");
        }
    }

    #[test]
    fn bad_sender_is_a_config_error() {
        assert!(matches!(parse_from("not an address"), Err(MailError::Config(_))));
    }
}
