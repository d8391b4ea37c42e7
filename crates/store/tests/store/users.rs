use steward_domain::StoreError;
use steward_domain::auth::NewApiKey;
use steward_domain::effects::Effects;
use steward_domain::id::{ApiKeyId, UserId};
use steward_domain::page::PageRequest;
use steward_domain::ports::{TokenStore, UserStore};
use steward_domain::role::RoleName;
use steward_domain::user::{
    Email, Platform, PlatformUsername, Profile, User, UserFilter, UserKind, UserStatus, Username,
};
use time::macros::datetime;

use crate::support::{count, each_backend, effects, insert, new_user, user};

#[tokio::test]
async fn insert_and_get_round_trip_every_field() {
    each_backend(|store, _| async move {
        let mut u = user("Alice42");
        u.kind = UserKind::Service;
        u.email = Email::parse("Alice.Smith@Example.COM").unwrap();
        u.profile = Profile {
            position: "Engineer".into(),
            about: "Line one\nline two — ünïcode".into(),
            location: "Zürich".into(),
            organization: "ACME".into(),
            phone_number: "+41 (44) 555-0100".into(),
        };
        u.platform.set(Platform::Databricks, PlatformUsername::parse(Platform::Databricks, "alice_db").unwrap());
        u.platform.set(Platform::Snowflake, PlatformUsername::parse(Platform::Snowflake, "ALICE").unwrap());
        u.email_notifications = true;
        u.status = UserStatus::Suspended;
        u.default_role = RoleName::admin();
        u.mfa_enabled = true;
        u.created_at = datetime!(2025-01-02 03:04:05.987654 UTC);
        u.updated_at = datetime!(2025-06-07 08:09:10 UTC);
        u.version = 7;
        let mut new = new_user(u.clone());
        new.create_request_id = Some("req-1".into());
        store.insert_user(new, Effects::default()).await.unwrap();

        assert_eq!(store.get_user(u.id).await.unwrap(), u);
        assert_eq!(store.find_user_by_username("alice42").await.unwrap(), Some(u.clone()));
        assert_eq!(store.find_user_by_request_id("req-1").await.unwrap(), Some(u.clone()));
        assert_eq!(store.find_user_by_username("bob").await.unwrap(), None);
        assert_eq!(store.find_user_by_request_id("req-2").await.unwrap(), None);
        assert!(matches!(store.get_user(UserId::new()).await, Err(StoreError::NotFound)));
        assert_eq!(store.count_users().await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn nanoseconds_are_cut_to_microseconds() {
    each_backend(|store, _| async move {
        let mut u = user("nanos");
        u.created_at = datetime!(2025-01-02 03:04:05.123456789 +02:00);
        store.insert_user(new_user(u.clone()), Effects::default()).await.unwrap();
        let got = store.get_user(u.id).await.unwrap();
        assert_eq!(got.created_at, datetime!(2025-01-02 01:04:05.123456 UTC));
        assert_eq!(got.created_at, steward_store::truncate_to_micros(u.created_at));
    })
    .await;
}

#[tokio::test]
async fn roles_and_api_key_are_written_with_the_user() {
    each_backend(|store, _| async move {
        let u = user("admin1");
        let mut new = new_user(u.clone());
        new.roles = vec![RoleName::admin(), RoleName::default_role(), RoleName::admin()];
        new.api_key = Some(NewApiKey {
            id: ApiKeyId::new(),
            user_id: u.id,
            name: "bootstrap".into(),
            description: String::new(),
            project_id: None,
            prefix: "stw_key_ab".into(),
            lookup: "lookup-admin".into(),
            digest: vec![5; 32],
            role: RoleName::admin(),
            created_at: crate::support::NOW,
            expires_at: None,
        });
        store.insert_user(new, Effects::default()).await.unwrap();
        assert_eq!(count(&store, "role_assignments").await, 1);
        let key = store.find_api_key("lookup-admin").await.unwrap().unwrap();
        assert_eq!(key.user_id, u.id);
        assert!(key.role_held);
        assert!(key.role.is_admin());
        assert_eq!(key.expires_at, None);
        assert!(!key.revoked);
        assert_eq!(key.digest, vec![5; 32]);
        assert_eq!(key.username, "admin1");
        assert!(store.find_api_key("nope").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn conflicts_are_case_insensitive_and_leave_nothing_behind() {
    each_backend(|store, _| async move {
        let mut first = new_user(user("Carol"));
        first.create_request_id = Some("r1".into());
        store.insert_user(first, effects(UserId::new(), "user.create")).await.unwrap();

        let mut same_name = user("CAROL");
        same_name.email = Email::parse("other@example.com").unwrap();
        let r = store.insert_user(new_user(same_name), effects(UserId::new(), "user.create")).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "username" })), "{r:?}");

        let mut same_email = user("carol2");
        same_email.email = Email::parse("CAROL@example.COM").unwrap();
        let r = store.insert_user(new_user(same_email), effects(UserId::new(), "user.create")).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "email" })), "{r:?}");

        let mut same_request = new_user(user("carol3"));
        same_request.create_request_id = Some("r1".into());
        let r = store.insert_user(same_request, effects(UserId::new(), "user.create")).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "request_id" })), "{r:?}");

        // Only the first user's rows and effects exist.
        for (table, n) in [("users", 1), ("credentials", 1), ("audit_events", 1), ("outbox", 1)] {
            assert_eq!(count(&store, table).await, n, "{table}");
        }
        // Several users without a request id are fine (NULLs do not collide).
        insert(&store, "dave").await;
        insert(&store, "erin").await;
        assert_eq!(store.count_users().await.unwrap(), 3);
    })
    .await;
}

