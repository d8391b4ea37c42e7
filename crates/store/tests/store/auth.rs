use std::collections::BTreeSet;

use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::{SessionId, UserId};
use steward_domain::ports::{CredentialStore, TokenStore, UserStore};
use steward_domain::role::RoleName;
use steward_domain::user::{UserKind, UserStatus};
use time::Duration;

use crate::support::{NOW, audit, count, each_backend, effects, insert, new_user, session, user};

#[tokio::test]
async fn login_record_holds_the_temporary_password() {
    each_backend(|store, _| async move {
        let u = insert(&store, "Heidi").await;
        let r = store.find_login("heidi").await.unwrap().unwrap();
        assert_eq!(
            (r.user_id, r.username.as_str(), r.kind, r.status),
            (u.id, "Heidi", UserKind::Human, UserStatus::Active)
        );
        assert_eq!(r.default_role, RoleName::default_role());
        assert_eq!(r.password_hash, None);
        let temp = r.temp_password.unwrap();
        assert_eq!((temp.digest, temp.expires_at), (vec![1, 2, 3], NOW + Duration::days(3)));
        assert!(store.find_login_by_id(u.id).await.unwrap().is_some());
        assert!(store.find_login("nobody").await.unwrap().is_none());
        assert!(store.find_login_by_id(UserId::new()).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_attempts_each_get_their_own_count() {
    each_backend(|store, _| async move {
        let u = insert(&store, "ivan").await;
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.reserve_login_attempt(u.id, NOW).await.unwrap().count })
            })
            .collect();
        let mut counts = BTreeSet::new();
        for t in tasks {
            assert!(counts.insert(t.await.unwrap()), "a count was handed out twice");
        }
        assert_eq!(counts, (1..=50).collect::<BTreeSet<u32>>());
        assert!(matches!(store.reserve_login_attempt(UserId::new(), NOW).await, Err(StoreError::NotFound)));
    })
    .await;
}

