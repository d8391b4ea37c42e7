//! Per-resource roles on the query engine. Access to a dataset, view or
//! domain is membership of the login in that resource's role for the level
//! held: `stw_read_<id>` or `stw_owner_<id>` (the id as 32 hex digits, so
//! every name fits PostgreSQL's 63 bytes). A login is a member of exactly
//! one role per resource it can reach: the one of its highest level.

use uuid::Uuid;

use crate::id::ResourceId;
use crate::ownership::AccessLevel;

const PREFIX: &str = "stw_";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceRole {
    pub resource: ResourceId,
    pub level: AccessLevel,
}

impl ResourceRole {
    pub fn new(resource: ResourceId, level: AccessLevel) -> Self {
        Self { resource, level }
    }

    /// The role's name on the engine (plain lower-case ASCII: no quoting needed,
    /// though the adapter quotes it anyway).
    pub fn name(&self) -> String {
        format!("{PREFIX}{}_{}", self.level.as_str(), self.resource.as_uuid().simple())
    }

    /// The role a name stands for; `None` for any other name (a login, a
    /// role someone else created).
    pub fn parse(name: &str) -> Option<Self> {
        let rest = name.strip_prefix(PREFIX)?;
        let (level, hex) = rest.split_once('_')?;
        let level = AccessLevel::from_str_opt(level)?;
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return None;
        }
        let id = Uuid::try_parse(hex).ok()?;
        Some(Self { resource: ResourceId::from_uuid(id), level })
    }
}

impl std::fmt::Display for ResourceRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_fit_postgres() {
        for level in AccessLevel::ALL {
            let r = ResourceRole::new(ResourceId::new(), level);
            assert!(r.name().len() <= 63, "{}", r.name());
            assert_eq!(ResourceRole::parse(&r.name()), Some(r));
        }
        for other in [
            "postgres",
            "stw_read_",
            "stw_write_0123456789abcdef0123456789abcdef",
            "stw_read_0123456789ABCDEF0123456789ABCDEF",
        ] {
            assert_eq!(ResourceRole::parse(other), None, "{other}");
        }
    }
}