#[tokio::test]
async fn update_is_conditional_on_the_version() {
    each_backend(|store, _| async move {
        let u = insert(&store, "frank").await;
        insert(&store, "grace").await;

        let mut changed = u.clone();
        changed.username = Username::parse("Frankie").unwrap();
        changed.profile.position = "Lead".into();
        changed.platform.set(Platform::Synapse, PlatformUsername::parse(Platform::Synapse, "fr").unwrap());
        changed.status = UserStatus::Suspended;
        changed.version = 2;
        changed.updated_at = datetime!(2026-05-05 05:05:05.5 UTC);
        store.update_user(&changed, 1, effects(u.id, "user.update")).await.unwrap();
        assert_eq!(store.get_user(u.id).await.unwrap(), changed);
        assert_eq!(count(&store, "audit_events").await, 1);
        assert_eq!(store.find_user_by_username("frankie").await.unwrap().map(|x| x.id), Some(u.id));

        // The old version again: stale, and no effects.
        let r = store.update_user(&changed, 1, effects(u.id, "user.update")).await;
        assert!(matches!(r, Err(StoreError::Stale)), "{r:?}");

        let ghost = User { id: UserId::new(), ..changed.clone() };
        let r = store.update_user(&ghost, 1, effects(u.id, "user.update")).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");

        let mut taken = changed.clone();
        taken.email = Email::parse("GRACE@example.com").unwrap();
        taken.version = 3;
        let r = store.update_user(&taken, 2, effects(u.id, "user.update")).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "email" })), "{r:?}");
        assert_eq!(store.get_user(u.id).await.unwrap(), changed);
        assert_eq!(count(&store, "audit_events").await, 1);
        assert_eq!(count(&store, "outbox").await, 1);
    })
    .await;
}

