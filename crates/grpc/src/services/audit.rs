use std::sync::Arc;

use steward_domain::audit::{AuditFilter, AuditService};
use steward_domain::id::UserId;
use steward_domain::page::PageRequest;
use tonic::{Request, Response, Status};

use crate::convert::{IntoStatus, audit_event, ctx};
use crate::pb::{self, audit_service_server::AuditService as Api};

pub struct AuditApi {
    pub audit: Arc<AuditService>,
}

#[tonic::async_trait]
impl Api for AuditApi {
    async fn list_audit_events(
        &self,
        req: Request<pb::ListAuditEventsRequest>,
    ) -> Result<Response<pb::ListAuditEventsResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let page = async {
            let page = PageRequest::parse(r.page_size, &r.page_token, "audit")?;
            let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
            let actor_id = nonempty(&r.actor_id).map(|a| UserId::parse(&a, "actor_id")).transpose()?;
            let filter = AuditFilter { actor_id, target: nonempty(&r.target), action: nonempty(&r.action) };
            self.audit.list(&ctx, filter, page).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ListAuditEventsResponse {
            audit_events: page.items.iter().map(audit_event).collect(),
            next_page_token: page.next_page_token,
        }))
    }
}
