use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::UserId;
use steward_domain::ports::{SqlCredentialStore, UserStore};
use steward_domain::sql::{SqlCredential, SqlUsername};
use steward_domain::user::UserStatus;
use time::Duration;

use crate::support::{NOW, audit, count, each_backend, insert};

fn credential(user: UserId, name: &str, verifier: &str) -> SqlCredential {
    SqlCredential {
        user_id: user,
        sql_username: SqlUsername::parse(name, "sql_username").unwrap(),
        verifier: verifier.into(),
        created_at: NOW,
        updated_at: NOW,
    }
}

#[tokio::test]
async fn create_read_rotate_delete() {
    each_backend(|store, _| async move {
        let u = insert(&store, "quinn").await;
        assert!(store.get_sql_credential(u.id).await.unwrap().is_none());
        let c = credential(u.id, "quinn", "SCRAM-SHA-256$4096:c2FsdA==$a:b");
        store.insert_sql_credential(&c, Effects::audit(audit(u.id, "sql.create"))).await.unwrap();
        assert_eq!(store.get_sql_credential(u.id).await.unwrap().unwrap(), c);
        let (found, status) = store.find_sql_credential(&c.sql_username).await.unwrap().unwrap();
        assert_eq!((found, status), (c.clone(), UserStatus::Active));
        let nobody = SqlUsername::parse("nobody", "f").unwrap();
        assert!(store.find_sql_credential(&nobody).await.unwrap().is_none());

        let later = NOW + Duration::minutes(5);
        store
            .update_sql_verifier(u.id, &c.verifier, "v2", later, Effects::audit(audit(u.id, "sql.rotate")))
            .await
            .unwrap();
        let now = store.get_sql_credential(u.id).await.unwrap().unwrap();
        assert_eq!((now.verifier.as_str(), now.updated_at, now.created_at), ("v2", later, NOW));
        // Compare-and-set: a writer that read the old verifier loses.
        let stale = store.update_sql_verifier(u.id, &c.verifier, "v3", later, Effects::audit(audit(u.id, "x"))).await;
        assert!(matches!(stale, Err(StoreError::Stale)), "{stale:?}");
        let stale = store.delete_sql_credential(u.id, &c.verifier, Effects::audit(audit(u.id, "x"))).await;
        assert!(matches!(stale, Err(StoreError::Stale)), "{stale:?}");
        assert_eq!(count(&store, "audit_events").await, 2, "refused changes write no audit event");

        store.delete_sql_credential(u.id, "v2", Effects::audit(audit(u.id, "sql.delete"))).await.unwrap();
        assert!(store.get_sql_credential(u.id).await.unwrap().is_none());
        assert_eq!(count(&store, "audit_events").await, 3);
        let gone = store.delete_sql_credential(u.id, "v2", Effects::default()).await;
        assert!(matches!(gone, Err(StoreError::NotFound)), "{gone:?}");
        let gone = store.update_sql_verifier(u.id, "v2", "v3", NOW, Effects::default()).await;
        assert!(matches!(gone, Err(StoreError::NotFound)), "{gone:?}");
    })
    .await;
}

#[tokio::test]
async fn one_per_user_and_names_unique() {
    each_backend(|store, _| async move {
        let a = insert(&store, "rita").await;
        let b = insert(&store, "sam").await;
        store.insert_sql_credential(&credential(a.id, "rita", "v"), Effects::default()).await.unwrap();
        let r = store.insert_sql_credential(&credential(a.id, "rita_two", "v"), Effects::audit(audit(a.id, "x"))).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "user" })), "{r:?}");
        let r = store.insert_sql_credential(&credential(b.id, "rita", "v"), Effects::audit(audit(b.id, "x"))).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "sql_username" })), "{r:?}");
        let r = store.insert_sql_credential(&credential(UserId::new(), "ghost", "v"), Effects::default()).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        assert_eq!(count(&store, "sql_credentials").await, 1);
        assert_eq!(count(&store, "audit_events").await, 0, "a refused insert writes no audit event");
    })
    .await;
}

#[tokio::test]
async fn lookups_carry_the_owners_status() {
    each_backend(|store, _| async move {
        let mut u = insert(&store, "tess").await;
        store.insert_sql_credential(&credential(u.id, "tess", "v"), Effects::default()).await.unwrap();
        u.status = UserStatus::Suspended;
        u.version += 1;
        store.update_user(&u, u.version - 1, Effects::default()).await.unwrap();
        let name = SqlUsername::parse("tess", "f").unwrap();
        assert_eq!(store.find_sql_credential(&name).await.unwrap().unwrap().1, UserStatus::Suspended);
    })
    .await;
}
