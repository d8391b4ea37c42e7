//! Replays the checked-in fuzz corpus (`fuzz/corpus/`) through the same
//! checks the cargo-fuzz targets run, so every `make test` exercises them.

use std::path::Path;

use steward_domain::import::checks;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        check(&std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n > 0, "an empty corpus in {}", dir.display());
}

#[test]
fn the_csv_corpus_holds() {
    replay("csv_rows", checks::csv_pipeline);
}

#[test]
fn the_upload_url_corpus_holds() {
    replay("upload_url", checks::upload_url);
}

#[test]
fn a_url_this_server_signed_verifies_under_the_checks() {
    use steward_domain::import::{ImportJobId, UploadGrant};
    let keyring = steward_domain::keyring::Keyring::from_secret(&[42u8; 32]);
    let grant = UploadGrant { job: ImportJobId::new(), max_bytes: 10, expires_at: 60, nonce: "n0nce".into() };
    checks::upload_url(grant.path_and_query(&keyring).as_bytes());
}
