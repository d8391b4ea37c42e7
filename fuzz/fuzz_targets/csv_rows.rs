//! The import's row pipeline on arbitrary bytes (the invariants are in
//! steward_domain::import::checks, shared with the corpus replay test).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| steward_domain::import::checks::csv_pipeline(data));
