//! The authorization matrix: every RPC × every kind of caller, with the
//! outcome each must get, run against a real server on SQLite and PostgreSQL.
//!
//! The table is in `table.rs`, one row per RPC. Adding an RPC means adding a
//! row there; `every_rpc_has_a_row` fails until you do.

mod cast;
mod table;

use tonic::Code;

use crate::harness::raw::{all_rpcs, call_bytes};
use crate::harness::{TestServer, reason};
use crate::on_both_backends;
use cast::{Cast, PRINCIPALS};
use table::{Outcome, ROWS};

/// What a call's status says about authorization.
fn observed(r: &Result<(), tonic::Status>) -> Outcome {
    match r {
        Ok(()) => Outcome::Allow,
        Err(s) if s.code() == Code::Unauthenticated => Outcome::Unauth,
        Err(s) if s.code() == Code::PermissionDenied => Outcome::Deny,
        Err(s) if s.code() == Code::FailedPrecondition && reason(s) == "PASSWORD_CHANGE_REQUIRED" => Outcome::ChangePw,
        // Reached the use case and was allowed; the dummy request may be
        // invalid, point at nothing, or meet a state precondition.
        Err(_) => Outcome::Allow,
    }
}

#[test]
fn every_rpc_has_a_row() {
    let rpcs = all_rpcs();
    let missing: Vec<_> = rpcs.iter().filter(|r| !ROWS.iter().any(|row| row.rpc == r.as_str())).collect();
    assert!(missing.is_empty(), "RPCs missing from the authorization matrix: {missing:?}");
    let stale: Vec<_> = ROWS.iter().filter(|row| !rpcs.iter().any(|r| r == row.rpc)).map(|r| r.rpc).collect();
    assert!(stale.is_empty(), "matrix rows for RPCs that do not exist: {stale:?}");
}

on_both_backends!(every_rpc_for_every_principal, |backend| async move {
    let srv = TestServer::start(backend).await;
    let cast = Cast::assemble(&srv).await;
    let channel = srv.admin().await.channel;
    let mut failures = Vec::new();
    let mut cells = 0;
    // Rows that end sessions run last, so they do not disturb the others.
    let mut rows: Vec<_> = ROWS.iter().collect();
    rows.sort_by_key(|r| r.ends_session);
    for row in rows {
        for (i, principal) in PRINCIPALS.iter().enumerate() {
            let token = cast.token(*principal);
            let body = (row.request)(&cast.targets);
            let got = observed(&call_bytes(&channel, row.rpc, body, token.as_deref()).await);
            cells += 1;
            if got != row.expect[i] {
                failures.push(format!("{} as {principal:?}: expected {:?}, got {got:?}", row.rpc, row.expect[i]));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {cells} cells differ:\n{}", failures.len(), failures.join("\n"));
    eprintln!("authorization matrix: {} RPCs x {} principals = {cells} cells", ROWS.len(), PRINCIPALS.len());
});

on_both_backends!(authorization_comes_before_existence, |backend| async move {
    let srv = TestServer::start(backend).await;
    let cast = Cast::assemble(&srv).await;
    let channel = srv.admin().await.channel;
    let random = cast::Targets::random();
    for row in ROWS.iter().filter(|r| r.targets_a_user) {
        for (i, principal) in PRINCIPALS.iter().enumerate() {
            if row.expect[i] != Outcome::Deny {
                continue;
            }
            let token = cast.token(*principal);
            let real = call_bytes(&channel, row.rpc, (row.request)(&cast.targets), token.as_deref()).await;
            let fake = call_bytes(&channel, row.rpc, (row.request)(&random), token.as_deref()).await;
            let key = |r: &Result<(), tonic::Status>| {
                r.as_ref().err().map(|s| (s.code(), reason(s), s.message().to_string()))
            };
            assert_eq!(key(&real), key(&fake), "{} as {principal:?}: a real id and a random one answer alike", row.rpc);
        }
    }
});
