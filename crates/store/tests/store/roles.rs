use std::sync::Arc;

use sea_orm::{ConnectionTrait, Statement, Value};
use sea_orm_migration::MigratorTrait;
use steward_domain::StoreError;
use steward_domain::auth::NewApiKey;
use steward_domain::effects::Effects;
use steward_domain::id::{ApiKeyId, SessionId, UserId};
use steward_domain::ports::{CredentialStore, RoleStore, TokenStore, UserStore};
use steward_domain::role::{Permission, PermissionSet, Role, RoleName, UnassignGuard};
use steward_domain::user::{User, UserStatus};
use steward_store::Store;
use time::Duration;
use tokio::sync::Barrier;

use crate::support::{
    NOW, audit, count, each_backend, each_empty_backend, effects, insert, insert_bare_user, new_user, session, user,
};

fn name(s: &str) -> RoleName {
    RoleName::parse(s, "name").unwrap()
}

fn role(n: &str, permissions: &[Permission]) -> Role {
    let names: Vec<String> = permissions.iter().map(|p| p.name().to_string()).collect();
    Role {
        name: name(n),
        description: format!("the {n}"),
        permissions: PermissionSet::parse(&names, "permissions").unwrap(),
        builtin: false,
        created_at: NOW,
        updated_at: NOW,
        version: 1,
    }
}

async fn create(store: &Store, n: &str, permissions: &[Permission]) -> Role {
    let r = role(n, permissions);
    store.create_role(&r, Effects::default()).await.unwrap();
    r
}

/// A user holding `roles`, with an API key acting with `key_role`.
async fn insert_with_key(store: &Store, username: &str, roles: &[&str], key_role: &str) -> User {
    let u = user(username);
    let mut new = new_user(u.clone());
    new.roles = roles.iter().map(|r| name(r)).collect();
    new.api_key = Some(NewApiKey {
        id: ApiKeyId::new(),
        user_id: u.id,
        name: "key".into(),
        description: String::new(),
        project_id: None,
        prefix: "stw_key_xx".into(),
        lookup: format!("key-{username}"),
        digest: vec![5; 32],
        role: name(key_role),
        created_at: NOW,
        expires_at: None,
    });
    store.insert_user(new, Effects::default()).await.unwrap();
    u
}

/// Opens a session acting with `role`.
async fn open(store: &Store, u: UserId, lookup: &str, role: &str) -> SessionId {
    let mut s = session(u, lookup);
    s.role = name(role);
    let id = s.id;
    store.open_session(s, Effects::default()).await.unwrap();
    id
}

async fn admin(store: &Store, username: &str) -> User {
    let u = user(username);
    let mut new = new_user(u.clone());
    new.roles = vec![RoleName::admin()];
    store.insert_user(new, Effects::default()).await.unwrap();
    u
}

/// Sets a user's status behind the domain's back.
async fn set_status(store: &Store, u: UserId, status: UserStatus) {
    let c = store.connection();
    c.execute_raw(Statement::from_sql_and_values(
        c.get_database_backend(),
        "UPDATE users SET status = $1 WHERE id = $2",
        vec![Value::from(status.as_str()), u.as_uuid().into()],
    ))
    .await
    .unwrap();
}

async fn effect_rows(store: &Store) -> (i64, i64) {
    (count(store, "audit_events").await, count(store, "outbox").await)
}

fn is_refused<T: std::fmt::Debug>(r: &Result<T, StoreError>, why: &str) -> bool {
    matches!(r, Err(StoreError::Refused { reason }) if *reason == why)
}

#[tokio::test]
async fn built_in_roles_are_there_from_the_start() {
    each_backend(|store, _| async move {
        let roles = store.list_roles().await.unwrap();
        let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["admin", "default"]);
        assert!(roles.iter().all(|r| r.builtin && r.version == 1));
        let admin = store.get_role(&RoleName::admin()).await.unwrap();
        assert_eq!(admin.permissions, PermissionSet::all());
        let default = store.get_role(&RoleName::default_role()).await.unwrap();
        assert_eq!(default.permissions, PermissionSet::none());
    })
    .await;
}

