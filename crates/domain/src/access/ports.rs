use async_trait::async_trait;

use super::{AccessRequest, RequestFilter, RequestScope};
use crate::effects::Effects;
use crate::error::StoreError;
use crate::id::AccessRequestId;
use crate::page::PageRequest;

/// Access requests, and the grants an approval writes.
#[async_trait]
pub trait AccessRequestStore: Send + Sync {
    /// `Conflict { key: "pending_request" }` when the requester already has
    /// a pending request for the same target; `NotFound` when the target is
    /// gone.
    async fn insert_access_request(&self, request: &AccessRequest, effects: Effects) -> Result<(), StoreError>;

    async fn get_access_request(&self, id: AccessRequestId) -> Result<Option<AccessRequest>, StoreError>;

    /// Requests in `scope` matching `filter`, newest first (id order,
    /// descending), after `page.after`, at most `page.size`.
    async fn list_access_requests(
        &self,
        scope: RequestScope,
        filter: &RequestFilter,
        page: PageRequest,
    ) -> Result<Vec<AccessRequest>, StoreError>;

    /// Writes `closed` (state no longer pending, version bumped) only if the
    /// stored request is still pending at `expected_version`: else `Stale`.
    /// An approval writes its grant in the same transaction: the requester
    /// becomes a read-only holder of the data source, or a member of the
    /// project, until `closed.granted_until` (a longer grant they already
    /// hold is kept). `NotFound` when the request or its target is gone.
    async fn close_access_request(
        &self,
        closed: &AccessRequest,
        expected_version: i64,
        effects: Effects,
    ) -> Result<(), StoreError>;
}
