//! Inconsistency reports and repairs over gRPC: per user against a private
//! PostgreSQL query engine ([`parity`]), and for all users as jobs ([`jobs`]).

mod jobs;
mod parity;

use steward_grpc::pb;

use crate::harness::Client;

/// The kinds of the user's report, in the report's order.
pub async fn report(admin: &Client, user: &str) -> Vec<(String, String)> {
    let req = pb::GenerateUserReportRequest { user_id: user.into() };
    let r = admin.maintenance().generate_user_report(req).await.expect("report").into_inner();
    r.findings.into_iter().map(|f| (f.kind, f.target)).collect()
}

pub async fn repair(admin: &Client, user: &str, dry_run: bool) -> Vec<pb::RepairAction> {
    let req = pb::RepairUserRequest { user_id: user.into(), dry_run };
    admin.maintenance().repair_user(req).await.expect("repair").into_inner().actions
}

pub fn outcomes(actions: &[pb::RepairAction]) -> Vec<(String, pb::RepairOutcome)> {
    actions
        .iter()
        .map(|a| (a.finding.as_ref().unwrap().kind.clone(), pb::RepairOutcome::try_from(a.outcome).unwrap()))
        .collect()
}

pub async fn audit_count(admin: &Client, action: &str) -> usize {
    let req = pb::ListAuditEventsRequest { action: action.into(), page_size: 1000, ..Default::default() };
    admin.audit().list_audit_events(req).await.expect("audit").into_inner().audit_events.len()
}
