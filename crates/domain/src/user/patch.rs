//! A validated partial update of a user, built field by field from an update mask.

use super::{Email, FullName, Platform, PlatformUsername, ProfileField};
use crate::error::FieldViolation;

/// Every path an update mask may name.
pub const UPDATABLE_FIELDS: &[&str] = &[
    "full_name",
    "email",
    "position",
    "about",
    "location",
    "organization",
    "phone_number",
    "email_notifications",
    "databricks_username",
    "redshift_username",
    "snowflake_username",
    "synapse_username",
];

/// What the caller sent for one masked field.
pub enum RawValue<'a> {
    Text(&'a str),
    Flag(bool),
}

#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub full_name: Option<FullName>,
    pub email: Option<Email>,
    pub profile: Vec<(ProfileField, String)>,
    pub email_notifications: Option<bool>,
    /// Admin-only: setting any of these needs `users.update`.
    pub platform: Vec<(Platform, Option<PlatformUsername>)>,
}

impl UserPatch {
    /// Builds a patch from mask paths; `value` reads the caller's value for a
    /// path. Every bad path or value is reported, not just the first.
    pub fn from_mask<'a>(paths: &[String], value: impl Fn(&str) -> RawValue<'a>) -> Result<Self, Vec<FieldViolation>> {
        let mut patch = Self::default();
        let mut errors = Vec::new();
        if paths.is_empty() {
            errors.push(FieldViolation::new(
                "update_mask",
                "EMPTY_UPDATE_MASK",
                "name the fields to change, e.g. {\"paths\": [\"position\"]}",
            ));
        }
        for path in paths {
            if let Err(v) = patch.set(path, value(path)) {
                errors.push(v);
            }
        }
        if errors.is_empty() { Ok(patch) } else { Err(errors) }
    }

    fn set(&mut self, path: &str, raw: RawValue<'_>) -> Result<(), FieldViolation> {
        let text = |raw: RawValue<'_>| match raw {
            RawValue::Text(s) => s.to_string(),
            RawValue::Flag(b) => b.to_string(),
        };
        match path {
            "full_name" => self.full_name = Some(FullName::parse(&text(raw))?),
            "email" => self.email = Some(Email::parse(&text(raw))?),
            "email_notifications" => {
                self.email_notifications = Some(matches!(raw, RawValue::Flag(true)));
            }
            _ => {
                if let Some(f) = ProfileField::ALL.into_iter().find(|f| f.name() == path) {
                    self.profile.push((f, f.parse(&text(raw))?));
                } else if let Some(p) = Platform::ALL.into_iter().find(|p| p.field() == path) {
                    self.platform.push((p, PlatformUsername::parse(p, &text(raw))?));
                } else {
                    return Err(FieldViolation::new(
                        "update_mask",
                        "UNKNOWN_FIELD",
                        format!("{path:?} cannot be updated; updatable: {}", UPDATABLE_FIELDS.join(", ")),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn touches_platform(&self) -> bool {
        !self.platform.is_empty()
    }

    /// The mask paths this patch changes, for the audit trail.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        if self.full_name.is_some() {
            f.push("full_name");
        }
        if self.email.is_some() {
            f.push("email");
        }
        f.extend(self.profile.iter().map(|(p, _)| p.name()));
        if self.email_notifications.is_some() {
            f.push("email_notifications");
        }
        f.extend(self.platform.iter().map(|(p, _)| p.field()));
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn builds_and_reports_every_violation() {
        let ok =
            UserPatch::from_mask(&paths(&["position", "snowflake_username", "email_notifications"]), |p| match p {
                "email_notifications" => RawValue::Flag(true),
                _ => RawValue::Text("Lead"),
            })
            .unwrap();
        assert!(ok.touches_platform());
        assert_eq!(ok.email_notifications, Some(true));
        assert_eq!(ok.fields(), vec!["position", "email_notifications", "snowflake_username"]);

        let errs = UserPatch::from_mask(&paths(&["email", "nope", "full_name"]), |_| RawValue::Text("")).unwrap_err();
        let got: Vec<_> = errs.iter().map(|v| (v.field.as_str(), v.reason)).collect();
        assert_eq!(
            got,
            vec![("email", "INVALID_EMAIL"), ("update_mask", "UNKNOWN_FIELD"), ("full_name", "INVALID_FULL_NAME")]
        );
        assert_eq!(UserPatch::from_mask(&[], |_| RawValue::Flag(false)).unwrap_err()[0].reason, "EMPTY_UPDATE_MASK");
    }
}
