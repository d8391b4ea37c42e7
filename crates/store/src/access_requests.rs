//! [`AccessRequestStore`]: `access_requests`, and the grant an approval
//! writes into `dataset_readers` or `project_members` (see [`grants`]).

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, QueryResult, Value};
use steward_domain::StoreError;
use steward_domain::access::{
    AccessRequest, AccessRequestStore, Justification, RequestFilter, RequestScope, RequestState, Target,
};
use steward_domain::effects::Effects;
use steward_domain::id::{AccessRequestId, ProjectId, ResourceId, UserId};
use steward_domain::page::PageRequest;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::rows::{corrupt, get};
use crate::sql::{Query, all, exec, one, stmt, time_opt_value, time_value, touched};
use crate::{Store, effects, finish, grants};

const COLUMNS: &str = "ar.id, ar.requester_id, ar.resource_id, ar.project_id, ar.justification, \
     ar.requested_seconds, ar.state, ar.decided_by, ar.decision_reason, ar.granted_until, ar.created_at, \
     ar.updated_at, ar.version";

#[async_trait]
impl AccessRequestStore for Store {
    async fn insert_access_request(&self, r: &AccessRequest, effects: Effects) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            let (resource, project) = target_columns(r.target);
            let s = stmt(
                b,
                "INSERT INTO access_requests (id, requester_id, resource_id, project_id, justification, \
                 requested_seconds, state, decided_by, decision_reason, granted_until, created_at, updated_at, \
                 version) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, '', NULL, $8, $8, $9)",
                vec![
                    r.id.as_uuid().into(),
                    r.requester.as_uuid().into(),
                    resource,
                    project,
                    r.justification.as_str().into(),
                    r.requested_duration.map(|d| d.whole_seconds()).into(),
                    r.state.as_str().into(),
                    time_value(b, r.created_at),
                    r.version.into(),
                ],
            );
            exec(&txn, s).await.map_err(|e| match e {
                StoreError::Conflict { .. } => StoreError::Conflict { key: "pending_request" },
                other => other,
            })?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn get_access_request(&self, id: AccessRequestId) -> Result<Option<AccessRequest>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM access_requests ar WHERE ar.id = $1");
        let row = one(self.connection(), stmt(self.backend(), &sql, vec![id.as_uuid().into()])).await?;
        row.as_ref().map(from_row).transpose()
    }

    async fn list_access_requests(
        &self,
        scope: RequestScope,
        filter: &RequestFilter,
        page: PageRequest,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        let mut q = Query::new(self.backend(), &format!("SELECT {COLUMNS} FROM access_requests ar WHERE 1 = 1"));
        match scope {
            RequestScope::Requester(user) => {
                let u = q.bind(user.as_uuid());
                q.push(&format!(" AND ar.requester_id = {u}"));
            }
            RequestScope::Decider { user, any } => {
                let pending = q.bind(RequestState::Pending.as_str());
                let u = q.bind(user.as_uuid());
                q.push(&format!(" AND ar.state = {pending} AND ar.requester_id <> {u}"));
                if !any {
                    // Whoever owns the target now decides: a transfer of
                    // ownership moves the requests with it.
                    q.push(&format!(
                        " AND (EXISTS (SELECT 1 FROM resources r WHERE r.id = ar.resource_id AND r.owner_id = {u}) \
                         OR EXISTS (SELECT 1 FROM projects p WHERE p.id = ar.project_id AND p.owner_id = {u}))"
                    ));
                }
            }
            RequestScope::Everything => {}
        }
        if let Some(state) = filter.state {
            let s = q.bind(state.as_str());
            q.push(&format!(" AND ar.state = {s}"));
        }
        if let Some(target) = filter.target {
            let col = match target {
                Target::DataSource(_) => "resource_id",
                Target::Project(_) => "project_id",
            };
            let t = q.bind(target.id());
            q.push(&format!(" AND ar.{col} = {t}"));
        }
        if let Some(after) = page.after {
            let a = q.bind(after);
            q.push(&format!(" AND ar.id < {a}"));
        }
        let limit = q.bind(i64::from(page.size));
        q.push(&format!(" ORDER BY ar.id DESC LIMIT {limit}"));
        all(self.connection(), q.build()).await?.iter().map(from_row).collect()
    }

    async fn close_access_request(
        &self,
        closed: &AccessRequest,
        expected_version: i64,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            close(&txn, closed, expected_version).await?;
            if closed.state == RequestState::Approved {
                grant(&txn, closed).await?;
            }
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }
}

