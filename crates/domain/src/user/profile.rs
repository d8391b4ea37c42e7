//! The self-service profile and the admin-only platform accounts.

use crate::error::FieldViolation;
use crate::text::clean;

/// Free-text profile fields a user keeps up to date themselves. Empty = unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub position: String,
    pub about: String,
    pub location: String,
    pub organization: String,
    pub phone_number: String,
}

/// The profile fields by name, as they appear in an update mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileField {
    Position,
    About,
    Location,
    Organization,
    PhoneNumber,
}

impl ProfileField {
    pub const ALL: [ProfileField; 5] =
        [Self::Position, Self::About, Self::Location, Self::Organization, Self::PhoneNumber];

    pub fn name(self) -> &'static str {
        match self {
            Self::Position => "position",
            Self::About => "about",
            Self::Location => "location",
            Self::Organization => "organization",
            Self::PhoneNumber => "phone_number",
        }
    }

    /// Validates a new value for this field.
    pub fn parse(self, raw: &str) -> Result<String, FieldViolation> {
        match self {
            Self::About => clean("about", raw, 2000, true),
            Self::PhoneNumber => {
                let s = clean("phone_number", raw, 32, false)?;
                let ok = s.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
                    && (s.is_empty() || s.chars().filter(char::is_ascii_digit).count() >= 3);
                if !ok {
                    return Err(FieldViolation::new(
                        "phone_number",
                        "INVALID_PHONE_NUMBER",
                        "must be digits with optional + - ( ) . and spaces",
                    ));
                }
                Ok(s)
            }
            other => clean(other.name(), raw, 100, false),
        }
    }

    pub fn get(self, p: &Profile) -> &str {
        match self {
            Self::Position => &p.position,
            Self::About => &p.about,
            Self::Location => &p.location,
            Self::Organization => &p.organization,
            Self::PhoneNumber => &p.phone_number,
        }
    }

    pub fn set(self, p: &mut Profile, value: String) {
        match self {
            Self::Position => p.position = value,
            Self::About => p.about = value,
            Self::Location => p.location = value,
            Self::Organization => p.organization = value,
            Self::PhoneNumber => p.phone_number = value,
        }
    }
}

/// The data warehouses whose login names Steward records per user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Databricks,
    Redshift,
    Snowflake,
    Synapse,
}

impl Platform {
    pub const ALL: [Platform; 4] = [Self::Databricks, Self::Redshift, Self::Snowflake, Self::Synapse];

    /// The field name in the API (`databricks_username`, ...).
    pub fn field(self) -> &'static str {
        match self {
            Self::Databricks => "databricks_username",
            Self::Redshift => "redshift_username",
            Self::Snowflake => "snowflake_username",
            Self::Synapse => "synapse_username",
        }
    }
}

/// A login name on a warehouse: 1–128 characters, no spaces or control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformUsername(String);

impl PlatformUsername {
    pub fn parse(platform: Platform, raw: &str) -> Result<Option<Self>, FieldViolation> {
        let s = clean(platform.field(), raw, 128, false)?;
        if s.is_empty() {
            return Ok(None);
        }
        if s.contains(char::is_whitespace) {
            return Err(FieldViolation::new(platform.field(), "INVALID_PLATFORM_USERNAME", "must not contain spaces"));
        }
        Ok(Some(Self(s)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Per-warehouse usernames. Only an admin may set them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformAccounts {
    pub databricks: Option<PlatformUsername>,
    pub redshift: Option<PlatformUsername>,
    pub snowflake: Option<PlatformUsername>,
    pub synapse: Option<PlatformUsername>,
}

impl PlatformAccounts {
    pub fn get(&self, p: Platform) -> Option<&PlatformUsername> {
        match p {
            Platform::Databricks => self.databricks.as_ref(),
            Platform::Redshift => self.redshift.as_ref(),
            Platform::Snowflake => self.snowflake.as_ref(),
            Platform::Synapse => self.synapse.as_ref(),
        }
    }

    pub fn set(&mut self, p: Platform, v: Option<PlatformUsername>) {
        match p {
            Platform::Databricks => self.databricks = v,
            Platform::Redshift => self.redshift = v,
            Platform::Snowflake => self.snowflake = v,
            Platform::Synapse => self.synapse = v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers() {
        assert_eq!(ProfileField::PhoneNumber.parse(" +1 (555) 010-9999 ").unwrap(), "+1 (555) 010-9999");
        assert_eq!(ProfileField::PhoneNumber.parse("").unwrap(), "");
        for bad in ["call me", "12", "+1 555 0100 x12"] {
            assert_eq!(ProfileField::PhoneNumber.parse(bad).unwrap_err().reason, "INVALID_PHONE_NUMBER", "{bad}");
        }
    }

    #[test]
    fn platform_usernames() {
        assert_eq!(PlatformUsername::parse(Platform::Snowflake, " ").unwrap(), None);
        assert_eq!(PlatformUsername::parse(Platform::Snowflake, "ANN_01").unwrap().unwrap().as_str(), "ANN_01");
        let e = PlatformUsername::parse(Platform::Synapse, "a b").unwrap_err();
        assert_eq!((e.field.as_str(), e.reason), ("synapse_username", "INVALID_PLATFORM_USERNAME"));
    }
}
