use steward_domain::StoreError;
use steward_domain::ports::UserStore;
use steward_store::Store;
use uuid::Uuid;

#[tokio::test]
async fn sqlite_file_and_parent_directory_are_created() {
    let dir = std::env::temp_dir().join(format!("steward-store-test-{}", Uuid::new_v4().simple()));
    let url = format!("sqlite://{}/var/steward.db?mode=rwc", dir.display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap(); // idempotent
    assert_eq!(store.count_users().await.unwrap(), 0);
    assert!(dir.join("var/steward.db").exists());
    assert!(!format!("{store:?}").contains(&dir.display().to_string()));
    store.close().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn unreachable_database_is_unavailable() {
    let r = Store::connect("postgres://postgres:secret@127.0.0.1:1/postgres").await;
    match r {
        Err(StoreError::Unavailable(msg)) => assert!(!msg.contains("secret"), "{msg}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}
