//! Property tests of the parsers that see untrusted input: whatever the bytes,
//! they never panic, and what they accept meets the rule they promise.

use proptest::prelude::*;
use secrecy::ExposeSecret;
use steward_domain::auth::{IssuedToken, ParsedToken, TokenKind};
use steward_domain::keyring::Keyring;
use steward_domain::page::PageRequest;
use steward_domain::user::{Email, FullName, Username};

proptest! {
    #[test]
    fn usernames(s in "\\PC{0,30}") {
        if let Ok(u) = Username::parse(&s) {
            prop_assert!((3..=20).contains(&u.as_str().len()));
            prop_assert!(u.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
            prop_assert_eq!(u.canonical(), s.to_ascii_lowercase());
        }
    }

    #[test]
    fn valid_usernames_are_accepted(s in "[A-Za-z0-9]{3,20}") {
        prop_assert!(Username::parse(&s).is_ok());
    }

    #[test]
    fn emails(s in "\\PC{0,80}|[a-z.+]{1,70}@[a-z-]{1,10}(\\.[a-z]{1,5}){0,3}") {
        if let Ok(e) = Email::parse(&s) {
            let (local, domain) = e.as_str().split_once('@').unwrap();
            prop_assert!(e.as_str().len() <= 254 && !local.is_empty() && local.len() <= 64);
            prop_assert!(domain.contains('.') && !domain.contains('@'));
            prop_assert!(!e.as_str().chars().any(|c| c.is_whitespace() || c.is_control()));
        }
    }

    #[test]
    fn full_names(s in "\\PC{0,120}|\\s{0,5}") {
        if let Ok(n) = FullName::parse(&s) {
            prop_assert!(!n.as_str().is_empty() && n.as_str().chars().count() <= 100);
            prop_assert_eq!(n.as_str(), n.as_str().trim());
        }
    }

    #[test]
    fn tokens_from_junk_never_parse(s in "\\PC{0,80}") {
        // A random string passes the checksum with negligible probability.
        prop_assert!(ParsedToken::parse(&s).is_none() || s.starts_with("stw_"));
    }

    #[test]
    fn minted_tokens_parse_and_any_one_change_is_refused(pos in 0usize..48, byte in proptest::char::range('0', 'z')) {
        let k = Keyring::from_secret(&[3u8; 32]);
        let t = IssuedToken::mint(TokenKind::ApiKey, &k).unwrap();
        let s = t.secret.expose_secret().to_string();
        prop_assert!(ParsedToken::parse(&s).is_some());
        let pos = pos % s.len();
        let mut changed: Vec<char> = s.chars().collect();
        prop_assume!(changed[pos] != byte);
        changed[pos] = byte;
        let changed: String = changed.into_iter().collect();
        prop_assert!(ParsedToken::parse(&changed).is_none(), "{} accepted", changed);
    }

    #[test]
    fn page_tokens(s in "\\PC{0,60}", size in any::<i32>()) {
        if let Ok(p) = PageRequest::parse(size, &s, "users") {
            prop_assert!((1..=1000).contains(&p.size));
        }
    }
}
