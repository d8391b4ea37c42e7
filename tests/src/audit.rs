//! The audit trail: one event per change, listable by admins only.

use steward_grpc::pb;
use tonic::Code;

use crate::harness::{TestServer, assert_status, mask, onboard};
use crate::on_both_backends;

on_both_backends!(every_change_is_an_event, |backend| async move {
    let srv = TestServer::start(backend).await;
    let ann = onboard(&srv, "ann").await;
    let me = srv.client(Some(&ann.token)).await;
    let mut req = tonic::Request::new(pb::UpdateUserRequest {
        user_id: String::new(),
        user: Some(pb::User { position: "Analyst".into(), ..Default::default() }),
        update_mask: mask(&["position"]),
        etag: String::new(),
    });
    req.metadata_mut().insert("x-request-id", "req-audit-1".parse().unwrap());
    me.users().update_user(req).await.unwrap();

    let admin = srv.admin().await;
    let list = |f: pb::ListAuditEventsRequest| {
        let admin = admin.clone();
        async move { admin.audit().list_audit_events(f).await.unwrap().into_inner().audit_events }
    };
    let target = format!("user/{}", ann.id);
    let events = list(pb::ListAuditEventsRequest { target: target.clone(), ..Default::default() }).await;
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    // Newest first.
    assert_eq!(actions, vec!["user.update", "auth.password_change", "auth.login", "user.create"]);
    let update = &events[0];
    assert_eq!((update.actor.as_str(), update.actor_id.as_str()), ("ann", ann.id.as_str()));
    assert_eq!(update.request_id, "req-audit-1");
    assert_eq!(update.detail, "fields=position");
    let create = &events[3];
    assert_eq!(create.actor, "admin");

    let by_action = list(pb::ListAuditEventsRequest { action: "user.create".into(), ..Default::default() }).await;
    assert_eq!(by_action.len(), 1);
    let by_actor = list(pb::ListAuditEventsRequest { actor_id: ann.id.clone(), ..Default::default() }).await;
    assert!(by_actor.iter().all(|e| e.actor_id == ann.id) && by_actor.len() == 3);
    let bootstrap =
        list(pb::ListAuditEventsRequest { action: "user.bootstrap_admin".into(), ..Default::default() }).await;
    assert_eq!(bootstrap[0].actor, "system");

    // Paging walks every event once.
    let all = list(pb::ListAuditEventsRequest { page_size: 1000, ..Default::default() }).await;
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let r = admin
            .audit()
            .list_audit_events(pb::ListAuditEventsRequest { page_size: 2, page_token: token, ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        paged.extend(r.audit_events);
        if r.next_page_token.is_empty() {
            break;
        }
        token = r.next_page_token;
    }
    assert_eq!(paged, all);

    let r = me.audit().list_audit_events(pb::ListAuditEventsRequest::default()).await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
    let r = admin
        .audit()
        .list_audit_events(pb::ListAuditEventsRequest { actor_id: "nope".into(), ..Default::default() })
        .await;
    assert_status(r, Code::InvalidArgument, "INVALID_ID");
});
