//! No plaintext secret rests in the database, the outbox included, and none
//! reaches the server's log.

use steward_domain::mfa::totp;
use steward_grpc::pb;

use crate::harness::{Backend, PASSWORD, TestServer};
use crate::on_both_backends;

/// Everything the database holds, as bytes: the SQLite files, or a pg_dump.
fn database_bytes(srv: &TestServer) -> Vec<u8> {
    match &srv.backend {
        Backend::Sqlite => {
            let mut all = Vec::new();
            for suffix in ["", "-wal", "-shm"] {
                if let Ok(b) = std::fs::read(srv.var_dir.path().join(format!("steward.db{suffix}"))) {
                    all.extend(b);
                }
            }
            all
        }
        Backend::Postgres { .. } => {
            let out = std::process::Command::new("pg_dump")
                .arg("--data-only")
                .arg(&srv.database_url)
                .output()
                .expect("run pg_dump");
            assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    contains_bytes(hay, needle.as_bytes())
}

fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

on_both_backends!(no_secret_rests_in_any_table_or_log, |backend| async move {
    let srv = TestServer::builder(backend).arg("--log").arg("debug,sqlx=warn").start().await;
    let admin = srv.admin().await;
    let email = "sec@example.com";
    admin
        .users()
        .create_user(pb::CreateUserRequest {
            username: "sec".into(),
            email: email.into(),
            full_name: "Sec".into(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let temp = srv.mailbox().temporary_password(email).await;
    let anon = srv.client(None).await;
    let first = anon
        .auth()
        .login(pb::LoginRequest { username: "sec".into(), password: temp.clone(), totp_code: String::new() })
        .await
        .unwrap()
        .into_inner();
    anon.with_token(&first.session_token)
        .auth()
        .change_password(pb::ChangePasswordRequest { current_password: temp.clone(), new_password: PASSWORD.into() })
        .await
        .unwrap();
    let second = anon
        .auth()
        .login(pb::LoginRequest { username: "sec".into(), password: PASSWORD.into(), totp_code: String::new() })
        .await
        .unwrap()
        .into_inner();
    // MFA: the TOTP secret is handed out once and rests only sealed.
    let me = anon.with_token(&second.session_token);
    let enrolment = me.auth().enroll_mfa(pb::EnrollMfaRequest {}).await.unwrap().into_inner();
    let totp_secret = totp::base32_decode(&enrolment.secret).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let step = totp::step_at(now);
    let code = totp::code(&totp_secret, step, totp::DIGITS);
    me.auth().confirm_mfa(pb::ConfirmMfaRequest { code }).await.unwrap();
    let code = totp::code(&totp_secret, step + 1, totp::DIGITS);
    anon.auth()
        .login(pb::LoginRequest { username: "sec".into(), password: PASSWORD.into(), totp_code: code })
        .await
        .unwrap();
    // SQL credentials: a generated password and a given one rest only as SCRAM verifiers.
    let sql_generated =
        me.sql().create_sql_credential(pb::CreateSqlCredentialRequest::default()).await.unwrap().into_inner().password;
    assert_eq!(sql_generated.len(), 24);
    let sql_given = "sql passphrase given by the user";
    me.sql().rotate_sql_credential(pb::RotateSqlCredentialRequest { password: sql_given.into() }).await.unwrap();
    // An import: the upload URL (a credential of its own) and the imported
    // user's temporary password.
    let job = crate::imports::create(&admin).await;
    let job_id = job.job.as_ref().unwrap().job_id.clone();
    let put =
        crate::imports::http::put(&job.upload_url, b"username,email,name\nimp,imp@example.com,Imp\n", false).await;
    assert_eq!(put.status, 200, "{}", put.body);
    crate::imports::start(&admin, &job_id, false, None).await;
    crate::imports::finished(&admin, &job_id, std::time::Duration::from_secs(30)).await;
    let imported_temp = srv.mailbox().temporary_password("imp@example.com").await;
    let url_query = job.upload_url.split_once('?').unwrap().1;
    let pick = |k: &str| url_query.split('&').find_map(|p| p.strip_prefix(k)).unwrap().to_string();
    let (url_signature, url_nonce) = (pick("signature="), pick("nonce="));
    // Let the relay send (and wipe) everything queued.
    srv.mailbox().wait_for(email, "was just changed").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let db = database_bytes(&srv);
    assert!(contains(&db, "sec@example.com"), "the scan sees the data at all");
    let log = srv.log();
    for secret in [
        temp.as_str(),
        PASSWORD,
        first.session_token.as_str(),
        second.session_token.as_str(),
        srv.admin_key.as_str(),
        imported_temp.as_str(),
        url_signature.as_str(),
    ] {
        assert!(!contains(&db, secret), "a secret rests in the database");
        assert!(!log.contains(secret), "a secret reached the log");
    }
    assert!(contains(&db, "SCRAM-SHA-256$4096:"), "the scan sees the SQL verifier");
    for secret in [sql_generated.as_str(), sql_given] {
        assert!(!contains(&db, secret), "an SQL password rests in the database");
        assert!(!log.contains(secret), "an SQL password reached the log");
    }
    let hex: String = totp_secret.iter().map(|b| format!("{b:02x}")).collect();
    for secret in [enrolment.secret.clone(), enrolment.secret.to_lowercase(), hex, enrolment.otpauth_uri.clone()] {
        assert!(!contains(&db, &secret), "the TOTP secret rests in the database");
        assert!(!log.contains(&secret), "the TOTP secret reached the log");
    }
    assert!(!contains_bytes(&db, &totp_secret), "the raw TOTP secret rests in the database");
    assert!(!contains_bytes(log.as_bytes(), &totp_secret), "the raw TOTP secret reached the log");
    // The nonce alone opens nothing (the signature does, and it rests
    // nowhere); the job row keeps it until it is spent. It is never logged.
    assert!(!log.contains(&url_nonce), "the upload nonce reached the log");
});
