//! Process lifecycle: first start, restart, graceful shutdown.

use std::time::Duration;

use steward_grpc::pb;

use crate::harness::TestServer;
use crate::on_both_backends;

on_both_backends!(sigterm_drains_and_exits_zero, |backend| async move {
    let mut srv = TestServer::builder(backend).arg("--log").arg("info,sqlx=warn").start().await;
    let admin = srv.admin().await;
    admin.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap();
    let status = tokio::task::block_in_place(|| srv.stop_with("TERM", Duration::from_secs(15)));
    let status = status.expect("steward exits within 15 s of SIGTERM");
    assert!(status.success(), "exit status {status:?}");
    assert!(srv.log().contains("NOT_SERVING"), "health turned NOT_SERVING first:\n{}", srv.log());
});

on_both_backends!(bootstrap_key_file_is_private, |backend| async move {
    let srv = TestServer::start(backend).await;
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(srv.var_dir.path().join("bootstrap-admin.key")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let meta = std::fs::metadata(srv.var_dir.path().join("secret.key")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(srv.admin_key.starts_with("stw_key_"));
});
