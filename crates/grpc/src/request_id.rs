//! The request id that ties a call's log lines and audit events together:
//! the caller's `x-request-id` when it is sane, else a fresh one.

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub const HEADER: &str = "x-request-id";

pub fn from_header(value: Option<&str>) -> RequestId {
    let ok = |s: &&str| {
        !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    };
    RequestId(value.filter(ok).map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string))
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_sane_ids_and_replaces_others() {
        assert_eq!(super::from_header(Some("abc-123")).0, "abc-123");
        assert_ne!(super::from_header(Some("bad id\n")).0, "bad id\n");
        assert_eq!(super::from_header(None).0.len(), 36);
    }
}