#[tokio::test]
async fn list_pages_by_id_with_filters() {
    each_backend(|store, _| async move {
        let mut ids = Vec::new();
        for i in 0..7 {
            let mut u = user(&format!("user{i}"));
            if i % 2 == 1 {
                u.status = UserStatus::Suspended;
            }
            store.insert_user(new_user(u.clone()), Effects::default()).await.unwrap();
            ids.push(u.id);
        }
        // Pages of 3 over all seven, in creation order.
        let mut seen = Vec::new();
        let mut page = PageRequest::first(3);
        loop {
            let rows = store.list_users(&UserFilter::default(), page).await.unwrap();
            seen.extend(rows.iter().map(|u| u.id));
            match rows.last() {
                Some(last) if rows.len() == 3 => page = PageRequest { size: 3, after: Some(last.id.as_uuid()) },
                _ => break,
            }
        }
        assert_eq!(seen, ids);

        let suspended = UserFilter { status: Some(UserStatus::Suspended), text: None };
        let rows = store.list_users(&suspended, PageRequest::first(2)).await.unwrap();
        assert_eq!(rows.iter().map(|u| u.id).collect::<Vec<_>>(), vec![ids[1], ids[3]]);
        let after = PageRequest { size: 10, after: Some(ids[3].as_uuid()) };
        let rows = store.list_users(&suspended, after).await.unwrap();
        assert_eq!(rows.iter().map(|u| u.id).collect::<Vec<_>>(), vec![ids[5]]);

        let text = |t: &str| UserFilter { status: None, text: Some(t.into()) };
        let all = PageRequest::first(100);
        assert_eq!(store.list_users(&text("USER3"), all).await.unwrap().len(), 1);
        assert_eq!(store.list_users(&text("EXAMPLE.com"), all).await.unwrap().len(), 7);
        assert_eq!(store.list_users(&text("user5 exa"), all).await.unwrap().len(), 1); // full name
        let both = UserFilter { status: Some(UserStatus::Active), text: Some("user".into()) };
        assert_eq!(store.list_users(&both, all).await.unwrap().len(), 4);
    })
    .await;
}

#[tokio::test]
async fn list_text_escapes_like_wildcards_and_folds_unicode() {
    each_backend(|store, _| async move {
        let mut plain = user("plain");
        plain.full_name = steward_domain::user::FullName::parse("Axb Ann").unwrap();
        let mut pct = user("percent");
        pct.full_name = steward_domain::user::FullName::parse("Ann 100% Ok_Yes \\ Ürsula").unwrap();
        for u in [plain, pct.clone()] {
            store.insert_user(new_user(u), Effects::default()).await.unwrap();
        }
        let find = |t: &'static str| {
            let store = store.clone();
            async move {
                let f = UserFilter { status: None, text: Some(t.into()) };
                store
                    .list_users(&f, PageRequest::first(10))
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|u| u.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(find("%").await, vec![pct.id]);
        assert_eq!(find("_").await, vec![pct.id]);
        assert_eq!(find("\\").await, vec![pct.id]);
        assert_eq!(find("0% ok_y").await, vec![pct.id]);
        assert_eq!(find("ürsula").await, vec![pct.id]);
        assert_eq!(find("ÜRSULA").await, vec![pct.id]);
        assert_eq!(find("a_b").await, Vec::<UserId>::new());
        assert_eq!(find("ann").await.len(), 2);
    })
    .await;
}

/// Many reads by id at once, for users that exist and ids that do not: each
/// gets its own answer, and a read after a write sees the write.
#[tokio::test]
async fn concurrent_reads_by_id_each_get_their_own_user() {
    each_backend(|store, _| async move {
        let mut users = Vec::new();
        for n in 0..40 {
            users.push(insert(&store, &format!("reader{n}")).await);
        }
        let missing: Vec<UserId> = (0..10).map(|_| UserId::new()).collect();
        let mut reads = Vec::new();
        for round in 0..300 {
            let store = store.clone();
            let want = if round % 7 == 0 { None } else { Some(users[round % users.len()].clone()) };
            let id = want.as_ref().map_or(missing[round % missing.len()], |u| u.id);
            reads.push(tokio::spawn(async move { (want, store.get_user(id).await) }));
        }
        for read in reads {
            match read.await.unwrap() {
                (Some(want), got) => assert_eq!(got.unwrap(), want),
                (None, got) => assert!(matches!(got, Err(StoreError::NotFound)), "{got:?}"),
            }
        }

        let mut changed = users[3].clone();
        changed.profile.position = "Changed".into();
        changed.version += 1;
        store.update_user(&changed, users[3].version, Effects::default()).await.unwrap();
        let after: Vec<_> = (0..20).map(|_| store.get_user(changed.id)).collect();
        for got in futures::future::join_all(after).await {
            let got = got.unwrap();
            assert_eq!((got.profile.position.as_str(), got.version), ("Changed", changed.version));
        }
    })
    .await;
}
