//! AccessService, the requests tab: ask for a data source or a project, the
//! owner decides, the grant shows where access is checked and ends on time,
//! approve racing deny has one winner, and deleting a user hands their
//! requests on.

use steward_grpc::pb;
use steward_grpc::pb::ResourceKind as K;
use tonic::Code;

use crate::harness::{Client, Person, TestServer, assert_status, mask, onboard};
use crate::on_both_backends;
use crate::resources::{register, registrar};

type Target = pb::create_access_request_request::Target;

pub fn ask_for(target: Target, justification: &str, seconds: i64) -> pb::CreateAccessRequestRequest {
    pb::CreateAccessRequestRequest {
        target: Some(target),
        justification: justification.into(),
        duration: (seconds != 0).then_some(prost_types::Duration { seconds, nanos: 0 }),
    }
}

async fn ask(c: &Client, target: Target, seconds: i64) -> pb::AccessRequest {
    c.access()
        .create_access_request(ask_for(target, "for the churn analysis", seconds))
        .await
        .unwrap()
        .into_inner()
        .access_request
        .unwrap()
}

fn approve(r: &pb::AccessRequest, seconds: i64) -> pb::ApproveAccessRequestRequest {
    pb::ApproveAccessRequestRequest {
        access_request_id: r.access_request_id.clone(),
        duration: (seconds != 0).then_some(prost_types::Duration { seconds, nanos: 0 }),
        etag: r.etag.clone(),
    }
}

fn deny(r: &pb::AccessRequest, reason: &str) -> pb::DenyAccessRequestRequest {
    pb::DenyAccessRequestRequest {
        access_request_id: r.access_request_id.clone(),
        reason: reason.into(),
        etag: r.etag.clone(),
    }
}

fn list(view: pb::AccessRequestView) -> pb::ListAccessRequestsRequest {
    pb::ListAccessRequestsRequest { view: view as i32, ..Default::default() }
}

async fn ids(c: &Client, req: pb::ListAccessRequestsRequest) -> Vec<String> {
    let out = c.access().list_access_requests(req).await.unwrap().into_inner();
    out.access_requests.into_iter().map(|r| r.access_request_id).collect()
}

async fn data_sources(c: &Client) -> Vec<String> {
    let out = c.projects().list_data_sources(pb::ListDataSourcesRequest::default()).await.unwrap().into_inner();
    out.data_sources.into_iter().map(|r| r.resource_id).collect()
}

/// A project of `owner`'s with `linked` linked to it.
async fn project_with(owner: &Client, name: &str, linked: &pb::Resource) -> pb::Project {
    let create = pb::CreateProjectRequest { name: name.into(), description: String::new(), request_id: String::new() };
    let project = owner.projects().create_project(create).await.unwrap().into_inner().project.unwrap();
    let link =
        pb::LinkDataSourceRequest { project_id: project.project_id.clone(), resource_id: linked.resource_id.clone() };
    owner.projects().link_data_source(link).await.unwrap();
    project
}

/// Opts `p` in to email notifications.
async fn opt_in(srv: &TestServer, p: &Person) {
    let me = srv.client(Some(&p.token)).await;
    me.users()
        .update_user(pb::UpdateUserRequest {
            user_id: String::new(),
            user: Some(pb::User { email_notifications: true, ..Default::default() }),
            update_mask: mask(&["email_notifications"]),
            etag: String::new(),
        })
        .await
        .unwrap();
}

