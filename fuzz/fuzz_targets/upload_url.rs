//! The presigned URL verifier on arbitrary paths and queries (the invariants
//! are in steward_domain::import::checks, shared with the corpus replay test).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| steward_domain::import::checks::upload_url(data));
