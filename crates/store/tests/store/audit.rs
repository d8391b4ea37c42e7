use steward_domain::audit::{AuditEvent, AuditFilter};
use steward_domain::effects::Effects;
use steward_domain::id::UserId;
use steward_domain::page::PageRequest;
use steward_domain::ports::{AuditStore, CredentialStore};
use time::Duration;

use crate::support::{NOW, each_backend, insert};

#[tokio::test]
async fn newest_first_with_filters_and_pages() {
    each_backend(|store, _| async move {
        let u = insert(&store, "nina").await;
        let actor = UserId::new();
        let mut events = Vec::new();
        for i in 0..6 {
            let mut e = AuditEvent::by_system(NOW + Duration::seconds(i), "a", format!("user/{}", i % 2), "d");
            if i % 3 == 0 {
                e.actor_id = Some(actor);
                e.actor = "boss".into();
                e.action = "b".into();
                e.request_id = format!("req-{i}");
            }
            events.push(e);
        }
        // Written as the effects of a change, several in one call.
        let effects = Effects { audit: events.clone(), outbox: vec![] };
        store.lock_account(u.id, NOW, effects).await.unwrap();

        let ids = |v: &[AuditEvent]| v.iter().map(|e| e.id).collect::<Vec<_>>();
        let newest_first: Vec<_> = events.iter().rev().cloned().collect();
        let all = store.list_audit_events(&AuditFilter::default(), PageRequest::first(100)).await.unwrap();
        assert_eq!(all, newest_first); // every field round-trips

        let p1 = store.list_audit_events(&AuditFilter::default(), PageRequest::first(4)).await.unwrap();
        assert_eq!(ids(&p1), ids(&newest_first[..4]));
        let next = PageRequest { size: 4, after: Some(p1[3].id.as_uuid()) };
        let p2 = store.list_audit_events(&AuditFilter::default(), next).await.unwrap();
        assert_eq!(ids(&p2), ids(&newest_first[4..]));

        let by_actor = AuditFilter { actor_id: Some(actor), ..AuditFilter::default() };
        let got = store.list_audit_events(&by_actor, PageRequest::first(10)).await.unwrap();
        assert_eq!(ids(&got), vec![events[3].id, events[0].id]);
        let by_target = AuditFilter { target: Some("user/1".into()), ..AuditFilter::default() };
        let got = store.list_audit_events(&by_target, PageRequest::first(10)).await.unwrap();
        assert_eq!(ids(&got), vec![events[5].id, events[3].id, events[1].id]);
        let combined = AuditFilter { target: Some("user/1".into()), action: Some("b".into()), actor_id: None };
        let got = store.list_audit_events(&combined, PageRequest::first(10)).await.unwrap();
        assert_eq!(ids(&got), vec![events[3].id]);
        let none = AuditFilter { action: Some("B".into()), ..AuditFilter::default() };
        assert!(store.list_audit_events(&none, PageRequest::first(10)).await.unwrap().is_empty());
    })
    .await;
}