#[tokio::test]
async fn create_get_list_update_delete() {
    each_backend(|store, _| async move {
        let actor = UserId::new();
        let auditors = role("auditors", &[Permission::AuditRead, Permission::UsersRead]);
        store.create_role(&auditors, effects(actor, "role.create")).await.unwrap();
        assert_eq!(store.get_role(&auditors.name).await.unwrap(), auditors);
        assert_eq!(effect_rows(&store).await, (1, 1));

        // Duplicates, built-in names included; nothing of theirs is written.
        let mut dup = role("auditors", &[]);
        dup.description = "another".into();
        let r = store.create_role(&dup, effects(actor, "role.create")).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "role" })), "{r:?}");
        let r = store.create_role(&role("admin", &[]), effects(actor, "role.create")).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "role" })), "{r:?}");
        assert_eq!(store.get_role(&auditors.name).await.unwrap(), auditors);
        assert!(matches!(store.get_role(&name("nobody")).await, Err(StoreError::NotFound)));
        assert_eq!(effect_rows(&store).await, (1, 1));

        // By name, byte order on both backends (`-` < `_` < letters).
        for n in ["ab", "a_c", "a-b"] {
            create(&store, n, &[]).await;
        }
        let names: Vec<String> = store.list_roles().await.unwrap().iter().map(|r| r.name.to_string()).collect();
        assert_eq!(names, ["a-b", "a_c", "ab", "admin", "auditors", "default"]);

        // A conditional update.
        let mut changed = auditors.clone();
        changed.description = "reads the trail".into();
        changed.permissions = PermissionSet::parse(&["audit.read".into()], "p").unwrap();
        changed.version = 2;
        changed.updated_at = NOW + Duration::hours(1);
        store.update_role(&auditors.name, &changed, 1, effects(actor, "role.update")).await.unwrap();
        assert_eq!(store.get_role(&auditors.name).await.unwrap(), changed);
        assert_eq!(effect_rows(&store).await, (2, 2));

        let mut stale = changed.clone();
        stale.description = "lost".into();
        stale.version = 2;
        let r = store.update_role(&auditors.name, &stale, 1, effects(actor, "role.update")).await;
        assert!(matches!(r, Err(StoreError::Stale)), "{r:?}");
        let r = store.update_role(&name("nobody"), &stale, 1, effects(actor, "role.update")).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        let mut builtin = store.get_role(&RoleName::admin()).await.unwrap();
        builtin.version += 1;
        let r = store.update_role(&RoleName::admin(), &builtin, 1, effects(actor, "role.update")).await;
        assert!(is_refused(&r, "BUILTIN_ROLE"), "{r:?}");
        // Renamed onto a taken name, built-in or custom.
        for taken in ["default", "ab"] {
            let mut renamed = changed.clone();
            renamed.name = name(taken);
            renamed.version = 3;
            let r = store.update_role(&auditors.name, &renamed, 2, effects(actor, "role.update")).await;
            assert!(matches!(r, Err(StoreError::Conflict { key: "role" })), "{taken}: {r:?}");
        }
        assert_eq!(store.get_role(&auditors.name).await.unwrap(), changed);
        assert_eq!(store.get_role(&name("ab")).await.unwrap(), role("ab", &[]));
        assert_eq!(effect_rows(&store).await, (2, 2));

        // Delete: nobody holds it.
        assert_eq!(store.delete_role(&auditors.name, false, effects(actor, "role.delete")).await.unwrap(), 0);
        assert!(matches!(store.get_role(&auditors.name).await, Err(StoreError::NotFound)));
        let r = store.delete_role(&auditors.name, true, effects(actor, "role.delete")).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        let r = store.delete_role(&RoleName::admin(), true, effects(actor, "role.delete")).await;
        assert!(is_refused(&r, "BUILTIN_ROLE"), "{r:?}");
        assert_eq!(effect_rows(&store).await, (3, 3));
    })
    .await;
}

