//! Access requests: one pending per requester and target, a decision moves a
//! request once (approve racing deny: exactly one wins), an approval writes
//! its grant, and an ended grant stops counting at once everywhere.

use std::sync::{Arc, Mutex};

use steward_domain::StoreError;
use steward_domain::access::{
    AccessRequest, AccessRequestStore, Justification, RequestFilter, RequestScope, RequestState, Target,
};
use steward_domain::clock::Clock;
use steward_domain::effects::Effects;
use steward_domain::id::{AccessRequestId, UserId};
use steward_domain::ownership::{ResourceKind, Visibility};
use steward_domain::page::PageRequest;
use steward_domain::ports::{ApiKeyStore, ProjectStore, ResourceStore};
use steward_store::Store;
use time::{Duration, OffsetDateTime};

use crate::resources::{create_project, register};
use crate::support::{NOW, count, each_backend, effects, insert};

pub fn request(requester: UserId, target: Target) -> AccessRequest {
    AccessRequest {
        id: AccessRequestId::new(),
        requester,
        target,
        justification: Justification::parse("for the quarterly report", "justification").unwrap(),
        requested_duration: Some(Duration::days(7)),
        state: RequestState::Pending,
        decided_by: None,
        decision_reason: String::new(),
        granted_until: None,
        created_at: NOW,
        updated_at: NOW,
        version: 1,
    }
}

pub async fn ask(store: &Store, requester: UserId, target: Target) -> AccessRequest {
    let r = request(requester, target);
    store.insert_access_request(&r, Effects::default()).await.unwrap();
    r
}

fn approved(r: &AccessRequest, by: UserId, until: Option<OffsetDateTime>) -> AccessRequest {
    AccessRequest {
        state: RequestState::Approved,
        decided_by: Some(by),
        granted_until: until,
        updated_at: NOW,
        version: r.version + 1,
        ..r.clone()
    }
}

fn denied(r: &AccessRequest, by: UserId) -> AccessRequest {
    AccessRequest {
        state: RequestState::Denied,
        decided_by: Some(by),
        decision_reason: "not for this team".into(),
        updated_at: NOW,
        version: r.version + 1,
        ..r.clone()
    }
}

/// A clock the test moves: grants end when it says so, with no sleeping.
struct TestClock(Mutex<OffsetDateTime>);

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

