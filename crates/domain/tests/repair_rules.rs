//! The report's rules on facts alone: what each class finds, and the fix.

use steward_domain::id::{ProjectId, ResourceId, UserId};
use steward_domain::ownership::AccessLevel;
use steward_domain::repair::{
    DeadGroup, EngineFacts, FindingKind, FindingRow, FindingsCsv, Fix, UserFacts, expected_roles, inspect,
};
use steward_domain::sql::{ResourceRole, SqlUsername};
use steward_domain::user::UserStatus;

fn clean(status: UserStatus) -> UserFacts {
    let user = UserId::new();
    UserFacts {
        user,
        username: "ann".into(),
        status,
        dead_memberships: vec![],
        dangling_entries: vec![],
        personal_groups: if status == UserStatus::Deleted { vec![] } else { vec![(ResourceId::new(), "ann".into())] },
        live_sessions: 0,
        live_keys: 0,
        ended_reader_grants: vec![],
        ended_memberships: vec![],
        owned_resources: 0,
        shared_platform_names: vec![],
        access: vec![],
        sql_login: None,
    }
}

fn kinds(f: &UserFacts, e: &EngineFacts) -> Vec<FindingKind> {
    inspect(f, e).into_iter().map(|f| f.kind).collect()
}

#[test]
fn a_clean_user_has_no_findings_in_any_state() {
    for s in [UserStatus::Active, UserStatus::Suspended, UserStatus::Deleted] {
        assert_eq!(kinds(&clean(s), &EngineFacts::NotConfigured), vec![], "{s:?}");
    }
}

#[test]
fn each_class_is_found_with_its_fix() {
    let mut f = clean(UserStatus::Active);
    let (g, r, p) = (ResourceId::new(), ResourceId::new(), ProjectId::new());
    f.dead_memberships = vec![(g, DeadGroup::Inactive), (r, DeadGroup::Missing)];
    f.dangling_entries = vec![(g, r)];
    f.personal_groups[0].1 = "someone".into();
    f.ended_reader_grants = vec![r];
    f.ended_memberships = vec![p];
    f.shared_platform_names = vec![("Snowflake", "ann_sf".into(), UserId::new())];
    f.live_sessions = 3; // an active user's sessions are no finding
    let found = inspect(&f, &EngineFacts::NotConfigured);
    let k: Vec<_> = found.iter().map(|f| f.kind).collect();
    use FindingKind::*;
    assert_eq!(
        k,
        vec![
            MemberOfInactiveGroup,
            MemberOfMissingGroup,
            EntryForMissingResource,
            PersonalGroupMisnamed,
            ReaderGrantExpired,
            MembershipExpired,
            PlatformUsernameShared,
        ]
    );
    assert_eq!(found[0].fix, Fix::RemoveMembership { group: g, user: f.user });
    assert_eq!(found[3].fix, Fix::RenamePersonalGroup { group: f.personal_groups[0].0, name: "ann".into() });
    assert!(found[6].fix.is_manual());
}

#[test]
fn inactive_users_keep_no_sessions_keys_or_personal_group() {
    let mut s = clean(UserStatus::Suspended);
    s.live_sessions = 1;
    s.live_keys = 2;
    s.owned_resources = 4;
    use FindingKind::*;
    assert_eq!(
        kinds(&s, &EngineFacts::NotConfigured),
        vec![SessionsOfInactiveUser, KeysOfInactiveUser, ResourcesOfInactiveOwner]
    );
    let mut d = clean(UserStatus::Deleted);
    d.personal_groups = vec![(ResourceId::new(), "ann".into())];
    assert_eq!(kinds(&d, &EngineFacts::NotConfigured), vec![PersonalGroupWithoutUser]);
    let mut missing = clean(UserStatus::Active);
    missing.personal_groups.clear();
    let found = inspect(&missing, &EngineFacts::NotConfigured);
    assert_eq!(found[0].fix, Fix::CreatePersonalGroup { user: missing.user, name: "ann".into() });
}

#[test]
fn the_login_holds_one_role_per_resource_at_the_highest_level() {
    let (a, b) = (ResourceId::new(), ResourceId::new());
    let access = vec![(a, AccessLevel::Read), (b, AccessLevel::Read), (a, AccessLevel::Owner), (b, AccessLevel::Read)];
    let mut want = vec![ResourceRole::new(a, AccessLevel::Owner), ResourceRole::new(b, AccessLevel::Read)];
    want.sort();
    assert_eq!(expected_roles(&access), want);
}

#[test]
fn parity_finds_missing_and_extra_grants_and_a_missing_login() {
    let (a, b, c) = (ResourceId::new(), ResourceId::new(), ResourceId::new());
    let mut f = clean(UserStatus::Active);
    f.access = vec![(a, AccessLevel::Owner), (b, AccessLevel::Read)];
    f.sql_login = Some(SqlUsername::parse("ann", "n").unwrap());
    let held = vec![ResourceRole::new(a, AccessLevel::Owner), ResourceRole::new(c, AccessLevel::Read)];
    let found = inspect(&f, &EngineFacts::Login { exists: true, roles: held });
    use FindingKind::*;
    assert_eq!(found.iter().map(|f| f.kind).collect::<Vec<_>>(), vec![WarehouseGrantMissing, WarehouseGrantExtra]);
    assert_eq!(found[0].fix, Fix::Grant { role: ResourceRole::new(b, AccessLevel::Read) });
    assert_eq!(found[1].fix, Fix::Revoke { role: ResourceRole::new(c, AccessLevel::Read) });

    let gone = inspect(&f, &EngineFacts::Login { exists: false, roles: vec![] });
    assert_eq!(
        gone.iter().map(|f| f.kind).collect::<Vec<_>>(),
        vec![SqlLoginMissing, WarehouseGrantMissing, WarehouseGrantMissing]
    );
    let down = inspect(&f, &EngineFacts::Unreachable("down".into()));
    assert_eq!(down.iter().map(|f| f.kind).collect::<Vec<_>>(), vec![WarehouseUnreachable]);
    assert!(down[0].fix.on_engine(), "repaired later, never skipped");
    assert_eq!(kinds(&f, &EngineFacts::NotConfigured), vec![], "no engine, no parity");
}

#[test]
fn the_findings_csv_neutralises_formulas() {
    let row = FindingRow {
        seq: 1,
        kind: "PERSONAL_GROUP_MISNAMED".into(),
        user: None,
        target: "=HYPERLINK(\"x\")".into(),
        expected: "+1".into(),
        found: "a, b".into(),
        fix: "@SUM".into(),
        outcome: String::new(),
        outcome_detail: "-2".into(),
    };
    let mut csv = FindingsCsv::new();
    csv.push(&row);
    let text = String::from_utf8(csv.take()).unwrap();
    assert_eq!(
        text,
        "seq,kind,user_id,target,expected,found,fix,outcome,detail\r\n\
         1,PERSONAL_GROUP_MISNAMED,,\"'=HYPERLINK(\"\"x\"\")\",'+1,\"a, b\",'@SUM,,'-2\r\n"
    );
}
