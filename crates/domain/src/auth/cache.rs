//! A small, bounded memory of recently resolved bearer tokens, so that an
//! authenticated call does not pay a database read for its principal.
//!
//! The promises it keeps:
//! * **A bound.** An entry answers for at most `ttl` after the database read
//!   that produced it (and never past the token's own expiry), so a change made
//!   through another replica is seen within `ttl`. At most `capacity` entries.
//! * **Same-node invalidation.** [`PrincipalCache::forget_all`] empties it; the
//!   transport calls it after every call that may change state (revocation,
//!   logout, role changes, suspension — anything that is not a read), before
//!   the caller sees the answer, so the next call on this node reads again.
//! * **No stale refill.** A lookup that started before a `forget_all` cannot
//!   put its (possibly stale) principal back: entries carry the generation
//!   they were read in, and an insert from an older generation is dropped.
//! * **User records** (WhoAmI, GetUser) are kept beside the principals under
//!   the same bound, generation and invalidation ([`PrincipalCache::read_user`]).
//! * **The token is still checked.** An entry holds the stored digest, not the
//!   token; every hit verifies the presented token against it in constant
//!   time, exactly as the database path does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use time::{Duration, OffsetDateTime};

use super::Principal;
use crate::error::StoreError;
use crate::id::UserId;
use crate::user::User;

/// The most entries kept; past it, expired ones go, then everything.
const DEFAULT_CAPACITY: usize = 10_000;

pub struct PrincipalCache {
    ttl: Duration,
    capacity: usize,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
    users: Mutex<HashMap<UserId, Snapshot>>,
}

#[derive(Clone)]
struct Snapshot {
    user: User,
    valid_until: OffsetDateTime,
    generation: u64,
}

#[derive(Clone)]
struct Entry {
    digest: Vec<u8>,
    principal: Principal,
    valid_until: OffsetDateTime,
    generation: u64,
    /// API keys: when "last used" was last written (at most once a minute).
    last_used_at: Option<OffsetDateTime>,
}

/// A hit: the principal, and for an API key whether "last used" is due.
pub struct Cached {
    pub principal: Principal,
    pub touch_due: bool,
}

/// A token just resolved from the database.
pub struct Fresh<'a> {
    pub lookup: &'a str,
    pub digest: &'a [u8],
    pub principal: &'a Principal,
    /// The token's own expiry.
    pub expires_at: Option<OffsetDateTime>,
    /// API keys: when "last used" was last written.
    pub last_used_at: Option<OffsetDateTime>,
}

