//! ProjectService: projects, members, linked data sources, and what each
//! caller sees through them.

use steward_grpc::pb;
use steward_grpc::pb::ResourceKind as K;
use tonic::Code;

use crate::harness::{Client, TestServer, assert_status, onboard};
use crate::on_both_backends;
use crate::resources::{answer, get, register, registrar};

fn create(name: &str) -> pb::CreateProjectRequest {
    pb::CreateProjectRequest {
        name: name.into(),
        description: format!("the {name} project"),
        request_id: String::new(),
    }
}

fn member(project: &str, user: &str) -> pb::AddProjectMemberRequest {
    pb::AddProjectMemberRequest { project_id: project.into(), user_id: user.into() }
}

fn link(project: &str, resource: &str) -> pb::LinkDataSourceRequest {
    pb::LinkDataSourceRequest { project_id: project.into(), resource_id: resource.into() }
}

async fn data_sources(c: &Client) -> Vec<String> {
    c.projects()
        .list_data_sources(pb::ListDataSourcesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .data_sources
        .into_iter()
        .map(|r| r.resource_id)
        .collect()
}

on_both_backends!(members_see_the_data_sources_linked_to_their_project, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let svc = registrar(&srv).await;
    let ann = onboard(&srv, "ann").await;
    let bob = onboard(&srv, "bob").await;
    let carol = onboard(&srv, "carol").await;
    let (ann_c, bob_c, carol_c) =
        (srv.client(Some(&ann.token)).await, srv.client(Some(&bob.token)).await, srv.client(Some(&carol.token)).await);
    let orders = register(&svc, K::Dataset, &ann.id, "Orders").await;
    let monthly = register(&svc, K::View, &ann.id, "Orders by month").await;
    let notebook = register(&svc, K::Notebook, &ann.id, "Analysis").await;
    let carols = register(&svc, K::Dataset, &carol.id, "Carol's").await;

    let p = ann_c.projects().create_project(create("Churn")).await.unwrap().into_inner().project.unwrap();
    assert_eq!((p.owner_id.as_str(), p.member_ids.clone()), (ann.id.as_str(), vec![ann.id.clone()]));
    let id = p.project_id.clone();
    assert_status(ann_c.projects().create_project(create("CHURN")).await, Code::AlreadyExists, "PROJECT_NAME_TAKEN");

    // Before: bob sees neither the project nor ann's data.
    assert!(data_sources(&bob_c).await.is_empty());
    let real = bob_c.projects().get_project(pb::GetProjectRequest { project_id: id.clone() }).await;
    let random =
        bob_c.projects().get_project(pb::GetProjectRequest { project_id: uuid::Uuid::now_v7().to_string() }).await;
    assert_eq!(answer(real), answer(random));
    assert_status(bob_c.resources().get_resource(get(&orders.resource_id)).await, Code::NotFound, "NOT_FOUND");

    let p = ann_c.projects().add_project_member(member(&id, &bob.id)).await.unwrap().into_inner().project.unwrap();
    assert_eq!(p.member_ids.len(), 2);
    assert_status(
        ann_c.projects().add_project_member(member(&id, &bob.id)).await,
        Code::AlreadyExists,
        "ALREADY_A_MEMBER",
    );
    let p =
        ann_c.projects().link_data_source(link(&id, &orders.resource_id)).await.unwrap().into_inner().project.unwrap();
    assert_eq!(p.data_source_ids, vec![orders.resource_id.clone()]);
    let r = ann_c.projects().link_data_source(link(&id, &notebook.resource_id)).await;
    assert_status(r, Code::InvalidArgument, "NOT_A_DATA_SOURCE");
    assert_status(ann_c.projects().link_data_source(link(&id, &carols.resource_id)).await, Code::NotFound, "NOT_FOUND");
    let p = ann_c.projects().get_project(pb::GetProjectRequest { project_id: id.clone() }).await.unwrap();
    assert_eq!(
        p.into_inner().project.unwrap().data_source_ids,
        vec![orders.resource_id.clone()],
        "nothing else linked"
    );

    // The member sees the linked dataset; a non-member does not.
    assert_eq!(data_sources(&bob_c).await, vec![orders.resource_id.clone()]);
    bob_c.resources().get_resource(get(&orders.resource_id)).await.expect("a member reads a linked data source");
    let listed = bob_c.projects().list_projects(pb::ListProjectsRequest::default()).await.unwrap().into_inner();
    assert_eq!(listed.projects.iter().map(|p| p.project_id.clone()).collect::<Vec<_>>(), vec![id.clone()]);
    assert_eq!(data_sources(&carol_c).await, vec![carols.resource_id.clone()]);
    assert_eq!(data_sources(&ann_c).await, vec![orders.resource_id.clone(), monthly.resource_id.clone()]);
    let everything = data_sources(&admin).await;
    assert_eq!(everything, vec![orders.resource_id.clone(), monthly.resource_id.clone(), carols.resource_id.clone()]);
    let only_p = admin
        .projects()
        .list_data_sources(pb::ListDataSourcesRequest { project_id: id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .data_sources;
    assert_eq!(only_p.len(), 1);

    // Members who do not own the project cannot manage it; admins can.
    assert_status(
        bob_c.projects().add_project_member(member(&id, &carol.id)).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );
    assert_status(
        bob_c.projects().link_data_source(link(&id, &monthly.resource_id)).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );
    assert_status(carol_c.projects().add_project_member(member(&id, &carol.id)).await, Code::NotFound, "NOT_FOUND");
    admin.projects().add_project_member(member(&id, &carol.id)).await.expect("admin manages any project");
    assert_eq!(data_sources(&carol_c).await, vec![orders.resource_id.clone(), carols.resource_id.clone()]);
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_status(ann_c.projects().add_project_member(member(&id, &unknown)).await, Code::NotFound, "NOT_FOUND");

    // Unlinking takes it away again.
    let unlink = pb::UnlinkDataSourceRequest { project_id: id.clone(), resource_id: orders.resource_id.clone() };
    ann_c.projects().unlink_data_source(unlink.clone()).await.unwrap();
    assert!(data_sources(&bob_c).await.is_empty());
    assert_status(bob_c.resources().get_resource(get(&orders.resource_id)).await, Code::NotFound, "NOT_FOUND");
    assert_status(ann_c.projects().unlink_data_source(unlink).await, Code::NotFound, "NOT_FOUND");

    let remove = |user: &str| pb::RemoveProjectMemberRequest { project_id: id.clone(), user_id: user.into() };
    assert_status(
        ann_c.projects().remove_project_member(remove(&ann.id)).await,
        Code::FailedPrecondition,
        "PROJECT_OWNER",
    );
    let p = ann_c.projects().remove_project_member(remove(&bob.id)).await.unwrap().into_inner().project.unwrap();
    assert!(!p.member_ids.contains(&bob.id));
    assert_status(ann_c.projects().remove_project_member(remove(&bob.id)).await, Code::NotFound, "NOT_FOUND");

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
    for a in [
        "project.create",
        "project.add_member",
        "project.remove_member",
        "project.link_data_source",
        "project.unlink_data_source",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
});

on_both_backends!(bad_project_input_is_refused, |backend| async move {
    let srv = TestServer::start(backend).await;
    let svc = registrar(&srv).await;
    let ann = onboard(&srv, "ann").await;
    let ann_c = srv.client(Some(&ann.token)).await;
    assert_status(ann_c.projects().create_project(create("x")).await, Code::InvalidArgument, "INVALID_PROJECT_NAME");
    let long = pb::CreateProjectRequest { description: "d".repeat(1001), ..create("Fine name") };
    assert_status(ann_c.projects().create_project(long).await, Code::InvalidArgument, "TOO_LONG");
    assert_status(svc.projects().create_project(create("Robots")).await, Code::PermissionDenied, "PERMISSION_DENIED");
    let r = ann_c.projects().get_project(pb::GetProjectRequest { project_id: "nope".into() }).await;
    assert_status(r, Code::InvalidArgument, "INVALID_ID");
    let none = ann_c.projects().list_projects(pb::ListProjectsRequest::default()).await.unwrap().into_inner();
    assert!(none.projects.is_empty());

    // A retry with the same request id creates nothing new.
    let once = pb::CreateProjectRequest { request_id: "p-1".into(), ..create("Once") };
    let a = ann_c.projects().create_project(once.clone()).await.unwrap().into_inner().project.unwrap();
    let b = ann_c.projects().create_project(once).await.unwrap().into_inner().project.unwrap();
    assert_eq!(a, b);
});

on_both_backends!(a_project_scoped_key_sees_only_its_projects_data_sources, |backend| async move {
    let srv = TestServer::start(backend).await;
    let svc = registrar(&srv).await;
    let ann = onboard(&srv, "ann").await;
    let bob = onboard(&srv, "bob").await;
    let (ann_c, bob_c) = (srv.client(Some(&ann.token)).await, srv.client(Some(&bob.token)).await);
    let linked = register(&svc, K::Dataset, &ann.id, "Linked").await;
    let bobs_own = register(&svc, K::View, &bob.id, "Bob's view").await;
    let bobs_notebook = register(&svc, K::Notebook, &bob.id, "Bob's notebook").await;
    let p = ann_c.projects().create_project(create("Scoped")).await.unwrap().into_inner().project.unwrap();
    let other = bob_c.projects().create_project(create("Bob's own")).await.unwrap().into_inner().project.unwrap();
    ann_c.projects().add_project_member(member(&p.project_id, &bob.id)).await.unwrap();
    ann_c.projects().link_data_source(link(&p.project_id, &linked.resource_id)).await.unwrap();

    let key = bob_c
        .api_keys()
        .create_api_key(pb::CreateApiKeyRequest {
            name: "notebook runner".into(),
            project_id: p.project_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .secret;
    let scoped = bob_c.with_token(&key);

    // Only the project's data sources exist for the key; bob's own things do not.
    assert_eq!(data_sources(&scoped).await, vec![linked.resource_id.clone()]);
    assert_eq!(data_sources(&bob_c).await, vec![linked.resource_id.clone(), bobs_own.resource_id.clone()]);
    scoped.resources().get_resource(get(&linked.resource_id)).await.expect("a linked data source");
    for hidden in [&bobs_own, &bobs_notebook] {
        let r = scoped.resources().get_resource(get(&hidden.resource_id)).await;
        assert_status(r, Code::NotFound, "NOT_FOUND");
    }
    let projects = scoped.projects().list_projects(pb::ListProjectsRequest::default()).await.unwrap().into_inner();
    assert_eq!(projects.projects.iter().map(|p| p.project_id.clone()).collect::<Vec<_>>(), vec![p.project_id.clone()]);
    let r = scoped.projects().get_project(pb::GetProjectRequest { project_id: other.project_id.clone() }).await;
    assert_status(r, Code::NotFound, "NOT_FOUND");
    // It reads; it changes nothing.
    assert_status(
        scoped.projects().create_project(create("From a key")).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );
    let r = scoped.projects().add_project_member(member(&other.project_id, &ann.id)).await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");

    // Once its owner leaves the project, the key sees nothing at all.
    let remove = pb::RemoveProjectMemberRequest { project_id: p.project_id.clone(), user_id: bob.id.clone() };
    ann_c.projects().remove_project_member(remove).await.unwrap();
    assert!(data_sources(&scoped).await.is_empty());
    assert_status(scoped.resources().get_resource(get(&linked.resource_id)).await, Code::NotFound, "NOT_FOUND");
    assert!(
        scoped
            .projects()
            .list_projects(pb::ListProjectsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .projects
            .is_empty()
    );
});
