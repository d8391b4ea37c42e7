use time::OffsetDateTime;

use crate::error::{DomainError, FieldViolation};
use crate::id::{ApiKeyId, ProjectId, UserId};
use crate::role::RoleName;
use crate::text::clean;

/// An API key as listed: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub name: String,
    pub description: String,
    /// The first characters of the token, to recognise it (`stw_key_abcdefgh`).
    pub prefix: String,
    pub role: RoleName,
    pub project_id: Option<ProjectId>,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyState {
    Active,
    Expired,
    Revoked,
}

impl ApiKey {
    pub fn state(&self, now: OffsetDateTime) -> ApiKeyState {
        if self.revoked_at.is_some() {
            ApiKeyState::Revoked
        } else if self.expires_at.is_some_and(|t| t <= now) {
            ApiKeyState::Expired
        } else {
            ApiKeyState::Active
        }
    }
}

/// A validated request for a new key.
#[derive(Debug, Clone)]
pub struct NewKeyRequest {
    /// `None`: the caller.
    pub owner: Option<UserId>,
    pub name: String,
    pub description: String,
    pub project: Option<ProjectId>,
    pub expires_at: Option<OffsetDateTime>,
    /// `None`: the owner's default role.
    pub role: Option<RoleName>,
}

impl NewKeyRequest {
    /// Checks the free-text fields and that an expiry lies in the future.
    pub fn validate(self, now: OffsetDateTime) -> Result<Self, DomainError> {
        let mut errors: Vec<FieldViolation> = Vec::new();
        let name = clean("name", &self.name, 100, false).map_err(|v| errors.push(v)).unwrap_or_default();
        if name.is_empty() && errors.is_empty() {
            errors.push(FieldViolation::new("name", "INVALID_KEY_NAME", "is required"));
        }
        let description =
            clean("description", &self.description, 500, false).map_err(|v| errors.push(v)).unwrap_or_default();
        if self.expires_at.is_some_and(|t| t <= now) {
            errors.push(FieldViolation::new("expire_time", "EXPIRY_IN_PAST", "must lie in the future"));
        }
        if errors.is_empty() {
            Ok(Self { name, description, ..self })
        } else {
            Err(DomainError::InvalidArgument(errors))
        }
    }
}
