use time::OffsetDateTime;

use super::{Email, FullName, PlatformAccounts, Profile, Username};
use crate::id::UserId;
use crate::role::RoleName;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    Suspended,
    Deleted,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Deleted => "deleted",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            "deleted" => Some(Self::Deleted),
            _ => None,
        }
    }
}

/// A person, or (later) a service account that only uses API keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKind {
    Human,
    Service,
}

impl UserKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Human => "human",
            Self::Service => "service",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<Self> {
        match s {
            "human" => Some(Self::Human),
            "service" => Some(Self::Service),
            _ => None,
        }
    }
}

/// A user as the system of record holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub kind: UserKind,
    pub username: Username,
    pub email: Email,
    pub full_name: FullName,
    pub profile: Profile,
    pub platform: PlatformAccounts,
    /// Opt-in: system notifications are also sent as email.
    pub email_notifications: bool,
    pub status: UserStatus,
    pub default_role: RoleName,
    pub mfa_enabled: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Bumped by every change; the etag is derived from it.
    pub version: i64,
}

impl User {
    /// The opaque etag a client sends back to make an update conditional.
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }

    /// Reads an etag produced by [`User::etag`]; `None` when it is not one of ours.
    pub fn parse_etag(etag: &str) -> Option<i64> {
        etag.trim().strip_prefix("W/\"")?.strip_suffix('"')?.parse().ok()
    }
}
