use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::UserId;
use steward_domain::ports::{MfaStore, UserStore};
use time::Duration;

use crate::support::{NOW, audit, count, each_backend, insert};

#[tokio::test]
async fn enrol_confirm_and_disable() {
    each_backend(|store, _| async move {
        let u = insert(&store, "mallory").await;
        assert!(store.get_mfa(u.id).await.unwrap().is_none());

        store.save_pending_secret(u.id, vec![1; 40], NOW, Effects::audit(audit(u.id, "mfa.enroll"))).await.unwrap();
        // A second enrolment replaces the pending one.
        store.save_pending_secret(u.id, vec![2; 40], NOW, Effects::default()).await.unwrap();
        let r = store.get_mfa(u.id).await.unwrap().unwrap();
        assert_eq!((r.sealed_secret, r.enabled, r.last_used_step), (vec![2; 40], false, 0));
        assert_eq!(count(&store, "user_mfa").await, 1);
        // Nothing to consume while pending.
        assert!(!store.consume_step(u.id, 5).await.unwrap());

        let later = NOW + Duration::minutes(1);
        store.enable_mfa(u.id, 1000, later, Effects::audit(audit(u.id, "mfa.enable"))).await.unwrap();
        let r = store.get_mfa(u.id).await.unwrap().unwrap();
        assert_eq!((r.enabled, r.last_used_step), (true, 1000));
        let user = store.get_user(u.id).await.unwrap();
        assert_eq!((user.mfa_enabled, user.version, user.updated_at), (true, u.version + 1, later));

        // Enabled: neither a new enrolment nor a second confirmation.
        let again = store.save_pending_secret(u.id, vec![3; 40], NOW, Effects::audit(audit(u.id, "x"))).await;
        assert!(matches!(again, Err(StoreError::Refused { reason: "MFA_ALREADY_ENABLED" })), "{again:?}");
        let again = store.enable_mfa(u.id, 1001, NOW, Effects::default()).await;
        assert!(matches!(again, Err(StoreError::Refused { reason: "MFA_ALREADY_ENABLED" })), "{again:?}");
        assert_eq!(store.get_mfa(u.id).await.unwrap().unwrap().sealed_secret, vec![2; 40]);
        assert_eq!(count(&store, "audit_events").await, 2, "refused changes write no audit event");

        // Steps only move forward.
        assert!(!store.consume_step(u.id, 1000).await.unwrap());
        assert!(!store.consume_step(u.id, 999).await.unwrap());
        assert!(store.consume_step(u.id, 1001).await.unwrap());
        assert_eq!(store.get_mfa(u.id).await.unwrap().unwrap().last_used_step, 1001);

        store.disable_mfa(u.id, later, Effects::audit(audit(u.id, "mfa.disable"))).await.unwrap();
        assert!(store.get_mfa(u.id).await.unwrap().is_none());
        let user = store.get_user(u.id).await.unwrap();
        assert_eq!((user.mfa_enabled, user.version), (false, u.version + 2));
        assert_eq!(count(&store, "audit_events").await, 3);
        assert!(!store.consume_step(u.id, 2000).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn missing_enrolments_and_users() {
    each_backend(|store, _| async move {
        let u = insert(&store, "niaj").await;
        assert!(matches!(store.enable_mfa(u.id, 1, NOW, Effects::default()).await, Err(StoreError::NotFound)));
        assert!(matches!(store.disable_mfa(u.id, NOW, Effects::default()).await, Err(StoreError::NotFound)));
        let ghost = UserId::new();
        let r = store.save_pending_secret(ghost, vec![1], NOW, Effects::default()).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        assert!(!store.consume_step(ghost, 1).await.unwrap());
        // A failed change leaves the user untouched.
        assert_eq!(store.get_user(u.id).await.unwrap().version, u.version);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_step_is_consumed_once_under_concurrency() {
    each_backend(|store, _| async move {
        let u = insert(&store, "olivia").await;
        store.save_pending_secret(u.id, vec![1; 40], NOW, Effects::default()).await.unwrap();
        store.enable_mfa(u.id, 10, NOW, Effects::default()).await.unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.consume_step(u.id, 11).await.unwrap() })
            })
            .collect();
        let mut wins = 0;
        for t in tasks {
            wins += usize::from(t.await.unwrap());
        }
        assert_eq!(wins, 1, "exactly one of 20 concurrent uses of a code wins");
        assert_eq!(store.get_mfa(u.id).await.unwrap().unwrap().last_used_step, 11);
    })
    .await;
}