#[tokio::test]
async fn a_rename_carries_over_to_assignments_default_roles_sessions_and_keys() {
    each_backend(|store, _| async move {
        let analysts = create(&store, "analysts", &[Permission::UsersRead]).await;
        let ann = insert_with_key(&store, "ann", &["analysts"], "analysts").await;
        store.set_default_role(ann.id, &analysts.name, NOW, Effects::default()).await.unwrap();
        open(&store, ann.id, "ann-analysts", "analysts").await;
        open(&store, ann.id, "ann-default", "default").await;
        let bob = insert_with_key(&store, "bob", &["analysts"], "default").await;
        let ann_before = store.get_user(ann.id).await.unwrap();
        let bob_before = store.get_user(bob.id).await.unwrap();

        let mut renamed = analysts.clone();
        renamed.name = name("data-analysts");
        renamed.version = 2;
        renamed.updated_at = NOW + Duration::hours(1);
        store.update_role(&analysts.name, &renamed, 1, effects(ann.id, "role.update")).await.unwrap();

        assert!(matches!(store.get_role(&analysts.name).await, Err(StoreError::NotFound)));
        let got = store.get_role(&renamed.name).await.unwrap();
        assert_eq!(got, renamed);
        assert_eq!(got.created_at, NOW, "the creation time stays");
        assert_eq!(store.user_roles(ann.id).await.unwrap(), [renamed.name.clone()]);
        assert_eq!(store.user_roles(bob.id).await.unwrap(), [renamed.name.clone()]);
        assert_eq!(store.count_active_holders(&renamed.name).await.unwrap(), 2);
        assert_eq!(store.count_active_holders(&analysts.name).await.unwrap(), 0);

        let ann_after = store.get_user(ann.id).await.unwrap();
        assert_eq!(ann_after.default_role, renamed.name);
        assert_eq!((ann_after.version, ann_after.updated_at), (ann_before.version + 1, renamed.updated_at));
        assert_eq!(store.get_user(bob.id).await.unwrap(), bob_before, "bob's default role was not it");

        let s = store.find_session("ann-analysts").await.unwrap().unwrap();
        assert_eq!((s.role.as_str(), s.role_held), ("data-analysts", true));
        assert_eq!(s.role_permissions, ["users.read"]);
        assert_eq!(store.find_session("ann-default").await.unwrap().unwrap().role, RoleName::default_role());
        let k = store.find_api_key("key-ann").await.unwrap().unwrap();
        assert_eq!((k.role.as_str(), k.role_held), ("data-analysts", true));
        assert_eq!(k.role_permissions, ["users.read"]);
        assert_eq!(store.find_api_key("key-bob").await.unwrap().unwrap().role, RoleName::default_role());
        assert_eq!(effect_rows(&store).await, (1, 1));
    })
    .await;
}

#[tokio::test]
async fn a_held_role_is_deleted_only_with_force() {
    each_backend(|store, _| async move {
        let ops = create(&store, "ops", &[Permission::MaintenanceReport]).await;
        let ann = insert_with_key(&store, "ann", &["ops"], "ops").await;
        store.set_default_role(ann.id, &ops.name, NOW, Effects::default()).await.unwrap();
        open(&store, ann.id, "ann-ops", "ops").await;
        let bob = insert_with_key(&store, "bob", &["ops", "admin"], "admin").await;
        open(&store, bob.id, "bob-admin", "admin").await;
        let ann_before = store.get_user(ann.id).await.unwrap();

        let r = store.delete_role(&ops.name, false, effects(ann.id, "role.delete")).await;
        assert!(is_refused(&r, "ROLE_IN_USE"), "{r:?}");
        assert_eq!(store.get_role(&ops.name).await.unwrap(), ops);
        assert_eq!(store.user_roles(ann.id).await.unwrap(), std::slice::from_ref(&ops.name));
        assert_eq!(store.get_user(ann.id).await.unwrap(), ann_before);
        assert_eq!(store.find_session("ann-ops").await.unwrap().unwrap().role, ops.name);
        assert_eq!(store.find_api_key("key-ann").await.unwrap().unwrap().role, ops.name);
        assert_eq!(effect_rows(&store).await, (0, 0));

        let mut fx = effects(ann.id, "role.delete");
        let at = NOW + Duration::minutes(5);
        fx.audit[0].at = at;
        assert_eq!(store.delete_role(&ops.name, true, fx).await.unwrap(), 2);
        assert!(matches!(store.get_role(&ops.name).await, Err(StoreError::NotFound)));
        assert!(store.user_roles(ann.id).await.unwrap().is_empty());
        assert_eq!(store.user_roles(bob.id).await.unwrap(), [RoleName::admin()]);
        let ann_after = store.get_user(ann.id).await.unwrap();
        assert_eq!(ann_after.default_role, RoleName::default_role());
        assert_eq!((ann_after.version, ann_after.updated_at), (ann_before.version + 1, at));
        let s = store.find_session("ann-ops").await.unwrap().unwrap();
        assert_eq!((s.role, s.role_held, s.role_permissions.len()), (RoleName::default_role(), true, 0));
        assert_eq!(store.find_api_key("key-ann").await.unwrap().unwrap().role, RoleName::default_role());
        assert_eq!(store.find_session("bob-admin").await.unwrap().unwrap().role, RoleName::admin());
        assert_eq!(store.find_api_key("key-bob").await.unwrap().unwrap().role, RoleName::admin());
        assert_eq!(effect_rows(&store).await, (1, 1));
    })
    .await;
}

