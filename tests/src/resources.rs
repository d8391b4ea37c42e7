//! ResourceService: internal services register resources for users; users
//! read what they own; admins read anyone's, with counts per kind; bad input
//! changes nothing; another user's resource is NOT_FOUND like a random id.

use steward_grpc::pb;
use steward_grpc::pb::ResourceKind as K;
use tonic::Code;

use crate::harness::{Client, TestServer, assert_status, mask, onboard, reason};
use crate::on_both_backends;

/// A service account whose role holds resources.register, like a platform
/// service that records what it creates.
pub async fn registrar(srv: &TestServer) -> Client {
    let admin = srv.admin().await;
    admin
        .roles()
        .create_role(pb::CreateRoleRequest {
            role: Some(pb::Role {
                name: "registrar".into(),
                description: "registers resources".into(),
                permissions: vec!["resources.register".into()],
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let secret = admin
        .users()
        .create_service_account(pb::CreateServiceAccountRequest {
            username: "catalog".into(),
            email: "catalog@example.com".into(),
            full_name: "Catalog service".into(),
            roles: vec!["registrar".into()],
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .api_key_secret;
    admin.with_token(&secret)
}

pub fn new_resource(kind: K, owner: &str, name: &str) -> pb::RegisterResourceRequest {
    pb::RegisterResourceRequest {
        resource: Some(pb::Resource {
            kind: kind as i32,
            display_name: name.into(),
            owner_id: owner.into(),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

pub async fn register(svc: &Client, kind: K, owner: &str, name: &str) -> pb::Resource {
    svc.resources().register_resource(new_resource(kind, owner, name)).await.unwrap().into_inner().resource.unwrap()
}

pub fn get(id: &str) -> pb::GetResourceRequest {
    pb::GetResourceRequest { resource_id: id.into() }
}

/// Code, reason and message: what must not tell a real id from a random one.
pub fn answer<T>(r: Result<T, tonic::Status>) -> (Code, String, String) {
    let s = r.err().expect("an error");
    (s.code(), reason(&s), s.message().to_string())
}

fn counts(r: &pb::ListUserResourcesResponse) -> Vec<(K, i64)> {
    r.counts.iter().map(|c| (K::try_from(c.kind).unwrap(), c.count)).collect()
}

on_both_backends!(services_register_and_owners_read, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let svc = registrar(&srv).await;
    let ann = onboard(&srv, "ann").await;
    let bob = onboard(&srv, "bob").await;
    let ann_c = srv.client(Some(&ann.token)).await;
    let bob_c = srv.client(Some(&bob.token)).await;

    let mut ds = new_resource(K::Dataset, &ann.id, "Orders");
    ds.resource.as_mut().unwrap().reader_ids = vec![bob.id.clone()];
    let ds = svc.resources().register_resource(ds).await.unwrap().into_inner().resource.unwrap();
    assert_eq!((ds.owner_id.as_str(), ds.reader_ids.clone()), (ann.id.as_str(), vec![bob.id.clone()]));
    let notebook = register(&svc, K::Notebook, &ann.id, "Churn model").await;
    let schedule = register(&svc, K::Schedule, &ann.id, "Nightly load").await;
    assert_eq!(schedule.schedule_enabled, Some(true));
    let view = register(&svc, K::View, &ann.id, "Orders by month").await;
    let dashboard = register(&svc, K::Dashboard, &bob.id, "Revenue").await;
    let smtp = register(&svc, K::MailServer, "", "SMTP relay").await;
    assert_eq!(smtp.owner_id, "");

    // A user lists their own, in pages.
    let page1 = ann_c
        .resources()
        .list_resources(pb::ListResourcesRequest { page_size: 3, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let page2 = ann_c
        .resources()
        .list_resources(pb::ListResourcesRequest {
            page_size: 3,
            page_token: page1.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mine: Vec<_> = page1.resources.iter().chain(&page2.resources).map(|r| r.resource_id.clone()).collect();
    // Her personal group first: it came with her.
    let anns_group = crate::groups::personal_group(&ann_c, &ann.id).await.group_id;
    let registered = [&ds, &notebook, &schedule, &view].map(|r| r.resource_id.clone());
    assert_eq!(mine, [[anns_group].as_slice(), &registered].concat());
    assert!(page2.next_page_token.is_empty());
    let datasets = ann_c
        .resources()
        .list_resources(pb::ListResourcesRequest { kind: K::Dataset as i32, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .resources;
    assert_eq!(datasets, vec![ds.clone()]);
    let others = pb::ListResourcesRequest { owner_id: bob.id.clone(), ..Default::default() };
    assert_status(ann_c.resources().list_resources(others.clone()).await, Code::PermissionDenied, "PERMISSION_DENIED");
    let bobs = admin.resources().list_resources(others).await.unwrap().into_inner().resources;
    assert_eq!(bobs.iter().map(|r| K::try_from(r.kind).unwrap()).collect::<Vec<_>>(), [K::Group, K::Dashboard]);
    assert_eq!(bobs[1], dashboard);

    // Everything a user owns, with counts per kind: self, or an admin.
    let by_id = |id: &str| pb::ListUserResourcesRequest {
        selector: Some(pb::list_user_resources_request::Selector::UserId(id.into())),
        ..Default::default()
    };
    let all = admin.resources().list_user_resources(by_id(&ann.id)).await.unwrap().into_inner();
    assert_eq!(counts(&all), [(K::Group, 1), (K::Dataset, 1), (K::View, 1), (K::Notebook, 1), (K::Schedule, 1)]);
    assert_eq!((all.total, all.resources.len()), (5, 5));
    let by_name = pb::ListUserResourcesRequest {
        selector: Some(pb::list_user_resources_request::Selector::Username("BOB".into())),
        ..Default::default()
    };
    let b = admin.resources().list_user_resources(by_name).await.unwrap().into_inner();
    assert_eq!((b.user_id.as_str(), counts(&b)), (bob.id.as_str(), vec![(K::Group, 1), (K::Dashboard, 1)]));
    let own = ann_c.resources().list_user_resources(pb::ListUserResourcesRequest::default()).await.unwrap();
    assert_eq!(own.into_inner().total, 5);
    let real = ann_c.resources().list_user_resources(by_id(&bob.id)).await;
    let random = ann_c.resources().list_user_resources(by_id(&uuid::Uuid::now_v7().to_string())).await;
    assert_eq!(answer(real), answer(random));
    assert_status(
        admin.resources().list_user_resources(by_id(&uuid::Uuid::now_v7().to_string())).await,
        Code::NotFound,
        "NOT_FOUND",
    );

    // Read-only holders see the dataset; nobody else sees anything of ann's,
    // and a real id answers like a random one.
    let seen = bob_c.resources().get_resource(get(&ds.resource_id)).await.unwrap().into_inner().resource.unwrap();
    assert_eq!(seen, ds);
    let real = bob_c.resources().get_resource(get(&notebook.resource_id)).await;
    let random = bob_c.resources().get_resource(get(&uuid::Uuid::now_v7().to_string())).await;
    let real = answer(real);
    assert_eq!((real.0, real.1.as_str()), (Code::NotFound, "NOT_FOUND"));
    assert_eq!(real, answer(random));
    let r = bob_c
        .resources()
        .update_resource(pb::UpdateResourceRequest {
            resource_id: ds.resource_id.clone(),
            resource: Some(pb::Resource { display_name: "Mine now".into(), ..Default::default() }),
            update_mask: mask(&["display_name"]),
            etag: String::new(),
        })
        .await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
    let r = bob_c
        .resources()
        .delete_resource(pb::DeleteResourceRequest { resource_id: notebook.resource_id.clone() })
        .await;
    assert_status(r, Code::NotFound, "NOT_FOUND");

    // The owner updates; the etag guards; giving it away needs resources.register.
    let rename = |etag: &str| pb::UpdateResourceRequest {
        resource_id: notebook.resource_id.clone(),
        resource: Some(pb::Resource { display_name: "Churn model v2".into(), ..Default::default() }),
        update_mask: mask(&["display_name"]),
        etag: etag.into(),
    };
    let renamed =
        ann_c.resources().update_resource(rename(&notebook.etag)).await.unwrap().into_inner().resource.unwrap();
    assert_eq!(renamed.display_name, "Churn model v2");
    assert_ne!(renamed.etag, notebook.etag);
    assert_status(ann_c.resources().update_resource(rename(&notebook.etag)).await, Code::Aborted, "ETAG_MISMATCH");
    let give = pb::UpdateResourceRequest {
        resource_id: notebook.resource_id.clone(),
        resource: Some(pb::Resource { owner_id: bob.id.clone(), ..Default::default() }),
        update_mask: mask(&["owner_id"]),
        etag: String::new(),
    };
    assert_status(ann_c.resources().update_resource(give.clone()).await, Code::PermissionDenied, "PERMISSION_DENIED");
    let moved = svc.resources().update_resource(give).await.unwrap().into_inner().resource.unwrap();
    assert_eq!(moved.owner_id, bob.id);
    assert_status(ann_c.resources().get_resource(get(&notebook.resource_id)).await, Code::NotFound, "NOT_FOUND");
    let pause = pb::UpdateResourceRequest {
        resource_id: schedule.resource_id.clone(),
        resource: Some(pb::Resource { schedule_enabled: Some(false), ..Default::default() }),
        update_mask: mask(&["schedule_enabled"]),
        etag: String::new(),
    };
    let paused = ann_c.resources().update_resource(pause).await.unwrap().into_inner().resource.unwrap();
    assert_eq!(paused.schedule_enabled, Some(false));

    // The owner deletes; deleting again is NOT_FOUND.
    let del = pb::DeleteResourceRequest { resource_id: view.resource_id.clone() };
    ann_c.resources().delete_resource(del.clone()).await.unwrap();
    assert_status(ann_c.resources().delete_resource(del).await, Code::NotFound, "NOT_FOUND");
    let left = admin.resources().list_user_resources(by_id(&ann.id)).await.unwrap().into_inner();
    assert_eq!(counts(&left), [(K::Group, 1), (K::Dataset, 1), (K::Schedule, 1)]);

    let actions: Vec<String> = admin
        .audit()
        .list_audit_events(pb::ListAuditEventsRequest { page_size: 1000, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .audit_events
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in ["resource.register", "resource.update", "resource.delete"] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
});

on_both_backends!(bad_resource_input_is_refused_and_changes_nothing, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let svc = registrar(&srv).await;
    let ann = onboard(&srv, "ann").await;
    let ann_c = srv.client(Some(&ann.token)).await;
    let with = |kind: i32, owner: &str, name: &str, f: fn(&mut pb::Resource)| {
        let mut r = new_resource(K::Unspecified, owner, name);
        let res = r.resource.as_mut().unwrap();
        res.kind = kind;
        f(res);
        r
    };
    let nobody = uuid::Uuid::now_v7().to_string();
    let cases: Vec<(pb::RegisterResourceRequest, &str)> = vec![
        (with(K::MailServer as i32, &ann.id, "Relay", |_| {}), "OWNER_NOT_ALLOWED"),
        (with(K::Notebook as i32, "", "Orphan", |_| {}), "OWNER_REQUIRED"),
        (with(999, &ann.id, "Spaceship", |_| {}), "UNKNOWN_RESOURCE_KIND"),
        (with(0, &ann.id, "No kind", |_| {}), "RESOURCE_KIND_REQUIRED"),
        (with(K::Dataset as i32, &ann.id, "   ", |_| {}), "INVALID_DISPLAY_NAME"),
        (with(K::Dataset as i32, &ann.id, &"x".repeat(201), |_| {}), "TOO_LONG"),
        (with(K::Dataset as i32, &ann.id, "Flag", |r| r.schedule_enabled = Some(true)), "NOT_A_SCHEDULE"),
        (with(K::Notebook as i32, &ann.id, "Shared", |r| r.reader_ids = vec![r.owner_id.clone() + "x"]), "INVALID_ID"),
        (with(K::Dataset as i32, &nobody, "Nobody's", |_| {}), "OWNER_NOT_FOUND"),
        (
            with(K::Dataset as i32, &ann.id, "Lost", |r| r.project_ids = vec![uuid::Uuid::now_v7().to_string()]),
            "PROJECT_NOT_FOUND",
        ),
        (with(K::Dataset as i32, "not-an-id", "Bad id", |_| {}), "INVALID_ID"),
    ];
    for (req, want) in cases {
        let what = format!("{req:?}");
        let s = svc.resources().register_resource(req).await.expect_err(&what);
        assert_eq!((s.code(), reason(&s).as_str()), (Code::InvalidArgument, want), "{what}");
    }
    let mut readers = with(K::Notebook as i32, &ann.id, "Shared", |_| {});
    readers.resource.as_mut().unwrap().reader_ids = vec![ann.id.clone(), admin_id(&admin).await];
    assert_status(svc.resources().register_resource(readers).await, Code::InvalidArgument, "READERS_NOT_ALLOWED");
    assert_status(
        ann_c.resources().register_resource(new_resource(K::Dataset, &ann.id, "Self-made")).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );
    // Nothing was registered: the registry holds only the users' personal groups.
    let registered = registered_kinds(&admin).await;
    assert!(registered.iter().all(|k| *k == K::Group), "nothing was registered: {registered:?}");

    // A retry with the same request id registers nothing new.
    let mut once = new_resource(K::Dataset, &ann.id, "Once");
    once.request_id = "load-42".into();
    let a = svc.resources().register_resource(once.clone()).await.unwrap().into_inner().resource.unwrap();
    let b = svc.resources().register_resource(once).await.unwrap().into_inner().resource.unwrap();
    assert_eq!(a, b);
    assert_eq!(registered_kinds(&admin).await.iter().filter(|k| **k != K::Group).count(), 1);

    // Bad updates change nothing.
    let update = |paths: &[&str], r: pb::Resource| pb::UpdateResourceRequest {
        resource_id: a.resource_id.clone(),
        resource: Some(r),
        update_mask: mask(paths),
        etag: String::new(),
    };
    let cases = [
        (update(&[], pb::Resource::default()), "EMPTY_UPDATE_MASK"),
        (update(&["kind"], pb::Resource::default()), "UNKNOWN_FIELD"),
        (update(&["display_name"], pb::Resource::default()), "INVALID_DISPLAY_NAME"),
        (
            update(&["schedule_enabled"], pb::Resource { schedule_enabled: Some(true), ..Default::default() }),
            "NOT_A_SCHEDULE",
        ),
        (
            update(&["reader_ids"], pb::Resource { reader_ids: vec![nobody.clone()], ..Default::default() }),
            "READER_NOT_FOUND",
        ),
    ];
    for (req, want) in cases {
        assert_status(ann_c.resources().update_resource(req).await, Code::InvalidArgument, want);
    }
    let after = ann_c.resources().get_resource(get(&a.resource_id)).await.unwrap().into_inner().resource.unwrap();
    assert_eq!(after, a);
});

/// The kind of every resource in the registry.
async fn registered_kinds(admin: &Client) -> Vec<K> {
    let all = admin.resources().list_resources(pb::ListResourcesRequest::default()).await.unwrap().into_inner();
    all.resources.iter().map(|r| K::try_from(r.kind).unwrap()).collect()
}

async fn admin_id(admin: &Client) -> String {
    admin.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner().user.unwrap().user_id
}