/// The conditional state change: only a request still pending at
/// `expected` moves (`Stale` otherwise, `NotFound` if there is none).
async fn close(c: &impl ConnectionTrait, r: &AccessRequest, expected: i64) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let s = stmt(
        b,
        "UPDATE access_requests SET state = $3, decided_by = $4, decision_reason = $5, granted_until = $6, \
         updated_at = $7, version = $8 WHERE id = $1 AND version = $2 AND state = $9",
        vec![
            r.id.as_uuid().into(),
            expected.into(),
            r.state.as_str().into(),
            r.decided_by.map(|u| u.as_uuid()).into(),
            r.decision_reason.as_str().into(),
            time_opt_value(b, r.granted_until),
            time_value(b, r.updated_at),
            r.version.into(),
            RequestState::Pending.as_str().into(),
        ],
    );
    if exec(c, s).await?.rows_affected() == 1 {
        return Ok(());
    }
    let exists = one(c, stmt(b, "SELECT 1 AS x FROM access_requests WHERE id = $1", vec![r.id.as_uuid().into()]))
        .await?
        .is_some();
    Err(if exists { StoreError::Stale } else { StoreError::NotFound })
}

/// The approved access, and the target's version bumped (its readers or
/// members changed).
async fn grant(c: &impl ConnectionTrait, r: &AccessRequest) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let table = match r.target {
        Target::DataSource(resource) => {
            grants::grant_reader(c, resource, r.requester, r.granted_until, r.updated_at).await?;
            "resources"
        }
        Target::Project(project) => {
            grants::grant_member(c, project, r.requester, r.granted_until, r.updated_at).await?;
            "projects"
        }
    };
    let bump = stmt(
        b,
        &format!("UPDATE {table} SET version = version + 1, updated_at = $2 WHERE id = $1"),
        vec![r.target.id().into(), time_value(b, r.updated_at)],
    );
    touched(&exec(c, bump).await?)
}

fn target_columns(target: Target) -> (Value, Value) {
    match target {
        Target::DataSource(r) => (Some(r.as_uuid()).into(), None::<Uuid>.into()),
        Target::Project(p) => (None::<Uuid>.into(), Some(p.as_uuid()).into()),
    }
}

fn from_row(r: &QueryResult) -> Result<AccessRequest, StoreError> {
    let target = match (get::<Option<Uuid>>(r, "resource_id")?, get::<Option<Uuid>>(r, "project_id")?) {
        (Some(resource), None) => Target::DataSource(ResourceId::from_uuid(resource)),
        (None, Some(project)) => Target::Project(ProjectId::from_uuid(project)),
        _ => return Err(corrupt("access_requests target", "exactly one of resource_id, project_id")),
    };
    let state: String = get(r, "state")?;
    Ok(AccessRequest {
        id: AccessRequestId::from_uuid(get(r, "id")?),
        requester: UserId::from_uuid(get(r, "requester_id")?),
        target,
        justification: Justification::from_stored(get(r, "justification")?),
        requested_duration: get::<Option<i64>>(r, "requested_seconds")?.map(Duration::seconds),
        state: RequestState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        decided_by: get::<Option<Uuid>>(r, "decided_by")?.map(UserId::from_uuid),
        decision_reason: get(r, "decision_reason")?,
        granted_until: get::<Option<OffsetDateTime>>(r, "granted_until")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        version: get(r, "version")?,
    })
}