#[tokio::test]
async fn assignments_default_roles_and_switching() {
    each_backend(|store, _| async move {
        let ops = create(&store, "ops", &[Permission::MaintenanceReport, Permission::UsersRead]).await;
        create(&store, "zeta", &[]).await;
        let ann = insert_with_key(&store, "ann", &[], "default").await;
        let other = insert(&store, "other").await;

        store.assign_role(ann.id, &ops.name, effects(ann.id, "role.assign")).await.unwrap();
        let again = store.assign_role(ann.id, &ops.name, effects(ann.id, "role.assign")).await;
        assert!(matches!(again, Err(StoreError::Conflict { key: "assignment" })), "{again:?}");
        let default = store.assign_role(ann.id, &RoleName::default_role(), effects(ann.id, "role.assign")).await;
        assert!(matches!(default, Err(StoreError::Conflict { key: "assignment" })), "{default:?}");
        let no_role = store.assign_role(ann.id, &name("nobody"), effects(ann.id, "role.assign")).await;
        assert!(matches!(no_role, Err(StoreError::NotFound)), "{no_role:?}");
        let no_user = store.assign_role(UserId::new(), &ops.name, effects(ann.id, "role.assign")).await;
        assert!(matches!(no_user, Err(StoreError::NotFound)), "{no_user:?}");
        assert_eq!(effect_rows(&store).await, (1, 1));

        store.assign_role(ann.id, &name("zeta"), Effects::default()).await.unwrap();
        store.assign_role(ann.id, &RoleName::admin(), Effects::default()).await.unwrap();
        assert_eq!(store.user_roles(ann.id).await.unwrap(), [RoleName::admin(), ops.name.clone(), name("zeta")]);
        assert!(store.user_roles(other.id).await.unwrap().is_empty());
        assert_eq!(store.count_active_holders(&ops.name).await.unwrap(), 1);
        assert_eq!(store.count_active_holders(&RoleName::default_role()).await.unwrap(), 2);
        set_status(&store, other.id, UserStatus::Suspended).await;
        assert_eq!(store.count_active_holders(&RoleName::default_role()).await.unwrap(), 1);

        // Default role: only one held; the user gets a new version.
        let before = store.get_user(ann.id).await.unwrap();
        let later = NOW + Duration::minutes(1);
        store.set_default_role(ann.id, &ops.name, later, effects(ann.id, "user.default_role")).await.unwrap();
        let after = store.get_user(ann.id).await.unwrap();
        assert_eq!((after.default_role.clone(), after.updated_at, after.version), (ops.name.clone(), later, 2));
        assert_eq!(before.version, 1);
        let r = store.set_default_role(other.id, &ops.name, later, effects(ann.id, "user.default_role")).await;
        assert!(is_refused(&r, "ROLE_NOT_HELD"), "{r:?}");
        let r = store.set_default_role(ann.id, &name("nobody"), later, effects(ann.id, "user.default_role")).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        let r = store.set_default_role(UserId::new(), &ops.name, later, effects(ann.id, "user.default_role")).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        assert_eq!(effect_rows(&store).await, (2, 2));

        // Switching: a live session, to a held role.
        let s = open(&store, ann.id, "ann-1", "default").await;
        store.switch_session_role(s, &ops.name, effects(ann.id, "auth.switch_role")).await.unwrap();
        let rec = store.find_session("ann-1").await.unwrap().unwrap();
        assert_eq!((rec.role.clone(), rec.role_held), (ops.name.clone(), true));
        assert_eq!(rec.role_permissions, ops.permissions.names());
        let theirs = open(&store, other.id, "other-1", "default").await;
        let r = store.switch_session_role(theirs, &ops.name, effects(ann.id, "auth.switch_role")).await;
        assert!(is_refused(&r, "ROLE_NOT_HELD"), "{r:?}");
        let r = store.switch_session_role(SessionId::new(), &ops.name, effects(ann.id, "auth.switch_role")).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        let r = store.switch_session_role(s, &name("nobody"), effects(ann.id, "auth.switch_role")).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        let gone = open(&store, ann.id, "ann-gone", "default").await;
        store.revoke_session(gone, NOW, Effects::default()).await.unwrap();
        let r = store.switch_session_role(gone, &ops.name, effects(ann.id, "auth.switch_role")).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        assert_eq!(effect_rows(&store).await, (3, 3));

        // Unassigning: the default role, sessions and keys acting with it fall back.
        store.switch_session_role(s, &name("zeta"), Effects::default()).await.unwrap();
        open(&store, ann.id, "ann-2", "ops").await;
        let key_ops = insert_with_key(&store, "keyed", &["ops"], "ops").await;
        open(&store, key_ops.id, "keyed-ops", "ops").await;
        let mut fx = effects(ann.id, "role.unassign");
        let at = NOW + Duration::minutes(2);
        fx.audit[0].at = at;
        store.unassign_role(ann.id, &ops.name, UnassignGuard::None, fx).await.unwrap();
        assert_eq!(store.user_roles(ann.id).await.unwrap(), [RoleName::admin(), name("zeta")]);
        let after = store.get_user(ann.id).await.unwrap();
        assert_eq!((after.default_role, after.updated_at, after.version), (RoleName::default_role(), at, 3));
        assert_eq!(store.find_session("ann-2").await.unwrap().unwrap().role, RoleName::default_role());
        assert_eq!(store.find_session("ann-1").await.unwrap().unwrap().role, name("zeta"), "another role stays");
        // Another holder keeps it.
        assert_eq!(store.find_session("keyed-ops").await.unwrap().unwrap().role, ops.name);
        assert_eq!(store.find_api_key("key-keyed").await.unwrap().unwrap().role, ops.name);
        let r = store.unassign_role(ann.id, &ops.name, UnassignGuard::None, effects(ann.id, "role.unassign")).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        let r = store.unassign_role(UserId::new(), &ops.name, UnassignGuard::None, effects(ann.id, "x")).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        assert_eq!(effect_rows(&store).await, (4, 4));

        // A key acting with the unassigned role falls back as well.
        store.unassign_role(key_ops.id, &ops.name, UnassignGuard::None, Effects::default()).await.unwrap();
        assert_eq!(store.find_api_key("key-keyed").await.unwrap().unwrap().role, RoleName::default_role());
        let keyed = store.get_user(key_ops.id).await.unwrap();
        assert_eq!((keyed.version, keyed.updated_at), (1, NOW), "its default role was not ops");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_admins_demoting_each_other_leave_one() {
    each_backend(|store, _| async move {
        let mut survivor = admin(&store, "admin0").await.id;
        for round in 1..=20 {
            let fresh = admin(&store, &format!("admin{round}")).await.id;
            let barrier = Arc::new(Barrier::new(2));
            let tasks: Vec<_> = [survivor, fresh]
                .into_iter()
                .map(|target| {
                    let (store, barrier) = (store.clone(), barrier.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        let fx = Effects::audit(audit(target, "role.unassign"));
                        let r = store
                            .unassign_role(target, &RoleName::admin(), UnassignGuard::KeepOneActiveAdmin, fx)
                            .await;
                        (target, r)
                    })
                })
                .collect();
            let mut won = Vec::new();
            for t in tasks {
                match t.await.unwrap() {
                    (target, Ok(())) => won.push(target),
                    (_, Err(StoreError::Refused { reason: "LAST_ADMIN" })) => {}
                    (_, other) => panic!("round {round}: {other:?}"),
                }
            }
            assert_eq!(won.len(), 1, "round {round}: exactly one demotion succeeds");
            assert_eq!(store.count_active_holders(&RoleName::admin()).await.unwrap(), 1, "round {round}");
            survivor = if won[0] == survivor { fresh } else { survivor };
            assert_eq!(store.user_roles(survivor).await.unwrap(), [RoleName::admin()]);
        }
        // One audit event per successful demotion, none for the refused ones.
        assert_eq!(count(&store, "audit_events").await, 20);

        // Five at once: four go, one stays.
        let mut admins = vec![survivor];
        for i in 0..4 {
            admins.push(admin(&store, &format!("more{i}")).await.id);
        }
        let barrier = Arc::new(Barrier::new(admins.len()));
        let tasks: Vec<_> = admins
            .iter()
            .map(|&target| {
                let (store, barrier) = (store.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .unassign_role(
                            target,
                            &RoleName::admin(),
                            UnassignGuard::KeepOneActiveAdmin,
                            Effects::default(),
                        )
                        .await
                })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => ok += 1,
                Err(StoreError::Refused { reason: "LAST_ADMIN" }) => {}
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(ok, 4);
        assert_eq!(store.count_active_holders(&RoleName::admin()).await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn an_inactive_admin_does_not_count() {
    each_backend(|store, _| async move {
        let active = admin(&store, "active").await;
        let suspended = admin(&store, "suspended").await;
        set_status(&store, suspended.id, UserStatus::Suspended).await;
        assert_eq!(store.count_active_holders(&RoleName::admin()).await.unwrap(), 1);
        open(&store, active.id, "active-admin", "admin").await;

        let guard = UnassignGuard::KeepOneActiveAdmin;
        let r = store.unassign_role(active.id, &RoleName::admin(), guard, effects(active.id, "role.unassign")).await;
        assert!(is_refused(&r, "LAST_ADMIN"), "{r:?}");
        assert_eq!(store.user_roles(active.id).await.unwrap(), [RoleName::admin()]);
        assert_eq!(store.find_session("active-admin").await.unwrap().unwrap().role, RoleName::admin());
        assert_eq!(effect_rows(&store).await, (0, 0));

        // The suspended one may lose it: someone active still holds it.
        store.unassign_role(suspended.id, &RoleName::admin(), guard, Effects::default()).await.unwrap();
        // The guard is about `admin` only.
        create(&store, "ops", &[]).await;
        store.assign_role(active.id, &name("ops"), Effects::default()).await.unwrap();
        store.unassign_role(active.id, &name("ops"), guard, Effects::default()).await.unwrap();
        // Once reactivated, another holder counts.
        let back = admin(&store, "back").await;
        set_status(&store, back.id, UserStatus::Suspended).await;
        let r = store.unassign_role(active.id, &RoleName::admin(), guard, Effects::default()).await;
        assert!(is_refused(&r, "LAST_ADMIN"), "{r:?}");
        set_status(&store, back.id, UserStatus::Active).await;
        store.unassign_role(active.id, &RoleName::admin(), guard, effects(active.id, "role.unassign")).await.unwrap();
        assert_eq!(store.find_session("active-admin").await.unwrap().unwrap().role, RoleName::default_role());
        assert_eq!(effect_rows(&store).await, (1, 1));
        // Without the guard the store does as told.
        store.unassign_role(back.id, &RoleName::admin(), UnassignGuard::None, Effects::default()).await.unwrap();
        assert_eq!(store.count_active_holders(&RoleName::admin()).await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn tokens_carry_the_stored_permissions_of_their_role() {
    each_backend(|store, _| async move {
        let auditors = create(&store, "auditors", &[Permission::AuditRead, Permission::UsersRead]).await;
        let ann = insert_with_key(&store, "ann", &["auditors", "admin"], "auditors").await;
        open(&store, ann.id, "ann-auditors", "auditors").await;
        open(&store, ann.id, "ann-admin", "admin").await;
        open(&store, ann.id, "ann-default", "default").await;

        let want = auditors.permissions.names();
        assert_eq!(want, ["users.read", "audit.read"]);
        let s = store.find_session("ann-auditors").await.unwrap().unwrap();
        assert_eq!(s.role_permissions, want);
        assert_eq!(PermissionSet::of_role(&s.role, &s.role_permissions), auditors.permissions);
        assert_eq!(store.find_api_key("key-ann").await.unwrap().unwrap().role_permissions, want);
        // Built-ins store nothing: what they grant is defined in code.
        let a = store.find_session("ann-admin").await.unwrap().unwrap();
        assert!(a.role_permissions.is_empty());
        assert_eq!(PermissionSet::of_role(&a.role, &a.role_permissions), PermissionSet::all());
        assert!(store.find_session("ann-default").await.unwrap().unwrap().role_permissions.is_empty());

        // An edit shows on the next lookup.
        let mut edited = auditors.clone();
        edited.permissions = PermissionSet::parse(&["sql.verify".into()], "p").unwrap();
        edited.version = 2;
        store.update_role(&auditors.name, &edited, 1, Effects::default()).await.unwrap();
        assert_eq!(store.find_session("ann-auditors").await.unwrap().unwrap().role_permissions, ["sql.verify"]);
    })
    .await;
}

/// Nothing of the `ops` setup of [`a_change_rolls_back_when_its_effects_fail`] changed.
async fn unchanged(store: &Store, ann_before: &User) {
    let ann = ann_before.id;
    assert_eq!(store.get_role(&name("ops")).await.unwrap(), role("ops", &[Permission::UsersRead]));
    assert!(matches!(store.get_role(&name("renamed")).await, Err(StoreError::NotFound)));
    assert_eq!(store.user_roles(ann).await.unwrap(), [name("ops")]);
    assert_eq!(&store.get_user(ann).await.unwrap(), ann_before);
    assert_eq!(store.find_session("ann-ops").await.unwrap().unwrap().role, name("ops"));
    assert_eq!(store.find_api_key("key-ann").await.unwrap().unwrap().role, name("ops"));
    assert_eq!(effect_rows(store).await, (0, 0));
}

/// Effects that cannot be written (the same audit event twice) undo the
/// change they came with, however many tables it touched.
#[tokio::test]
async fn a_change_rolls_back_when_its_effects_fail() {
    each_backend(|store, _| async move {
        let ops = create(&store, "ops", &[Permission::UsersRead]).await;
        let ann = insert_with_key(&store, "ann", &["ops"], "ops").await;
        store.set_default_role(ann.id, &ops.name, NOW, Effects::default()).await.unwrap();
        open(&store, ann.id, "ann-ops", "ops").await;
        let ann_before = store.get_user(ann.id).await.unwrap();
        let broken = || {
            let event = audit(ann.id, "role.change");
            Effects { audit: vec![event.clone(), event], outbox: vec![] }
        };

        let mut renamed = ops.clone();
        renamed.name = name("renamed");
        renamed.version = 2;
        assert!(store.update_role(&ops.name, &renamed, 1, broken()).await.is_err());
        unchanged(&store, &ann_before).await;
        assert!(store.delete_role(&ops.name, true, broken()).await.is_err());
        unchanged(&store, &ann_before).await;
        assert!(store.unassign_role(ann.id, &ops.name, UnassignGuard::None, broken()).await.is_err());
        unchanged(&store, &ann_before).await;
        assert!(store.create_role(&role("fresh", &[]), broken()).await.is_err());
        assert!(matches!(store.get_role(&name("fresh")).await, Err(StoreError::NotFound)));
        assert!(store.assign_role(ann.id, &RoleName::admin(), broken()).await.is_err());
        assert!(store.set_default_role(ann.id, &RoleName::default_role(), NOW, broken()).await.is_err());
        unchanged(&store, &ann_before).await;
    })
    .await;
}

/// Roles assigned before the roles table existed survive the migration as
/// custom roles that grant nothing; afterwards assignments need a real role.
#[tokio::test]
async fn the_migration_keeps_earlier_assignments() {
    each_empty_backend(|store, _| async move {
        let db = store.connection();
        steward_store::migration::Migrator::up(db, Some(7)).await.unwrap();
        let u = insert_bare_user(&store, "legacy").await;
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "INSERT INTO role_assignments (user_id, role) VALUES ($1, 'admin'), ($1, 'old-role')",
            vec![u.id.as_uuid().into()],
        ))
        .await
        .unwrap();
        store.migrate().await.unwrap();

        assert_eq!(store.user_roles(u.id).await.unwrap(), [RoleName::admin(), name("old-role")]);
        let old = store.get_role(&name("old-role")).await.unwrap();
        assert_eq!((old.builtin, old.permissions), (false, PermissionSet::none()));
        assert!(store.get_role(&RoleName::admin()).await.unwrap().builtin);
        // The foreign key is in place (on SQLite after the rebuild too) and
        // still goes with the user.
        let orphan = db
            .execute_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "INSERT INTO role_assignments (user_id, role) VALUES ($1, 'nobody')",
                vec![u.id.as_uuid().into()],
            ))
            .await;
        assert!(orphan.is_err());
        let r = store.delete_role(&name("old-role"), false, Effects::default()).await;
        assert!(is_refused(&r, "ROLE_IN_USE"), "{r:?}");
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "DELETE FROM users WHERE id = $1",
            vec![u.id.as_uuid().into()],
        ))
        .await
        .unwrap();
        assert_eq!(count(&store, "role_assignments").await, 0);
    })
    .await;
}
