//! steward-mail against real peers: an SMTP listener speaking ESMTP over TCP,
//! a real directory, and the relay over an in-memory outbox (a fake of our own port).

mod fakes;
mod logs;
mod relay;
mod smtp_server;
mod transport_file;
mod transport_smtp;

use lettre::message::Mailbox;

pub const FROM: &str = "Steward <steward@localhost>";

pub fn from() -> Mailbox {
    FROM.parse().unwrap()
}

/// Parses a received or written message; panics with the text when it does not parse.
pub fn parse(raw: &[u8]) -> mailparse::ParsedMail<'_> {
    mailparse::parse_mail(raw).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(raw)))
}

pub fn header(mail: &mailparse::ParsedMail<'_>, name: &str) -> String {
    use mailparse::MailHeaderMap;
    mail.headers.get_first_value(name).unwrap_or_else(|| panic!("no {name} header"))
}
