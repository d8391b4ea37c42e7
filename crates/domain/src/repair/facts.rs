//! The rules of the report: what the store and the engine say about one
//! user ([`UserFacts`], [`EngineFacts`]) turned into findings. Pure, so every
//! class is unit-tested without a database.

use std::collections::BTreeMap;

use super::finding::{Finding, FindingKind, Fix};
use crate::id::{ProjectId, ResourceId, UserId};
use crate::ownership::AccessLevel;
use crate::sql::{ResourceRole, SqlUsername};
use crate::user::UserStatus;

/// A group a user belongs to that grants nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadGroup {
    Inactive,
    Missing,
}

/// One user as the database holds them, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFacts {
    pub user: UserId,
    pub username: String,
    pub status: UserStatus,
    /// Memberships in groups that are inactive or gone.
    pub dead_memberships: Vec<(ResourceId, DeadGroup)>,
    /// Entries of groups the user owns for resources that are gone: (group, resource).
    pub dangling_entries: Vec<(ResourceId, ResourceId)>,
    /// The user's personal groups (id, name): one, normally.
    pub personal_groups: Vec<(ResourceId, String)>,
    /// Sessions and API keys neither revoked nor expired.
    pub live_sessions: u32,
    pub live_keys: u32,
    /// Read grants and project memberships past their end, still stored.
    pub ended_reader_grants: Vec<ResourceId>,
    pub ended_memberships: Vec<ProjectId>,
    pub owned_resources: u32,
    /// Platform usernames the user shares: (platform, username, the other user).
    pub shared_platform_names: Vec<(&'static str, String, UserId)>,
    /// Effective access to engine-mirrored kinds (own grants and groups'),
    /// possibly several levels per resource.
    pub access: Vec<(ResourceId, AccessLevel)>,
    /// The user's SQL login name, when they have SQL credentials.
    pub sql_login: Option<SqlUsername>,
}

/// What the query engine says about the user's login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineFacts {
    /// No query engine is configured: parity is not checked.
    NotConfigured,
    /// The user has no SQL credentials: nothing to compare.
    NoLogin,
    Unreachable(String),
    Login {
        exists: bool,
        roles: Vec<ResourceRole>,
    },
}

/// The roles a login must hold: one per resource, at the highest level held.
pub fn expected_roles(access: &[(ResourceId, AccessLevel)]) -> Vec<ResourceRole> {
    let mut best: BTreeMap<ResourceId, AccessLevel> = BTreeMap::new();
    for &(r, level) in access {
        let e = best.entry(r).or_insert(level);
        *e = (*e).max(level);
    }
    best.into_iter().map(|(r, l)| ResourceRole::new(r, l)).collect()
}

/// Every finding about one user.
pub fn inspect(f: &UserFacts, engine: &EngineFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    let user = f.user;
    let at = |kind, target: String, expected: &str, found: String, fix| Finding {
        kind,
        user: Some(user),
        target,
        expected: expected.to_string(),
        found,
        fix,
    };
    for &(group, dead) in &f.dead_memberships {
        let (kind, found) = match dead {
            DeadGroup::Inactive => (FindingKind::MemberOfInactiveGroup, "a member of an inactive group"),
            DeadGroup::Missing => (FindingKind::MemberOfMissingGroup, "a member of a group that does not exist"),
        };
        let fix = Fix::RemoveMembership { group, user };
        out.push(at(kind, format!("group/{group}"), "memberships of active groups only", found.into(), fix));
    }
    for &(group, resource) in &f.dangling_entries {
        out.push(at(
            FindingKind::EntryForMissingResource,
            format!("group/{group}"),
            "entries for existing resources only",
            format!("an entry for resource/{resource}, which does not exist"),
            Fix::DeleteEntry { group, resource },
        ));
    }
    personal(f, &mut out);
    access(f, &mut out);
    parity(f, engine, &mut out);
    out
}

fn personal(f: &UserFacts, out: &mut Vec<Finding>) {
    let user = f.user;
    if f.status == UserStatus::Deleted {
        for (group, name) in &f.personal_groups {
            out.push(Finding {
                kind: FindingKind::PersonalGroupWithoutUser,
                user: Some(user),
                target: format!("group/{group}"),
                expected: "no personal group for a deleted user".into(),
                found: format!("personal group {name}"),
                fix: Fix::DeleteGroup { group: *group },
            });
        }
        return;
    }
    match f.personal_groups.as_slice() {
        [] => out.push(Finding {
            kind: FindingKind::PersonalGroupMissing,
            user: Some(user),
            target: format!("user/{user}"),
            expected: format!("a personal group named {}", f.username),
            found: "none".into(),
            fix: Fix::CreatePersonalGroup { user, name: f.username.clone() },
        }),
        groups => {
            for (group, name) in groups.iter().filter(|(_, n)| *n != f.username) {
                out.push(Finding {
                    kind: FindingKind::PersonalGroupMisnamed,
                    user: Some(user),
                    target: format!("group/{group}"),
                    expected: format!("named {}", f.username),
                    found: format!("named {name}"),
                    fix: Fix::RenamePersonalGroup { group: *group, name: f.username.clone() },
                });
            }
        }
    }
}