on_both_backends!(ask_decide_and_see_the_grant, |backend| async move {
    let srv = TestServer::start(backend).await;
    let svc = registrar(&srv).await;
    let (owner, ann, bob) = (onboard(&srv, "owner").await, onboard(&srv, "ann").await, onboard(&srv, "bob").await);
    opt_in(&srv, &owner).await;
    opt_in(&srv, &ann).await;
    let (owner_c, ann_c, bob_c) =
        (srv.client(Some(&owner.token)).await, srv.client(Some(&ann.token)).await, srv.client(Some(&bob.token)).await);
    let sales = register(&svc, K::Dataset, &owner.id, "Sales").await;
    let hr = register(&svc, K::View, &owner.id, "Headcount").await;
    let notebook = register(&svc, K::Notebook, &owner.id, "Analysis").await;
    let linked = register(&svc, K::Dataset, &owner.id, "Churn inputs").await;
    let project = project_with(&owner_c, "Churn", &linked).await;
    assert!(data_sources(&ann_c).await.is_empty());

    // Ask: one pending per target; bad input changes nothing.
    let r = ask(&ann_c, Target::DataSourceId(sales.resource_id.clone()), 7 * 86_400).await;
    assert_eq!(r.state, pb::AccessRequestState::Pending as i32);
    assert_eq!((r.requester_id.as_str(), r.requested_duration.map(|d| d.seconds)), (ann.id.as_str(), Some(604_800)));
    let again = ask_for(Target::DataSourceId(sales.resource_id.clone()), "still need it", 0);
    assert_status(ann_c.access().create_access_request(again).await, Code::AlreadyExists, "REQUEST_ALREADY_PENDING");
    for (req, code, reason) in [
        (ask_for(Target::DataSourceId(uuid::Uuid::now_v7().to_string()), "x", 0), Code::NotFound, "NOT_FOUND"),
        (ask_for(Target::DataSourceId("nope".into()), "x", 0), Code::InvalidArgument, "INVALID_ID"),
        (
            ask_for(Target::DataSourceId(notebook.resource_id.clone()), "x", 0),
            Code::InvalidArgument,
            "NOT_A_DATA_SOURCE",
        ),
        (
            ask_for(Target::DataSourceId(hr.resource_id.clone()), "  ", 0),
            Code::InvalidArgument,
            "JUSTIFICATION_REQUIRED",
        ),
        (ask_for(Target::DataSourceId(hr.resource_id.clone()), "x", -60), Code::InvalidArgument, "NEGATIVE_DURATION"),
        (
            ask_for(Target::DataSourceId(hr.resource_id.clone()), "x", 400 * 86_400),
            Code::InvalidArgument,
            "DURATION_TOO_LONG",
        ),
        (ask_for(Target::ProjectId(uuid::Uuid::now_v7().to_string()), "x", 0), Code::NotFound, "NOT_FOUND"),
        (
            pb::CreateAccessRequestRequest { target: None, justification: "x".into(), duration: None },
            Code::InvalidArgument,
            "TARGET_REQUIRED",
        ),
    ] {
        assert_status(ann_c.access().create_access_request(req).await, code, reason);
    }
    // The owner cannot ask for what they own.
    let own = ask_for(Target::DataSourceId(sales.resource_id.clone()), "mine", 0);
    assert_status(owner_c.access().create_access_request(own).await, Code::AlreadyExists, "ALREADY_HAS_ACCESS");
    let mine = ids(&ann_c, list(pb::AccessRequestView::Mine)).await;
    assert_eq!(mine, vec![r.access_request_id.clone()], "nothing else was created");

    // The owner was told (opted in); the tab shows it to the owner only.
    srv.mailbox().wait_for(&owner.email, "asks for access to dataset Sales").await;
    assert_eq!(ids(&owner_c, list(pb::AccessRequestView::AwaitingMyDecision)).await, vec![r.access_request_id.clone()]);
    assert!(ids(&bob_c, list(pb::AccessRequestView::AwaitingMyDecision)).await.is_empty());
    let get = pb::GetAccessRequestRequest { access_request_id: r.access_request_id.clone() };
    assert_status(bob_c.access().get_access_request(get.clone()).await, Code::NotFound, "NOT_FOUND");
    assert_status(bob_c.access().approve_access_request(approve(&r, 0)).await, Code::NotFound, "NOT_FOUND");
    assert_status(
        ann_c.access().approve_access_request(approve(&r, 0)).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );
    assert_status(
        ann_c.access().list_access_requests(list(pb::AccessRequestView::All)).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );

    // Approve for less than asked; never more.
    assert_status(
        owner_c.access().approve_access_request(approve(&r, 8 * 86_400)).await,
        Code::InvalidArgument,
        "DURATION_LONGER_THAN_REQUESTED",
    );
    let done = owner_c
        .access()
        .approve_access_request(approve(&r, 86_400))
        .await
        .unwrap()
        .into_inner()
        .access_request
        .unwrap();
    assert_eq!((done.state, done.decided_by.as_str()), (pb::AccessRequestState::Approved as i32, owner.id.as_str()));
    let until = done.granted_until.unwrap().seconds;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((now + 86_400 - 60..=now + 86_400 + 5).contains(&until), "a day from now: {until} vs {now}");
    srv.mailbox().wait_for(&ann.email, "You now have access to dataset Sales").await;
    assert_eq!(data_sources(&ann_c).await, vec![sales.resource_id.clone()], "ListDataSources shows the grant");
    let own_resources =
        ann_c.resources().list_user_resources(pb::ListUserResourcesRequest::default()).await.unwrap().into_inner();
    let held: Vec<&str> = own_resources.held_data_sources.iter().map(|r| r.resource_id.as_str()).collect();
    assert_eq!(held, vec![sales.resource_id.as_str()], "the user's resources view shows the grant");
    assert_eq!(own_resources.total, 1, "held, not owned: ann owns only her personal group");

    // Deciding it again: closed. A stale etag: ABORTED.
    assert_status(
        owner_c.access().deny_access_request(deny(&done, "no")).await,
        Code::FailedPrecondition,
        "REQUEST_NOT_PENDING",
    );
    assert_status(owner_c.access().deny_access_request(deny(&r, "no")).await, Code::Aborted, "STALE_ETAG");

    // Deny with a reason (required); withdraw by the requester only.
    let p = ask(&ann_c, Target::ProjectId(project.project_id.clone()), 0).await;
    assert_status(owner_c.access().deny_access_request(deny(&p, " ")).await, Code::InvalidArgument, "REASON_REQUIRED");
    let denied = owner_c
        .access()
        .deny_access_request(deny(&p, "closed team"))
        .await
        .unwrap()
        .into_inner()
        .access_request
        .unwrap();
    assert_eq!((denied.state, denied.decision_reason.as_str()), (pb::AccessRequestState::Denied as i32, "closed team"));
    srv.mailbox().wait_for(&ann.email, "Reason: closed team").await;
    let w = ask(&bob_c, Target::DataSourceId(hr.resource_id.clone()), 0).await;
    let withdraw =
        pb::WithdrawAccessRequestRequest { access_request_id: w.access_request_id.clone(), etag: String::new() };
    assert_status(
        owner_c.access().withdraw_access_request(withdraw.clone()).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );
    let gone =
        bob_c.access().withdraw_access_request(withdraw.clone()).await.unwrap().into_inner().access_request.unwrap();
    assert_eq!(gone.state, pb::AccessRequestState::Withdrawn as i32);
    assert_status(
        bob_c.access().withdraw_access_request(withdraw).await,
        Code::FailedPrecondition,
        "REQUEST_NOT_PENDING",
    );

    // Filters and the admin's view.
    let admin = srv.admin().await;
    let all = ids(&admin, list(pb::AccessRequestView::All)).await;
    assert_eq!(all, vec![w.access_request_id.clone(), p.access_request_id.clone(), r.access_request_id.clone()]);
    let mut denied_only = list(pb::AccessRequestView::All);
    denied_only.state = pb::AccessRequestState::Denied as i32;
    assert_eq!(ids(&admin, denied_only).await, vec![p.access_request_id.clone()]);
    let mut on_hr = list(pb::AccessRequestView::All);
    on_hr.target = Some(pb::list_access_requests_request::Target::DataSourceId(hr.resource_id.clone()));
    assert_eq!(ids(&admin, on_hr).await, vec![w.access_request_id.clone()]);
    let mut paged = list(pb::AccessRequestView::All);
    paged.page_size = 2;
    let first = admin.access().list_access_requests(paged.clone()).await.unwrap().into_inner();
    assert_eq!(first.access_requests.len(), 2);
    paged.page_token = first.next_page_token;
    assert_eq!(ids(&admin, paged).await, vec![r.access_request_id.clone()]);
    let mut bad = list(pb::AccessRequestView::AwaitingMyDecision);
    bad.state = pb::AccessRequestState::Approved as i32;
    assert_status(admin.access().list_access_requests(bad).await, Code::InvalidArgument, "ONLY_PENDING_AWAIT_DECISION");

    // Every change left an audit event.
    let events = admin
        .audit()
        .list_audit_events(pb::ListAuditEventsRequest { page_size: 200, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .audit_events;
    let actions: Vec<&str> =
        events.iter().map(|e| e.action.as_str()).filter(|a| a.starts_with("access_request.")).collect();
    for want in ["access_request.create", "access_request.approve", "access_request.deny", "access_request.withdraw"] {
        assert!(actions.contains(&want), "{want} in {actions:?}");
    }
    assert_eq!(actions.len(), 6, "three requests, three decisions: {actions:?}");
});

on_both_backends!(a_grant_ends_on_time_everywhere, |backend| async move {
    let srv = TestServer::start(backend).await;
    let svc = registrar(&srv).await;
    let (owner, ann) = (onboard(&srv, "owner").await, onboard(&srv, "ann").await);
    let (owner_c, ann_c) = (srv.client(Some(&owner.token)).await, srv.client(Some(&ann.token)).await);
    let view = register(&svc, K::View, &owner.id, "Orders by month").await;
    let linked = register(&svc, K::Dataset, &owner.id, "Orders").await;
    let project = project_with(&owner_c, "Ops", &linked).await;

    // Three seconds of the view, three of the project.
    for target in [Target::DataSourceId(view.resource_id.clone()), Target::ProjectId(project.project_id.clone())] {
        let r = ask(&ann_c, target, 3).await;
        owner_c.access().approve_access_request(approve(&r, 0)).await.unwrap();
    }
    let granted_at = std::time::Instant::now();
    let mut sources = data_sources(&ann_c).await;
    sources.sort();
    let mut want = vec![view.resource_id.clone(), linked.resource_id.clone()];
    want.sort();
    assert_eq!(sources, want, "the view held, and the project's data source");

    // A key scoped to the project sees the project's data sources.
    let key = ann_c
        .api_keys()
        .create_api_key(pb::CreateApiKeyRequest {
            name: "ops".into(),
            project_id: project.project_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .secret;
    let scoped = ann_c.with_token(&key);
    assert_eq!(data_sources(&scoped).await, vec![linked.resource_id.clone()]);

    // Once the grants end: nothing, at once, with no sweeper.
    tokio::time::sleep(
        std::time::Duration::from_secs(3).saturating_sub(granted_at.elapsed()) + std::time::Duration::from_millis(300),
    )
    .await;
    assert!(data_sources(&ann_c).await.is_empty(), "the ended grants count nowhere");
    assert!(data_sources(&scoped).await.is_empty(), "the scoped key lost the project with the membership");
    let get = pb::GetProjectRequest { project_id: project.project_id.clone() };
    assert_status(ann_c.projects().get_project(get).await, Code::NotFound, "NOT_FOUND");
    // And asking again is allowed (they no longer have it).
    ask(&ann_c, Target::DataSourceId(view.resource_id.clone()), 0).await;
});

// Approve and deny sent at the same moment by two deciders (the owner and
// an admin), 100 rounds: exactly one succeeds, the other is ABORTED.
on_both_backends!(approve_racing_deny_has_one_winner, |backend| async move {
    let srv = TestServer::start(backend).await;
    let svc = registrar(&srv).await;
    let (owner, ann) = (onboard(&srv, "owner").await, onboard(&srv, "ann").await);
    let (owner_c, ann_c, admin) =
        (srv.client(Some(&owner.token)).await, srv.client(Some(&ann.token)).await, srv.admin().await);
    let (mut approved, mut denied) = (0, 0);
    for round in 0..100 {
        let ds = register(&svc, K::Dataset, &owner.id, &format!("Set {round}")).await;
        let r = ask(&ann_c, Target::DataSourceId(ds.resource_id.clone()), 0).await;
        let (mut a, mut d) = (owner_c.access(), admin.access());
        let (yes, no) = (approve(&r, 0), deny(&r, "race"));
        let (ya, na) = tokio::join!(a.approve_access_request(yes), d.deny_access_request(no));
        match (ya, na) {
            (Ok(_), Err(s)) if s.code() == Code::Aborted => approved += 1,
            (Err(s), Ok(_)) if s.code() == Code::Aborted => denied += 1,
            other => panic!("round {round}: {other:?}"),
        }
    }
    eprintln!("approve won {approved}, deny won {denied}");
    let mut all = list(pb::AccessRequestView::All);
    all.page_size = 200;
    let out = admin.access().list_access_requests(all).await.unwrap().into_inner().access_requests;
    let approvals = out.iter().filter(|r| r.state == pb::AccessRequestState::Approved as i32).count();
    assert_eq!((out.len(), approvals), (100, approved), "the stored states match the winners");
    let all_sources = pb::ListDataSourcesRequest { page_size: 200, ..Default::default() };
    let held = ann_c.projects().list_data_sources(all_sources).await.unwrap().into_inner().data_sources;
    assert_eq!(held.len(), approved, "a grant exactly for each winning approval");
});

// Deleting a user: their pending requests are withdrawn; requests awaiting
// their decision move to the new owner with the resources.
on_both_backends!(deleting_a_user_hands_their_requests_on, |backend| async move {
    let srv = TestServer::start(backend).await;
    let svc = registrar(&srv).await;
    let (leaver, heir, ann) = (onboard(&srv, "leaver").await, onboard(&srv, "heir").await, onboard(&srv, "ann").await);
    let (leaver_c, heir_c, ann_c) = (
        srv.client(Some(&leaver.token)).await,
        srv.client(Some(&heir.token)).await,
        srv.client(Some(&ann.token)).await,
    );
    let theirs = register(&svc, K::Dataset, &leaver.id, "Leaver's").await;
    let anns = register(&svc, K::Dataset, &ann.id, "Ann's").await;
    let awaiting = ask(&ann_c, Target::DataSourceId(theirs.resource_id.clone()), 0).await;
    let own = ask(&leaver_c, Target::DataSourceId(anns.resource_id.clone()), 0).await;

    let admin = srv.admin().await;
    let by_id = |id: &str| Some(pb::UserSelector { selector: Some(pb::user_selector::Selector::UserId(id.into())) });
    let suspend = pb::SuspendUserRequest { user: by_id(&leaver.id), reason: "left".into(), end_time: None };
    admin.users().suspend_user(suspend).await.unwrap();
    let plan = pb::PlanUserDeletionRequest { user: by_id(&leaver.id), new_owner: by_id(&heir.id) };
    let plan = admin.users().plan_user_deletion(plan).await.unwrap().into_inner().plan.unwrap();
    let delete = pb::DeleteUserRequest { user: by_id(&leaver.id), new_owner: by_id(&heir.id), plan_etag: plan.etag };
    admin.users().delete_user(delete).await.unwrap();

    let get = |id: &str| pb::GetAccessRequestRequest { access_request_id: id.into() };
    let own = admin
        .access()
        .get_access_request(get(&own.access_request_id))
        .await
        .unwrap()
        .into_inner()
        .access_request
        .unwrap();
    assert_eq!(
        (own.state, own.decision_reason.as_str()),
        (pb::AccessRequestState::Withdrawn as i32, "the requester was deleted")
    );
    assert_eq!(
        ids(&heir_c, list(pb::AccessRequestView::AwaitingMyDecision)).await,
        vec![awaiting.access_request_id.clone()]
    );
    heir_c.access().approve_access_request(approve(&awaiting, 0)).await.unwrap();
    assert_eq!(data_sources(&ann_c).await, vec![theirs.resource_id.clone(), anns.resource_id.clone()]);

    // Nobody here opted in to notifications: the mail relay sends in order,
    // so once a later welcome email is out, no access email was queued.
    onboard(&srv, "zed").await;
    let about_access: Vec<String> = srv
        .mailbox()
        .all()
        .into_iter()
        .filter(|m| m.contains("access request") || m.contains("asks for access"))
        .collect();
    assert!(about_access.is_empty(), "{about_access:#?}");
});
