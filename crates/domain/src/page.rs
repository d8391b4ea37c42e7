//! Keyset pagination: opaque page tokens that carry the last key seen, so page
//! 1000 costs what page 1 costs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::error::DomainError;

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 1000;

/// A validated page request: size in 1..=1000 and the key to continue after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub size: u32,
    /// Items strictly after this id (in the listing's order) come next.
    pub after: Option<Uuid>,
}

impl PageRequest {
    /// `page_size` 0 means the default; larger than the maximum is lowered, not
    /// refused (AIP-158). `kind` binds a token to the listing that issued it.
    pub fn parse(page_size: i32, page_token: &str, kind: &str) -> Result<Self, DomainError> {
        if page_size < 0 {
            return Err(DomainError::invalid("page_size", "INVALID_PAGE_SIZE", "must not be negative"));
        }
        let size = match page_size as u32 {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        let after = if page_token.is_empty() { None } else { Some(decode(page_token, kind)?) };
        Ok(Self { size, after })
    }

    pub fn first(size: u32) -> Self {
        Self { size, after: None }
    }
}

/// One page of results and the token for the next (empty when this is the last).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: String,
}

impl<T> Page<T> {
    /// Builds a page from up to `size + 1` rows fetched in order: the extra row
    /// only tells that another page exists.
    pub fn from_rows(mut rows: Vec<T>, req: PageRequest, kind: &str, key: impl Fn(&T) -> Uuid) -> Self {
        let more = rows.len() > req.size as usize;
        rows.truncate(req.size as usize);
        let next_page_token = match (more, rows.last()) {
            (true, Some(last)) => encode(kind, key(last)),
            _ => String::new(),
        };
        Self { items: rows, next_page_token }
    }
}

fn encode(kind: &str, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

fn decode(token: &str, kind: &str) -> Result<Uuid, DomainError> {
    let bad = || DomainError::invalid("page_token", "INVALID_PAGE_TOKEN", "not a page token from this listing");
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    let (k, id) = s.split_once(':').ok_or_else(bad)?;
    if k != kind {
        return Err(bad());
    }
    id.parse().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_tokens() {
        assert_eq!(PageRequest::parse(0, "", "u").unwrap().size, 50);
        assert_eq!(PageRequest::parse(5000, "", "u").unwrap().size, 1000);
        assert!(PageRequest::parse(-1, "", "u").is_err());
        let id = Uuid::now_v7();
        let page = Page::from_rows(vec![id, Uuid::now_v7()], PageRequest::first(1), "u", |x| *x);
        assert_eq!(PageRequest::parse(1, &page.next_page_token, "u").unwrap().after, Some(id));
        assert!(PageRequest::parse(1, &page.next_page_token, "audit").is_err());
        assert!(PageRequest::parse(1, "garbage!", "u").is_err());
        let last = Page::from_rows(vec![id], PageRequest::first(1), "u", |x| *x);
        assert!(last.next_page_token.is_empty());
    }
}