impl TestClock {
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

/// The store judging grants by a [`TestClock`] that starts at [`NOW`].
fn with_test_clock(store: &Store) -> (Store, Arc<TestClock>) {
    let clock = Arc::new(TestClock(Mutex::new(NOW)));
    (store.clone().with_clock(clock.clone()), clock)
}

fn now() -> OffsetDateTime {
    NOW
}

#[tokio::test]
async fn one_pending_request_per_requester_and_target() {
    each_backend(|store, _| async move {
        let owner = insert(&store, "owner").await.id;
        let ann = insert(&store, "ann").await.id;
        let ds = register(&store, ResourceKind::Dataset, Some(owner), "sales").await;
        let first = ask(&store, ann, Target::DataSource(ds.id)).await;
        assert_eq!(store.get_access_request(first.id).await.unwrap(), Some(first.clone()));

        let again = store.insert_access_request(&request(ann, Target::DataSource(ds.id)), effects(ann, "x")).await;
        assert!(matches!(again, Err(StoreError::Conflict { key: "pending_request" })), "{again:?}");
        assert_eq!(count(&store, "audit_events").await, 0, "nothing of the refused one was written");

        // Once it is closed, a new one may be asked.
        store.close_access_request(&denied(&first, owner), 1, Effects::default()).await.unwrap();
        ask(&store, ann, Target::DataSource(ds.id)).await;

        // A target that does not exist.
        let ghost = request(ann, Target::DataSource(steward_domain::id::ResourceId::new()));
        assert!(matches!(store.insert_access_request(&ghost, Effects::default()).await, Err(StoreError::NotFound)));
    })
    .await;
}

#[tokio::test]
async fn listing_scopes_follow_ownership() {
    each_backend(|store, _| async move {
        let owner = insert(&store, "owner").await.id;
        let other = insert(&store, "other").await.id;
        let ann = insert(&store, "ann").await.id;
        let ds = register(&store, ResourceKind::Dataset, Some(owner), "sales").await;
        let theirs = register(&store, ResourceKind::View, Some(other), "hr").await;
        let p = create_project(&store, "apollo", owner).await;
        let a = ask(&store, ann, Target::DataSource(ds.id)).await;
        let b = ask(&store, ann, Target::DataSource(theirs.id)).await;
        let c = ask(&store, ann, Target::Project(p.id)).await;
        let own = ask(&store, owner, Target::DataSource(theirs.id)).await;
        let page = PageRequest::first(50);
        let ids = |v: Vec<AccessRequest>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();

        let mine = store.list_access_requests(RequestScope::Requester(ann), &RequestFilter::default(), page).await;
        assert_eq!(ids(mine.unwrap()), vec![c.id, b.id, a.id], "newest first");
        let decide = RequestScope::Decider { user: owner, any: false };
        let awaiting = store.list_access_requests(decide, &RequestFilter::default(), page).await.unwrap();
        assert_eq!(ids(awaiting), vec![c.id, a.id], "on what the owner owns, not their own");
        let any = RequestScope::Decider { user: owner, any: true };
        let awaiting = store.list_access_requests(any, &RequestFilter::default(), page).await.unwrap();
        assert_eq!(ids(awaiting), vec![c.id, b.id, a.id], "never their own request, even with decide_any");
        let all = store.list_access_requests(RequestScope::Everything, &RequestFilter::default(), page).await;
        assert_eq!(all.unwrap().len(), 4);

        let filter = RequestFilter { state: None, target: Some(Target::Project(p.id)) };
        assert_eq!(ids(store.list_access_requests(RequestScope::Everything, &filter, page).await.unwrap()), vec![c.id]);
        store.close_access_request(&denied(&a, owner), 1, Effects::default()).await.unwrap();
        let pending = RequestFilter { state: Some(RequestState::Pending), target: None };
        let left = store.list_access_requests(RequestScope::Requester(ann), &pending, page).await.unwrap();
        assert_eq!(ids(left), vec![c.id, b.id]);
        let awaiting = store.list_access_requests(decide, &RequestFilter::default(), page).await.unwrap();
        assert_eq!(ids(awaiting), vec![c.id], "a decided request awaits nobody");

        // Pages: after the first, the rest.
        let first = store
            .list_access_requests(RequestScope::Everything, &RequestFilter::default(), PageRequest::first(2))
            .await
            .unwrap();
        assert_eq!(ids(first.clone()), vec![own.id, c.id]);
        let next = PageRequest { size: 50, after: Some(c.id.as_uuid()) };
        let rest = store.list_access_requests(RequestScope::Everything, &RequestFilter::default(), next).await.unwrap();
        assert_eq!(ids(rest), vec![b.id, a.id]);
    })
    .await;
}

#[tokio::test]
async fn approving_grants_until_the_end_and_an_ended_grant_stops_counting() {
    each_backend(|store, _| async move {
        let (store, clock) = with_test_clock(&store);
        let owner = insert(&store, "owner").await.id;
        let ann = insert(&store, "ann").await.id;
        let ds = register(&store, ResourceKind::Dataset, Some(owner), "sales").await;
        let view = register(&store, ResourceKind::View, Some(owner), "sales_v").await;
        let p = create_project(&store, "apollo", owner).await;
        let linked = register(&store, ResourceKind::Dataset, Some(owner), "linked").await;
        store.link_data_source(p.id, linked.id, NOW, Effects::default()).await.unwrap();
        let me = Visibility::User(ann);
        let scoped = Visibility::Project { project: p.id, member: ann };

        // The view: live for an hour.
        let r = ask(&store, ann, Target::DataSource(view.id)).await;
        store
            .close_access_request(&approved(&r, owner, Some(now() + Duration::hours(1))), 1, effects(owner, "a"))
            .await
            .unwrap();
        let got = store.get_resource(view.id, &me).await.unwrap().expect("visible while the grant lasts");
        assert_eq!(got.readers, vec![ann]);
        assert_eq!(got.version, view.version + 1, "the readers changed");
        assert_eq!(store.get_access_request(r.id).await.unwrap().unwrap().state, RequestState::Approved);

        // The dataset: a grant that has just ended counts nowhere.
        let r = ask(&store, ann, Target::DataSource(ds.id)).await;
        store
            .close_access_request(&approved(&r, owner, Some(now() - Duration::seconds(1))), 1, Effects::default())
            .await
            .unwrap();
        assert_eq!(store.get_resource(ds.id, &me).await.unwrap(), None);
        assert!(store.get_resource(ds.id, &Visibility::Everything).await.unwrap().unwrap().readers.is_empty());

        // The project: membership while it lasts, and with it the linked
        // data sources, a scoped key's view, and the key's membership check.
        let r = ask(&store, ann, Target::Project(p.id)).await;
        let until = now() + Duration::seconds(2);
        store.close_access_request(&approved(&r, owner, Some(until)), 1, Effects::default()).await.unwrap();
        assert!(store.get_project(p.id, &me).await.unwrap().unwrap().members.contains(&ann));
        assert!(store.get_resource(linked.id, &me).await.unwrap().is_some());
        assert!(store.get_resource(linked.id, &scoped).await.unwrap().is_some());
        assert_eq!(store.project_membership(p.id, ann).await.unwrap(), Some(true));
        clock.advance(Duration::seconds(2));
        let project = store.get_project(p.id, &Visibility::Everything).await.unwrap().unwrap();
        assert!(!project.members.contains(&ann), "ended: no longer listed");
        assert_eq!(store.get_project(p.id, &me).await.unwrap(), None);
        assert_eq!(store.get_resource(linked.id, &me).await.unwrap(), None);
        assert_eq!(store.get_resource(linked.id, &scoped).await.unwrap(), None);
        assert_eq!(store.project_membership(p.id, ann).await.unwrap(), Some(false));

        // Adding the member again replaces the ended membership.
        store.add_project_member(p.id, ann, clock.now(), Effects::default()).await.unwrap();
        assert!(store.get_project(p.id, &me).await.unwrap().is_some());
        let dup = store.add_project_member(p.id, ann, clock.now(), Effects::default()).await;
        assert!(matches!(dup, Err(StoreError::Conflict { key: "member" })), "{dup:?}");
    })
    .await;
}

#[tokio::test]
async fn a_longer_grant_is_kept_and_an_update_keeps_a_grant_s_end() {
    each_backend(|store, _| async move {
        let (store, clock) = with_test_clock(&store);
        let owner = insert(&store, "owner").await.id;
        let ann = insert(&store, "ann").await.id;
        let bob = insert(&store, "bob").await.id;
        let mut ds = register(&store, ResourceKind::Dataset, Some(owner), "sales").await;
        let r = ask(&store, ann, Target::DataSource(ds.id)).await;
        store
            .close_access_request(&approved(&r, owner, Some(now() + Duration::seconds(2))), 1, Effects::default())
            .await
            .unwrap();
        ds = store.get_resource(ds.id, &Visibility::Everything).await.unwrap().unwrap();

        // The registrar re-sends the readers with Bob added: Ann's grant
        // still ends when it did, Bob's has no end.
        ds.readers = vec![ann, bob];
        ds.version += 1;
        store.update_resource(&ds, ds.version - 1, Effects::default()).await.unwrap();
        let got = store.get_resource(ds.id, &Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(got.readers.len(), 2);
        clock.advance(Duration::seconds(2));
        let got = store.get_resource(ds.id, &Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(got.readers, vec![bob], "Ann's grant ended on time");

        // A second, shorter approval does not cut a grant without end short.
        let r = ask(&store, bob, Target::DataSource(ds.id)).await;
        store
            .close_access_request(&approved(&r, owner, Some(now() - Duration::seconds(1))), 1, Effects::default())
            .await
            .unwrap();
        assert!(store.get_resource(ds.id, &Visibility::User(bob)).await.unwrap().is_some());
    })
    .await;
}

/// Approve and deny of one request at the same moment, 100 times: exactly
/// one wins each time, the other finds the request changed (`Stale`), and
/// only a winning approval leaves a grant.
#[tokio::test]
async fn approve_racing_deny_has_exactly_one_winner() {
    each_backend(|store, backend| async move {
        let owner = insert(&store, "owner").await.id;
        let admin = insert(&store, "admin").await.id;
        let (mut approvals, mut denials) = (0, 0);
        for round in 0..100 {
            let ann = insert(&store, &format!("ann{round}")).await.id;
            let ds = register(&store, ResourceKind::Dataset, Some(owner), &format!("ds{round}")).await;
            let r = ask(&store, ann, Target::DataSource(ds.id)).await;
            let gate = Arc::new(tokio::sync::Barrier::new(2));
            let (s1, s2, g1, g2) = (store.clone(), store.clone(), gate.clone(), gate.clone());
            let (yes, no) = (approved(&r, owner, None), denied(&r, admin));
            let approve = tokio::spawn(async move {
                g1.wait().await;
                s1.close_access_request(&yes, 1, effects(owner, "access_request.approve")).await
            });
            let deny = tokio::spawn(async move {
                g2.wait().await;
                s2.close_access_request(&no, 1, effects(admin, "access_request.deny")).await
            });
            let (a, d) = (approve.await.unwrap(), deny.await.unwrap());
            let stored = store.get_access_request(r.id).await.unwrap().unwrap();
            let reads = store.get_resource(ds.id, &Visibility::User(ann)).await.unwrap().is_some();
            match (a, d) {
                (Ok(()), Err(StoreError::Stale)) => {
                    approvals += 1;
                    assert_eq!((stored.state, reads), (RequestState::Approved, true));
                }
                (Err(StoreError::Stale), Ok(())) => {
                    denials += 1;
                    assert_eq!((stored.state, reads), (RequestState::Denied, false));
                }
                other => panic!("round {round}: {other:?}"),
            }
            assert_eq!(stored.version, 2);
        }
        eprintln!("{backend:?}: approve won {approvals}, deny won {denials}");
        assert_eq!(approvals + denials, 100);
        assert_eq!(count(&store, "audit_events").await, 100, "one audit event per round: the winner's");
    })
    .await;
}