/// Where a miss stands: pass it back to [`PrincipalCache::insert`].
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl PrincipalCache {
    /// `ttl` of zero turns the cache off (every call reads the database).
    pub fn new(ttl: Duration) -> Self {
        Self::with_capacity(ttl, DEFAULT_CAPACITY)
    }

    pub fn with_capacity(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
            users: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.ttl > Duration::ZERO && self.capacity > 0
    }

    /// The principal for `lookup` if one is cached, still inside its bound,
    /// and `verify(stored_digest)` accepts the presented token.
    pub fn get(&self, lookup: &str, now: OffsetDateTime, verify: impl Fn(&[u8]) -> bool) -> Option<Cached> {
        if !self.enabled() {
            return None;
        }
        let generation = self.generation.load(Ordering::Acquire);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get_mut(lookup)?;
        if entry.generation != generation || entry.valid_until <= now {
            entries.remove(lookup);
            return None;
        }
        if !verify(&entry.digest) {
            return None;
        }
        let touch_due = match (entry.principal.via, entry.last_used_at) {
            (super::Via::ApiKey(_), last) if last.is_none_or(|t| now - t >= Duration::MINUTE) => {
                entry.last_used_at = Some(now);
                true
            }
            _ => false,
        };
        Some(Cached { principal: entry.principal.clone(), touch_due })
    }

    /// Taken before the database read of a miss.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.generation.load(Ordering::Acquire))
    }

    /// Remembers a principal read from the database under `ticket`, unless
    /// the cache was emptied since.
    pub fn insert(&self, ticket: Ticket, fresh: Fresh<'_>, now: OffsetDateTime) {
        let Fresh { lookup, digest, principal, expires_at, last_used_at } = fresh;
        if !self.enabled() {
            return;
        }
        let bound = now + self.ttl;
        let valid_until = expires_at.map_or(bound, |e| e.min(bound));
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        // Checked under the lock that `forget_all` also takes: no refill
        // from before the last invalidation.
        if self.generation.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        if entries.len() >= self.capacity && !entries.contains_key(lookup) {
            entries.retain(|_, e| e.valid_until > now && e.generation == ticket.0);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        let entry = Entry {
            digest: digest.to_vec(),
            principal: principal.clone(),
            valid_until,
            generation: ticket.0,
            last_used_at,
        };
        entries.insert(lookup.to_owned(), entry);
    }

    /// The caller's record as read in this generation, within the bound.
    pub fn user(&self, id: UserId, now: OffsetDateTime) -> Option<User> {
        if !self.enabled() {
            return None;
        }
        let generation = self.generation.load(Ordering::Acquire);
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users.get(&id).filter(|s| s.generation == generation && s.valid_until > now).map(|s| s.user.clone())
    }

    /// Remembers a user read under `ticket`, unless the cache was emptied since.
    pub fn insert_user(&self, ticket: Ticket, user: &User, now: OffsetDateTime) {
        if !self.enabled() {
            return;
        }
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        if users.len() >= self.capacity && !users.contains_key(&user.id) {
            users.clear();
        }
        users.insert(user.id, Snapshot { user: user.clone(), valid_until: now + self.ttl, generation: ticket.0 });
    }

    /// The user's record from memory when read within the bound (and
    /// nothing changed through this node since), else from `read`, which is
    /// then remembered.
    pub async fn read_user<F>(&self, id: UserId, now: OffsetDateTime, read: F) -> Result<User, StoreError>
    where
        F: Future<Output = Result<User, StoreError>>,
    {
        if let Some(user) = self.user(id, now) {
            return Ok(user);
        }
        let ticket = self.ticket();
        let user = read.await?;
        self.insert_user(ticket, &user, now);
        Ok(user)
    }

    /// Forgets every entry: the next call of every token reads the database.
    pub fn forget_all(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
        users.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::auth::Via;
    use crate::id::{ApiKeyId, SessionId, UserId};
    use crate::role::{PermissionSet, RoleName};
    use crate::user::UserKind;

    const NOW: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);

    fn principal(via: Via) -> Principal {
        Principal {
            user_id: UserId::new(),
            username: "ada".into(),
            kind: UserKind::Human,
            via,
            role: RoleName::default_role(),
            permissions: PermissionSet::none(),
            password_change_required: false,
            project_scope: None,
        }
    }

    fn session() -> Principal {
        principal(Via::Session(SessionId::new()))
    }

    fn cache() -> PrincipalCache {
        PrincipalCache::new(Duration::seconds(1))
    }

    fn fresh<'a>(
        lookup: &'a str,
        principal: &'a Principal,
        expires_at: Option<OffsetDateTime>,
        last_used_at: Option<OffsetDateTime>,
    ) -> Fresh<'a> {
        Fresh { lookup, digest: b"digest", principal, expires_at, last_used_at }
    }

    fn put(c: &PrincipalCache, lookup: &str, p: &Principal, expires: Option<OffsetDateTime>) {
        let t = c.ticket();
        c.insert(t, fresh(lookup, p, expires, None), NOW);
    }

    #[test]
    fn a_hit_needs_the_stored_digest_to_verify() {
        let c = cache();
        put(&c, "L", &session(), None);
        assert!(c.get("L", NOW, |d| d == b"digest").is_some());
        assert!(c.get("L", NOW, |_| false).is_none());
        assert!(c.get("other", NOW, |_| true).is_none());
    }

    #[test]
    fn entries_end_at_the_bound_or_the_token_expiry_whichever_is_first() {
        let c = cache();
        put(&c, "long", &session(), None);
        put(&c, "short", &session(), Some(NOW + Duration::milliseconds(200)));
        assert!(c.get("long", NOW + Duration::milliseconds(999), |_| true).is_some());
        assert!(c.get("long", NOW + Duration::seconds(1), |_| true).is_none());
        assert!(c.get("short", NOW + Duration::milliseconds(199), |_| true).is_some());
        assert!(c.get("short", NOW + Duration::milliseconds(200), |_| true).is_none());
    }

    #[test]
    fn forget_all_empties_it_and_refuses_a_refill_from_before() {
        let c = cache();
        put(&c, "L", &session(), None);
        let before = c.ticket();
        c.forget_all();
        assert!(c.get("L", NOW, |_| true).is_none());
        c.insert(before, fresh("L", &session(), None, None), NOW);
        assert!(c.get("L", NOW, |_| true).is_none(), "a read from before the invalidation is not kept");
        put(&c, "L", &session(), None);
        assert!(c.get("L", NOW, |_| true).is_some());
    }

    #[test]
    fn zero_ttl_is_off() {
        let c = PrincipalCache::new(Duration::ZERO);
        put(&c, "L", &session(), None);
        assert!(c.get("L", NOW, |_| true).is_none());
        assert!(c.is_empty());
    }

    #[test]
    fn capacity_is_a_hard_bound() {
        let c = PrincipalCache::with_capacity(Duration::seconds(1), 3);
        for i in 0..10 {
            put(&c, &format!("L{i}"), &session(), None);
            assert!(c.len() <= 3);
        }
        assert!(c.get("L9", NOW, |_| true).is_some());
    }

    #[test]
    fn an_api_key_hit_asks_for_last_used_at_most_once_a_minute() {
        let c = cache();
        let key = principal(Via::ApiKey(ApiKeyId::new()));
        let t = c.ticket();
        c.insert(t, fresh("K", &key, None, Some(NOW - Duration::seconds(30))), NOW);
        assert!(!c.get("K", NOW, |_| true).unwrap().touch_due);
        let t = c.ticket();
        c.insert(t, fresh("K", &key, None, Some(NOW - Duration::minutes(2))), NOW);
        assert!(c.get("K", NOW, |_| true).unwrap().touch_due);
        assert!(!c.get("K", NOW, |_| true).unwrap().touch_due, "written once, not on every hit");
        put(&c, "S", &session(), None);
        assert!(!c.get("S", NOW, |_| true).unwrap().touch_due);
    }
}
