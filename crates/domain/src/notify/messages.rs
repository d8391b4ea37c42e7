use secrecy::SecretString;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{OutboxEmail, SECRET_PLACEHOLDER};
use crate::error::DomainError;
use crate::id::{AccessRequestId, OutboxId};
use crate::keyring::Keyring;
use crate::user::User;

/// The messages the system sends, as data.
pub enum Message<'a> {
    /// A new account: the temporary password to log in with once.
    Welcome { user: &'a User, temporary_password: &'a SecretString, expires_at: OffsetDateTime },
    /// The password was changed (a heads-up in case it was not them).
    PasswordChanged { user: &'a User },
    /// The account was suspended.
    Suspended { user: &'a User, reason: &'a str, until: Option<OffsetDateTime> },
    /// The suspension was lifted.
    Reactivated { user: &'a User },
    /// To the deleted user.
    Deleted { user: &'a User },
    /// To whoever deleted the user.
    DeletionDone { initiator: &'a User, deleted: &'a User, new_owner: Option<&'a User>, received: &'a [String] },
    /// To the new owner: what they received.
    Received { new_owner: &'a User, from: &'a User, received: &'a [String] },
    /// To whoever ran an import: how it ended (the failed rows go attached).
    ImportFinished { initiator: &'a User, summary: &'a str },
    /// To whoever started a global report or repair: how it ended.
    MaintenanceFinished { initiator: &'a User, subject: &'a str, summary: &'a str },
    /// To whoever may decide: someone asks for access.
    AccessRequested {
        decider: &'a User,
        requester: &'a User,
        target: &'a str,
        justification: &'a str,
        request_id: AccessRequestId,
    },
    /// To the requester: the decision.
    AccessDecided {
        requester: &'a User,
        target: &'a str,
        approved: bool,
        reason: &'a str,
        until: Option<OffsetDateTime>,
    },
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
            Message::Suspended { user, reason, until } => (
                *user,
                "Your Steward account was suspended".to_string(),
                format!(
                    "Hello {name},\n\nThe account {username} was suspended{until}.\nReason: {reason}\n\n\
                     Your sessions and API keys no longer work. Contact your administrator with questions.\n",
                    name = user.full_name,
                    username = user.username,
                    until =
                        until.map(|t| format!(" until {}", t.format(&Rfc3339).unwrap_or_default())).unwrap_or_default(),
                ),
                None,
            ),
            Message::Reactivated { user } => (
                *user,
                "Your Steward account is active again".to_string(),
                format!(
                    "Hello {name},\n\nThe account {username} is active again: you can log in.\n\
                     API keys revoked by the suspension stay revoked; create new ones.\n",
                    name = user.full_name,
                    username = user.username,
                ),
                None,
            ),
            Message::Deleted { user } => (
                *user,
                "Your Steward account was deleted".to_string(),
                format!(
                    "Hello {name},\n\nThe account {username} was deleted. What it owned was handed over \
                     to a colleague.\n",
                    name = user.full_name,
                    username = user.username,
                ),
                None,
            ),
            Message::DeletionDone { initiator, deleted, new_owner, received } => (
                *initiator,
                format!("You deleted the Steward account {}", deleted.username),
                format!(
                    "Hello {name},\n\nThe account {username} was deleted.\n{handover}",
                    name = initiator.full_name,
                    username = deleted.username,
                    handover = handover(*new_owner, received),
                ),
                None,
            ),
            Message::Received { new_owner, from, received } => (
                *new_owner,
                format!("You received what {} owned", from.username),
                format!(
                    "Hello {name},\n\nThe account {from} was deleted and you are now the owner of:\n{list}",
                    name = new_owner.full_name,
                    from = from.username,
                    list = received.iter().map(|l| format!("  - {l}\n")).collect::<String>(),
                ),
                None,
            ),
            Message::ImportFinished { initiator, summary } => (
                *initiator,
                "Your user import has finished".to_string(),
                format!("Hello {name},\n\n{summary}", name = initiator.full_name),
                None,
            ),
            Message::MaintenanceFinished { initiator, subject, summary } => (
                *initiator,
                subject.to_string(),
                format!("Hello {name},\n\n{summary}", name = initiator.full_name),
                None,
            ),
            Message::AccessRequested { decider, requester, target, justification, request_id } => (
                *decider,
                format!("{} asks for access to {target}", requester.username),
                format!(
                    "Hello {name},\n\n{full} ({username}) asks for access to {target}.\n\n\
                     Justification:\n{justification}\n\n\
                     Approve or deny it in the requests tab (request {request_id}).\n",
                    name = decider.full_name,
                    full = requester.full_name,
                    username = requester.username,
                ),
                None,
            ),
            Message::AccessDecided { requester, target, approved, reason, until } => (
                *requester,
                format!("Your access request for {target} was {}", if *approved { "approved" } else { "denied" }),
                if *approved {
                    format!(
                        "Hello {name},\n\nYou now have access to {target}{until}.\n",
                        name = requester.full_name,
                        until = until
                            .map(|t| format!(" until {}", t.format(&Rfc3339).unwrap_or_default()))
                            .unwrap_or_default(),
                    )
                } else {
                    format!(
                        "Hello {name},\n\nYour request for access to {target} was denied.\nReason: {reason}\n",
                        name = requester.full_name,
                    )
                },
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
            attachment: None,
            created_at: now,
        })
    }
}

fn handover(new_owner: Option<&User>, received: &[String]) -> String {
    match new_owner {
        Some(o) if !received.is_empty() => format!(
            "{} ({}) received:\n{}",
            o.full_name,
            o.username,
            received.iter().map(|l| format!("  - {l}\n")).collect::<String>()
        ),
        _ => "It owned nothing to hand over.\n".to_string(),
    }
}
