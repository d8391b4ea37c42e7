use std::collections::HashSet;
use std::time::Duration as StdDuration;

use sea_orm::ConnectionTrait;
use steward_domain::StoreError;
use steward_domain::id::{OutboxId, UserId};
use steward_domain::notify::OutboxEmail;
use steward_domain::ports::{CredentialStore, OutboxStore, UserStore};
use steward_store::Store;
use time::{Duration, OffsetDateTime};

use crate::support::{NOW, count, each_backend, effects, email, insert, new_user, user};

const LEASE: StdDuration = StdDuration::from_secs(60);

async fn enqueue(store: &Store, emails: Vec<OutboxEmail>) {
    let u = insert(store, &format!("q{}", uuid::Uuid::new_v4().simple().to_string().get(..12).unwrap())).await;
    let e = steward_domain::effects::Effects { audit: vec![], outbox: emails };
    store.lock_account(u.id, NOW, e).await.unwrap();
}

async fn sealed(store: &Store, id: OutboxId) -> (String, Option<Vec<u8>>, Option<String>, Option<OffsetDateTime>) {
    let row = store
        .connection()
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            store.connection().get_database_backend(),
            "SELECT state, sealed_secret, last_error, sent_at FROM outbox WHERE id = $1",
            [id.as_uuid().into()],
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get("", "state").unwrap(),
        row.try_get("", "sealed_secret").unwrap(),
        row.try_get("", "last_error").unwrap(),
        row.try_get("", "sent_at").unwrap(),
    )
}

#[tokio::test]
async fn claim_leases_due_rows() {
    each_backend(|store, _| async move {
        let mut later = email("later@example.com");
        later.created_at = NOW + Duration::minutes(5);
        let first = email("a@example.com");
        let second = email("b@example.com");
        enqueue(&store, vec![first.clone(), second.clone(), later.clone()]).await;

        let claimed = store.claim_due_emails(NOW, 10, LEASE).await.unwrap();
        let ids: Vec<_> = claimed.iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![first.id, second.id]);
        let c = &claimed[0];
        assert_eq!(
            (c.to_address.as_str(), c.to_name.as_str(), c.subject.as_str(), c.body.as_str()),
            ("a@example.com", "Someone", "Hello", "Hi there")
        );
        assert_eq!((c.sealed_secret.clone(), c.attempts), (Some(vec![9, 9, 9]), 0));

        // Leased: not due again until the lease ends.
        assert!(store.claim_due_emails(NOW + Duration::seconds(59), 10, LEASE).await.unwrap().is_empty());
        let again = store.claim_due_emails(NOW + Duration::seconds(60), 1, LEASE).await.unwrap();
        assert_eq!(again.len(), 1);
        let rest = store.claim_due_emails(NOW + Duration::minutes(10), 10, LEASE).await.unwrap();
        assert_eq!(rest.len(), 3); // every lease has lapsed, and `later` is due
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_share_a_row() {
    each_backend(|store, _| async move {
        let emails: Vec<_> = (0..40).map(|i| email(&format!("r{i}@example.com"))).collect();
        enqueue(&store, emails).await;
        let relays: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    loop {
                        let got = store.claim_due_emails(NOW, 3, LEASE).await.unwrap();
                        if got.is_empty() {
                            return mine;
                        }
                        mine.extend(got.into_iter().map(|e| e.id));
                    }
                })
            })
            .collect();
        let mut seen = HashSet::new();
        for r in relays {
            for id in r.await.unwrap() {
                assert!(seen.insert(id), "claimed twice: {id}");
            }
        }
        assert_eq!(seen.len(), 40);
    })
    .await;
}

#[tokio::test]
async fn sent_retry_and_failed() {
    each_backend(|store, _| async move {
        let (a, b, c) = (email("a@example.com"), email("b@example.com"), email("c@example.com"));
        enqueue(&store, vec![a.clone(), b.clone(), c.clone()]).await;
        store.claim_due_emails(NOW, 10, LEASE).await.unwrap();

        store.mark_email_sent(a.id, NOW + Duration::seconds(1)).await.unwrap();
        assert_eq!(sealed(&store, a.id).await, ("sent".into(), None, None, Some(NOW + Duration::seconds(1))));

        store.mark_email_failed(c.id, NOW, "550 no such user").await.unwrap();
        assert_eq!(sealed(&store, c.id).await, ("failed".into(), None, Some("550 no such user".into()), None));

        let retry_at = NOW + Duration::minutes(2);
        store.mark_email_retry(b.id, 1, retry_at, "421 try later").await.unwrap();
        assert_eq!(
            sealed(&store, b.id).await,
            ("pending".into(), Some(vec![9, 9, 9]), Some("421 try later".into()), None)
        );
        assert!(store.claim_due_emails(retry_at - Duration::seconds(1), 10, LEASE).await.unwrap().is_empty());
        let due = store.claim_due_emails(retry_at, 10, LEASE).await.unwrap();
        assert_eq!((due.len(), due[0].id, due[0].attempts), (1, b.id, 1));

        // Neither sent nor failed rows are claimed again.
        assert!(store.claim_due_emails(NOW + Duration::days(1), 10, LEASE).await.unwrap().iter().all(|e| e.id == b.id));

        let unknown = OutboxId::new();
        assert!(matches!(store.mark_email_sent(unknown, NOW).await, Err(StoreError::NotFound)));
        assert!(matches!(store.mark_email_retry(unknown, 1, NOW, "x").await, Err(StoreError::NotFound)));
        assert!(matches!(store.mark_email_failed(unknown, NOW, "x").await, Err(StoreError::NotFound)));
    })
    .await;
}

#[tokio::test]
async fn effects_commit_with_the_change_only() {
    each_backend(|store, _| async move {
        let u = user("olga");
        store.insert_user(new_user(u.clone()), effects(u.id, "user.create")).await.unwrap();
        assert_eq!((count(&store, "audit_events").await, count(&store, "outbox").await), (1, 1));
        let claimed = store.claim_due_emails(NOW, 10, LEASE).await.unwrap();
        assert_eq!(claimed.len(), 1);

        // A failing change (username taken) writes none of its effects.
        let mut same = user("OLGA");
        same.email = steward_domain::user::Email::parse("olga2@example.com").unwrap();
        let r = store.insert_user(new_user(same), effects(UserId::new(), "user.create")).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "username" })), "{r:?}");
        // A failing effect (duplicate audit id) undoes the change.
        let dup = effects(u.id, "auth.lockout");
        let mut twice = dup.audit[0].clone();
        twice.detail = "again".into();
        let bad = steward_domain::effects::Effects { audit: vec![dup.audit[0].clone(), twice], outbox: dup.outbox };
        let r = store.lock_account(u.id, NOW + Duration::hours(1), bad).await;
        assert!(r.is_err());
        assert_eq!(store.reserve_login_attempt(u.id, NOW).await.unwrap().locked_until, None);
        assert_eq!((count(&store, "audit_events").await, count(&store, "outbox").await), (1, 1));
        assert_eq!(count(&store, "users").await, 1);
    })
    .await;
}