fn access(f: &UserFacts, out: &mut Vec<Finding>) {
    let user = f.user;
    let inactive = f.status != UserStatus::Active;
    let state = if f.status == UserStatus::Deleted { "deleted" } else { "suspended" };
    let mut push = |kind, target: String, expected: &str, found: String, fix| {
        out.push(Finding { kind, user: Some(user), target, expected: expected.into(), found, fix })
    };
    if inactive && f.live_sessions > 0 {
        push(
            FindingKind::SessionsOfInactiveUser,
            format!("user/{user}"),
            "no live session",
            format!("{} live session(s) of a {state} user", f.live_sessions),
            Fix::RevokeSessions { user },
        );
    }
    if inactive && f.live_keys > 0 {
        push(
            FindingKind::KeysOfInactiveUser,
            format!("user/{user}"),
            "no live API key",
            format!("{} live API key(s) of a {state} user", f.live_keys),
            Fix::RevokeKeys { user },
        );
    }
    if inactive && f.owned_resources > 0 {
        push(
            FindingKind::ResourcesOfInactiveOwner,
            format!("user/{user}"),
            "resources owned by active users",
            format!("{} resource(s) owned by a {state} user", f.owned_resources),
            Fix::Manual { why: "reactivate the user, or delete them with a new owner (or give each resource one)" },
        );
    }
    for &resource in &f.ended_reader_grants {
        push(
            FindingKind::ReaderGrantExpired,
            format!("resource/{resource}"),
            "no stored grant past its end",
            "a read grant that has ended".into(),
            Fix::DropReaderGrant { resource, user },
        );
    }
    for &project in &f.ended_memberships {
        push(
            FindingKind::MembershipExpired,
            format!("project/{project}"),
            "no stored membership past its end",
            "a membership that has ended".into(),
            Fix::DropMembership { project, user },
        );
    }
}

fn parity(f: &UserFacts, engine: &EngineFacts, out: &mut Vec<Finding>) {
    let user = f.user;
    for (platform, name, other) in &f.shared_platform_names {
        out.push(Finding {
            kind: FindingKind::PlatformUsernameShared,
            user: Some(user),
            target: format!("user/{user}"),
            expected: format!("a {platform} username of one user only"),
            found: format!("{platform} username {name} also mapped to user/{other}"),
            fix: Fix::Manual { why: "give one of the two users another platform username" },
        });
    }
    let Some(login) = &f.sql_login else { return };
    let (exists, held) = match engine {
        EngineFacts::NotConfigured | EngineFacts::NoLogin => return,
        EngineFacts::Unreachable(why) => {
            out.push(Finding {
                kind: FindingKind::WarehouseUnreachable,
                user: Some(user),
                target: format!("login/{login}"),
                expected: "the query engine answers".into(),
                found: format!("unreachable: {why}"),
                fix: Fix::CheckEngine { user },
            });
            return;
        }
        EngineFacts::Login { exists, roles } => (*exists, roles),
    };
    if !exists {
        out.push(Finding {
            kind: FindingKind::SqlLoginMissing,
            user: Some(user),
            target: format!("login/{login}"),
            expected: "a login for the stored SQL credentials".into(),
            found: "no such login on the query engine".into(),
            fix: Fix::CreateLogin { user, can_log_in: f.status == UserStatus::Active },
        });
    }
    let expected = expected_roles(&f.access);
    for role in expected.iter().filter(|r| !held.contains(r)) {
        out.push(Finding {
            kind: FindingKind::WarehouseGrantMissing,
            user: Some(user),
            target: role.name(),
            expected: format!("{login} is a member"),
            found: "not a member".into(),
            fix: Fix::Grant { role: *role },
        });
    }
    for role in held.iter().filter(|r| !expected.contains(r)) {
        out.push(Finding {
            kind: FindingKind::WarehouseGrantExtra,
            user: Some(user),
            target: role.name(),
            expected: format!("{login} is no member"),
            found: "a member".into(),
            fix: Fix::Revoke { role: *role },
        });
    }
}
