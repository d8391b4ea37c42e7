use std::sync::Arc;
use std::time::Duration;

use steward_mail::{FileTransport, MailConfig, Transport, transport_from_config};
use time::macros::datetime;

use crate::fakes::{FakeClock, keyring, welcome};
use crate::{FROM, from, header, parse};

#[tokio::test]
async fn writes_one_parseable_eml_per_email() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("var/mail");
    let clock = Arc::new(FakeClock::new());
    clock.set(datetime!(2030-05-06 07:08:09 UTC));
    let transport = FileTransport::new(&dir, from()).unwrap().with_clock(clock);
    let keyring = keyring();
    let email = welcome(&keyring, "ada@example.com", "Tmp-Pa55word-xyz").render(&keyring).unwrap();

    transport.send(&email).await.unwrap();

    let path = dir.join(format!("{}.eml", email.id));
    assert_eq!(transport.path_for(email.id), path);
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, [path.file_name().unwrap()], "only the .eml, no temporary file left");
    let raw = std::fs::read(&path).unwrap();
    let mail = parse(&raw);
    assert_eq!(header(&mail, "From"), FROM);
    assert!(header(&mail, "To").contains("<ada@example.com>"));
    assert_eq!(header(&mail, "Subject"), "Your Steward account");
    assert_eq!(header(&mail, "Message-ID"), format!("<{}@steward>", email.id));
    assert_eq!(header(&mail, "Date"), "Mon, 06 May 2030 07:08:09 +0000");
    assert_eq!(mail.ctype.mimetype, "text/plain");
    assert!(mail.get_body().unwrap().contains("Temporary password: Tmp-Pa55word-xyz\r\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "an .eml may hold a temporary password");
    }
}

#[tokio::test]
async fn a_retried_email_overwrites_its_own_file() {
    let tmp = tempfile::tempdir().unwrap();
    let transport = transport_from_config(&MailConfig::Files { dir: tmp.path().to_path_buf() }, FROM).unwrap();
    let keyring = keyring();
    let pending = welcome(&keyring, "ada@example.com", "first");
    transport.send(&pending.render(&keyring).unwrap()).await.unwrap();
    let mut changed = pending.clone();
    changed.subject = "Your Steward account (again)".into();
    transport.send(&changed.render(&keyring).unwrap()).await.unwrap();

    let files: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(files.len(), 1);
    let raw = std::fs::read(tmp.path().join(format!("{}.eml", pending.id))).unwrap();
    assert_eq!(header(&parse(&raw), "Subject"), "Your Steward account (again)");
}

#[tokio::test]
async fn recreates_a_directory_removed_after_startup() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mail");
    let transport = FileTransport::new(&dir, from()).unwrap();
    assert!(dir.is_dir(), "created at startup");
    std::fs::remove_dir(&dir).unwrap();
    let keyring = keyring();
    let email = welcome(&keyring, "ada@example.com", "s").render(&keyring).unwrap();

    transport.send(&email).await.unwrap();
    assert!(transport.path_for(email.id).is_file());
}

#[tokio::test]
async fn many_concurrent_writes_of_the_same_email_leave_one_whole_file() {
    let tmp = tempfile::tempdir().unwrap();
    let transport = Arc::new(FileTransport::new(tmp.path(), from()).unwrap());
    let keyring = keyring();
    let email = Arc::new(welcome(&keyring, "ada@example.com", "s").render(&keyring).unwrap());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (t, e) = (Arc::clone(&transport), Arc::clone(&email));
            tokio::spawn(async move { t.send(&e).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    let files: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(files.len(), 1);
    let raw = std::fs::read(transport.path_for(email.id)).unwrap();
    assert_eq!(header(&parse(&raw), "Message-ID"), format!("<{}@steward>", email.id));
}
