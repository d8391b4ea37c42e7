use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::{ProjectId, UserId};
use steward_domain::ownership::{ResourceKind, Visibility};
use steward_domain::page::PageRequest;
use steward_domain::ports::ProjectStore;
use time::Duration;

use crate::resources::{create_project, project, register};
use crate::support::{NOW, audit, count, each_backend, insert};

#[tokio::test]
async fn create_read_and_unique_names() {
    each_backend(|store, _| async move {
        let ann = insert(&store, "ann").await;
        let p = project("Sales Q4", ann.id);
        store.insert_project(&p, Some("ann:1"), Effects::audit(audit(ann.id, "project.create"))).await.unwrap();
        assert_eq!(store.get_project(p.id, &Visibility::Everything).await.unwrap(), Some(p.clone()));
        assert_eq!(store.find_project_by_request_id("ann:1").await.unwrap(), Some(p.clone()));
        assert_eq!(store.get_project(ProjectId::new(), &Visibility::Everything).await.unwrap(), None);

        let r = store.insert_project(&project("SALES q4", ann.id), None, Effects::audit(audit(ann.id, "x"))).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "project_name" })), "{r:?}");
        let r = store.insert_project(&project("Other", ann.id), Some("ann:1"), Effects::default()).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "request_id" })), "{r:?}");
        let r = store.insert_project(&project("Orphan", UserId::new()), None, Effects::default()).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        assert_eq!((count(&store, "projects").await, count(&store, "project_members").await), (1, 1));
        assert_eq!(count(&store, "audit_events").await, 1);
    })
    .await;
}

#[tokio::test]
async fn members_and_links_bump_the_version() {
    each_backend(|store, _| async move {
        let ann = insert(&store, "ann").await;
        let bob = insert(&store, "bob").await;
        let p = create_project(&store, "Churn", ann.id).await;
        let ds = register(&store, ResourceKind::Dataset, Some(ann.id), "Customers").await;
        let later = NOW + Duration::minutes(5);

        store
            .add_project_member(p.id, bob.id, later, Effects::audit(audit(ann.id, "project.add_member")))
            .await
            .unwrap();
        let r = store.add_project_member(p.id, bob.id, later, Effects::audit(audit(ann.id, "x"))).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "member" })), "{r:?}");
        let r = store.add_project_member(p.id, UserId::new(), later, Effects::default()).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        let r = store.add_project_member(ProjectId::new(), bob.id, later, Effects::default()).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        store.link_data_source(p.id, ds.id, later, Effects::default()).await.unwrap();
        let r = store.link_data_source(p.id, ds.id, later, Effects::default()).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "link" })), "{r:?}");

        let got = store.get_project(p.id, &Visibility::Everything).await.unwrap().unwrap();
        let mut members = vec![ann.id, bob.id];
        members.sort();
        assert_eq!((got.members, got.data_sources, got.version, got.updated_at), (members, vec![ds.id], 3, later));
        assert_eq!(count(&store, "audit_events").await, 1);

        store.unlink_data_source(p.id, ds.id, later, Effects::default()).await.unwrap();
        assert!(matches!(
            store.unlink_data_source(p.id, ds.id, later, Effects::default()).await,
            Err(StoreError::NotFound)
        ));
        store.remove_project_member(p.id, bob.id, later, Effects::default()).await.unwrap();
        assert!(matches!(
            store.remove_project_member(p.id, bob.id, later, Effects::default()).await,
            Err(StoreError::NotFound)
        ));
        let got = store.get_project(p.id, &Visibility::Everything).await.unwrap().unwrap();
        assert_eq!((got.members, got.data_sources.len(), got.version), (vec![ann.id], 0, 5));
    })
    .await;
}

#[tokio::test]
async fn members_see_their_projects_in_pages() {
    each_backend(|store, _| async move {
        let ann = insert(&store, "ann").await;
        let bob = insert(&store, "bob").await;
        let mut anns = Vec::new();
        for i in 0..5 {
            anns.push(create_project(&store, &format!("ann {i}"), ann.id).await.id);
        }
        let bobs = create_project(&store, "bob's", bob.id).await;
        store.add_project_member(bobs.id, ann.id, NOW, Effects::default()).await.unwrap();
        anns.push(bobs.id);

        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store.list_projects(&Visibility::User(ann.id), PageRequest { size: 2, after }).await.unwrap();
            if page.is_empty() {
                break;
            }
            after = Some(page.last().unwrap().id.as_uuid());
            seen.extend(page.into_iter().map(|p| p.id));
        }
        assert_eq!(seen, anns);
        let bob_sees: Vec<_> = store
            .list_projects(&Visibility::User(bob.id), PageRequest::first(10))
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(bob_sees, vec![bobs.id]);
        assert_eq!(store.get_project(anns[0], &Visibility::User(bob.id)).await.unwrap(), None);
        assert_eq!(store.list_projects(&Visibility::Everything, PageRequest::first(10)).await.unwrap().len(), 6);

        let scoped = Visibility::Project { project: bobs.id, member: ann.id };
        let got = store.list_projects(&scoped, PageRequest::first(10)).await.unwrap();
        assert_eq!(got.into_iter().map(|p| p.id).collect::<Vec<_>>(), vec![bobs.id]);
        assert_eq!(store.get_project(anns[0], &scoped).await.unwrap(), None);
        store.remove_project_member(bobs.id, ann.id, NOW, Effects::default()).await.unwrap();
        assert_eq!(store.get_project(bobs.id, &scoped).await.unwrap(), None);
    })
    .await;
}
