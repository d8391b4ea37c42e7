use secrecy::SecretString;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{OutboxEmail, SECRET_PLACEHOLDER};
use crate::error::DomainError;
use crate::id::OutboxId;
use crate::keyring::Keyring;
use crate::user::User;

/// The messages the system sends, as data.
pub enum Message<'a> {
    /// A new account: the temporary password to log in with once.
    Welcome { user: &'a User, temporary_password: &'a SecretString, expires_at: OffsetDateTime },
    /// The password was changed (a heads-up in case it was not them).
    PasswordChanged { user: &'a User },
}

impl Message<'_> {
    /// Composes the outbox row for this message, sealing any secret it carries.
    pub fn compose(&self, keyring: &Keyring, now: OffsetDateTime) -> Result<OutboxEmail, DomainError> {
        let id = OutboxId::new();
        let (user, subject, body, secret) = match self {
            Message::Welcome { user, temporary_password, expires_at } => (
                *user,
                "Your Steward account".to_string(),
                format!(
                    "Hello {name},\n\n\
                     An account was created for you on the data platform.\n\n\
                     Username: {username}\n\
                     Temporary password: {SECRET_PLACEHOLDER}\n\n\
                     Log in with it before {expires} and choose your own password;\n\
                     the temporary password works only for that.\n",
                    name = user.full_name,
                    username = user.username,
                    expires = expires_at.format(&Rfc3339).unwrap_or_default(),
                ),
                Some(*temporary_password),
            ),
            Message::PasswordChanged { user } => (
                *user,
                "Your Steward password was changed".to_string(),
                format!(
                    "Hello {name},\n\nThe password of {username} was just changed.\n\
                     If this was not you, contact your administrator.\n",
                    name = user.full_name,
                    username = user.username,
                ),
                None,
            ),
        };
        let sealed_secret = secret.map(|s| keyring.seal(s, id.as_uuid().as_bytes())).transpose()?;
        Ok(OutboxEmail {
            id,
            to_address: user.email.as_str().to_string(),
            to_name: user.full_name.as_str().to_string(),
            subject,
            body,
            sealed_secret,
            created_at: now,
        })
    }
}