#[tokio::test]
async fn lockout_expires_and_success_resets() {
    each_backend(|store, _| async move {
        let u = insert(&store, "judy").await;
        for n in 1..=3 {
            assert_eq!(store.reserve_login_attempt(u.id, NOW).await.unwrap().count, n);
        }
        let until = NOW + Duration::minutes(15);
        store.lock_account(u.id, until, Effects::audit(audit(u.id, "auth.lockout"))).await.unwrap();
        // An earlier lock does not shorten a later one.
        store.lock_account(u.id, NOW + Duration::minutes(1), Effects::default()).await.unwrap();
        assert_eq!(count(&store, "audit_events").await, 1);

        let a = store.reserve_login_attempt(u.id, NOW + Duration::minutes(5)).await.unwrap();
        assert_eq!((a.count, a.locked_until), (4, Some(until)));
        // Exactly at the end of the lock it is over: the counter starts again.
        let a = store.reserve_login_attempt(u.id, until).await.unwrap();
        assert_eq!((a.count, a.locked_until), (1, None));
        // Sub-second order is kept (a lock ending half a second from now is still on).
        let short = NOW + Duration::milliseconds(500);
        store.lock_account(u.id, short, Effects::default()).await.unwrap();
        let a = store.reserve_login_attempt(u.id, NOW + Duration::milliseconds(499)).await.unwrap();
        assert_eq!((a.count, a.locked_until), (2, Some(short)));
        let a = store.reserve_login_attempt(u.id, NOW + Duration::seconds(1)).await.unwrap();
        assert_eq!((a.count, a.locked_until), (1, None));

        store.record_login_success(u.id, Some("$argon2id$new".into())).await.unwrap();
        let a = store.reserve_login_attempt(u.id, NOW).await.unwrap();
        assert_eq!((a.count, a.locked_until), (1, None));
        let r = store.find_login("judy").await.unwrap().unwrap();
        assert_eq!(r.password_hash.as_deref(), Some("$argon2id$new"));
        store.record_login_success(u.id, None).await.unwrap();
        assert_eq!(store.find_login("judy").await.unwrap().unwrap().password_hash.as_deref(), Some("$argon2id$new"));
        assert!(matches!(store.record_login_success(UserId::new(), None).await, Err(StoreError::NotFound)));
        assert!(matches!(
            store.lock_account(UserId::new(), until, effects(u.id, "auth.lockout")).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(count(&store, "audit_events").await, 1);
    })
    .await;
}

#[tokio::test]
async fn sessions_resolve_with_their_user_and_revoke_once() {
    each_backend(|store, _| async move {
        let u = insert(&store, "karl").await;
        let s = session(u.id, "lookup-karl");
        store.open_session(s.clone(), Effects::audit(audit(u.id, "auth.login"))).await.unwrap();
        assert_eq!(count(&store, "audit_events").await, 1);

        let r = store.find_session("lookup-karl").await.unwrap().unwrap();
        assert_eq!((r.id, r.user_id, r.username.as_str()), (s.id, u.id, "karl"));
        assert_eq!((r.kind, r.user_status), (UserKind::Human, UserStatus::Active));
        assert_eq!((r.digest, r.expires_at), (s.digest.clone(), s.expires_at));
        assert!(r.role_held && r.password_change_required && !r.revoked);
        assert!(store.find_session("other").await.unwrap().is_none());

        // Duplicate lookup, unknown user.
        let dup = session(u.id, "lookup-karl");
        assert!(matches!(store.open_session(dup, Effects::default()).await, Err(StoreError::Conflict { .. })));
        let orphan = session(UserId::new(), "lookup-orphan");
        assert!(matches!(store.open_session(orphan, effects(u.id, "x")).await, Err(StoreError::NotFound)));
        assert_eq!(count(&store, "audit_events").await, 1);

        store.revoke_session(s.id, NOW, Effects::audit(audit(u.id, "auth.logout"))).await.unwrap();
        assert!(store.find_session("lookup-karl").await.unwrap().unwrap().revoked);
        let again = store.revoke_session(s.id, NOW, effects(u.id, "auth.logout")).await;
        assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
        let unknown = store.revoke_session(SessionId::new(), NOW, effects(u.id, "auth.logout")).await;
        assert!(matches!(unknown, Err(StoreError::NotFound)));
        assert_eq!(count(&store, "audit_events").await, 2);
        assert_eq!(count(&store, "outbox").await, 0);
    })
    .await;
}

#[tokio::test]
async fn role_held_follows_the_assignments() {
    each_backend(|store, _| async move {
        let admin = user("root");
        let mut new = new_user(admin.clone());
        new.roles = vec![RoleName::admin()];
        store.insert_user(new, Effects::default()).await.unwrap();
        let plain = insert(&store, "plain").await;

        let mut s = session(admin.id, "admin-session");
        s.role = RoleName::admin();
        store.open_session(s, Effects::default()).await.unwrap();
        let mut s = session(plain.id, "plain-as-admin");
        s.role = RoleName::admin();
        store.open_session(s, Effects::default()).await.unwrap();
        store.open_session(session(plain.id, "plain-default"), Effects::default()).await.unwrap();

        assert!(store.find_session("admin-session").await.unwrap().unwrap().role_held);
        assert!(!store.find_session("plain-as-admin").await.unwrap().unwrap().role_held);
        assert!(store.find_session("plain-default").await.unwrap().unwrap().role_held);

        // A status change shows on the very next lookup.
        let mut suspended = store.get_user(plain.id).await.unwrap();
        suspended.status = UserStatus::Suspended;
        suspended.version = 2;
        store.update_user(&suspended, 1, Effects::default()).await.unwrap();
        assert_eq!(store.find_session("plain-default").await.unwrap().unwrap().user_status, UserStatus::Suspended);
    })
    .await;
}

#[tokio::test]
async fn change_password_revokes_the_other_sessions() {
    each_backend(|store, _| async move {
        let u = insert(&store, "liam").await;
        let other = insert(&store, "mia").await;
        let keep = session(u.id, "keep");
        store.open_session(keep.clone(), Effects::default()).await.unwrap();
        store.open_session(session(u.id, "second"), Effects::default()).await.unwrap();
        let old = session(u.id, "old");
        store.open_session(old.clone(), Effects::default()).await.unwrap();
        store.revoke_session(old.id, NOW - Duration::hours(1), Effects::default()).await.unwrap();
        store.open_session(session(other.id, "someone-else"), Effects::default()).await.unwrap();

        store
            .change_password(u.id, "$argon2id$chosen".into(), keep.id, NOW, effects(u.id, "auth.password_change"))
            .await
            .unwrap();

        let r = store.find_login_by_id(u.id).await.unwrap().unwrap();
        assert_eq!(r.password_hash.as_deref(), Some("$argon2id$chosen"));
        assert!(r.temp_password.is_none());
        let kept = store.find_session("keep").await.unwrap().unwrap();
        assert!(!kept.revoked && !kept.password_change_required);
        assert!(store.find_session("second").await.unwrap().unwrap().revoked);
        assert!(store.find_session("old").await.unwrap().unwrap().revoked);
        let theirs = store.find_session("someone-else").await.unwrap().unwrap();
        assert!(!theirs.revoked && theirs.password_change_required);
        assert_eq!((count(&store, "audit_events").await, count(&store, "outbox").await), (1, 1));

        let r = store.change_password(UserId::new(), "x".into(), keep.id, NOW, effects(u.id, "x")).await;
        assert!(matches!(r, Err(StoreError::NotFound)));
        assert_eq!((count(&store, "audit_events").await, count(&store, "outbox").await), (1, 1));
    })
    .await;
}
