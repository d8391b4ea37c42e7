//! The presigned URL verifier on arbitrary paths and queries: never a panic,
//! and nothing verifies that this server did not sign.
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward_domain::import::UploadGrant;
use steward_domain::keyring::Keyring;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (path, query) = text.split_once('?').unwrap_or((text, ""));
    let keyring = Keyring::from_secret(&[42u8; 32]);
    let now = time::OffsetDateTime::UNIX_EPOCH;
    if let Ok(grant) = UploadGrant::verify(&keyring, path, query, now) {
        // Only a URL this keyring signed can verify; signing the grant again
        // gives a URL that verifies to the same grant.
        let url = grant.path_and_query(&keyring);
        let (p, q) = url.split_once('?').unwrap();
        assert_eq!(UploadGrant::verify(&keyring, p, q, now), Ok(grant));
    }
});
