//! Import jobs in the store: batches commit with their checkpoint or not at
//! all, duplicates are told apart from taken names, and a job goes to one
//! worker at a time — taken over only when its worker has gone silent.

use std::sync::Arc;

use steward_domain::StoreError;
use steward_domain::audit::{AuditEvent, user_target};
use steward_domain::effects::Effects;
use steward_domain::import::{
    Checkpoint, ImportBatch, ImportJobId, ImportOptions, ImportStore, ImportedUser, JobEnd, JobState, NewImportJob,
};
use steward_domain::notify::OutboxEmail;
use steward_domain::ownership::{ResourceKind, Visibility};
use steward_domain::page::PageRequest;
use steward_domain::ports::{GroupStore, UserStore};
use steward_store::{Failpoint, Store};
use time::Duration;

use crate::support::{NOW, count, each_backend, email, insert, new_user, personal_group, user};

/// A job, uploaded and started, owned by `initiator`.
async fn started(store: &Store, initiator: steward_domain::id::UserId, options: ImportOptions) -> ImportJobId {
    let id = ImportJobId::new();
    let job = NewImportJob {
        id,
        initiator,
        max_bytes: 1000,
        upload_nonce: "nonce".into(),
        upload_expires_at: NOW + Duration::minutes(15),
        created_at: NOW,
    };
    store.insert_job(job, Effects::default()).await.unwrap();
    store.finish_upload(id, "imports/x", 10, NOW, Effects::default()).await.unwrap();
    store.start_job(id, options, NOW, Effects::default()).await.unwrap();
    id
}

fn row(name: &str, email_name: &str, line: u64) -> ImportedUser {
    let mut u = user(name);
    u.email = steward_domain::user::Email::parse(&format!("{email_name}@example.com")).unwrap();
    let audit = AuditEvent::by_system(NOW, "user.create", user_target(u.id), "import");
    let welcome = OutboxEmail { to_address: u.email.to_string(), ..email("x@example.com") };
    ImportedUser { line, new: new_user(u), audit, welcome }
}

fn batch(job: ImportJobId, worker: &str, users: Vec<ImportedUser>, end: u64) -> ImportBatch {
    ImportBatch {
        job,
        worker: worker.into(),
        validate_only: false,
        rows_read: users.len() as u64,
        users,
        errors: vec![],
        rows_failed: 0,
        checkpoint: Checkpoint { offset: end, line: end },
        columns: Some("username,email,name".into()),
        now: NOW,
    }
}

async fn reasons(store: &Store, job: ImportJobId) -> Vec<(u64, String, String)> {
    let errors = store.list_errors(job, PageRequest::first(100)).await.unwrap();
    errors.into_iter().map(|(_, e)| (e.line, e.column, e.reason)).collect()
}

#[tokio::test]
async fn batches_create_users_and_tell_duplicates_from_taken_names() {
    each_backend(|store, _| async move {
        let admin = insert(&store, "admin").await;
        insert(&store, "taken").await;
        let job = started(&store, admin.id, ImportOptions::default()).await;
        let claimed = store.claim_job("w1", NOW, Duration::seconds(10)).await.unwrap().unwrap();
        assert_eq!((claimed.id, claimed.state), (job, JobState::Running));

        let out =
            store.commit_batch(batch(job, "w1", vec![row("ann", "ann", 2), row("bob", "bob", 3)], 30)).await.unwrap();
        assert_eq!((out.created, out.failed), (2, 0));
        assert_eq!(out.job.checkpoint, Checkpoint { offset: 30, line: 30 });
        assert_eq!(out.job.columns.as_deref(), Some("username,email,name"));
        // Next batch: a duplicate of line 2, an email of line 3, an existing user.
        let b = batch(
            job,
            "w1",
            vec![row("ANN", "ann9", 4), row("cat", "bob", 5), row("taken", "t2", 6), row("dan", "dan", 7)],
            60,
        );
        let out = store.commit_batch(b).await.unwrap();
        assert_eq!((out.created, out.failed), (1, 3));
        assert_eq!(
            (out.job.counters.rows_read, out.job.counters.rows_created, out.job.counters.rows_failed),
            (6, 3, 3)
        );
        assert_eq!(
            reasons(&store, job).await,
            [
                (4, "username".into(), "DUPLICATE_USERNAME".into()),
                (5, "email".into(), "DUPLICATE_EMAIL".into()),
                (6, "username".into(), "USERNAME_TAKEN".into()),
            ]
        );
        // Created users come with their credentials, personal groups, audit
        // events and welcome emails.
        assert_eq!(count(&store, "users").await, 2 + 3);
        assert_eq!(count(&store, "credentials").await, 2 + 3);
        for table in ["groups", "group_members"] {
            assert_eq!(count(&store, table).await, 2 + 3, "{table}");
        }
        for name in ["ann", "bob", "dan"] {
            let u = store.find_user_by_username(name).await.unwrap().unwrap();
            let g = personal_group(&store, u.id).await;
            assert_eq!((g.kind, g.display_name.as_str(), g.owner), (ResourceKind::Group, name, Some(u.id)));
            let group = store.get_group(g.id, &Visibility::Everything).await.unwrap().unwrap();
            assert_eq!((group.personal_of, group.members, group.active), (Some(u.id), vec![u.id], true));
        }
        assert_eq!(count(&store, "outbox").await, 3);
        assert_eq!(count(&store, "audit_events").await, 3);
    })
    .await;
}

#[tokio::test]
async fn a_failure_inside_a_batch_leaves_nothing_and_the_batch_can_be_retried() {
    each_backend(|store, _| async move {
        let admin = insert(&store, "admin").await;
        let job = started(&store, admin.id, ImportOptions::default()).await;
        store.claim_job("w1", NOW, Duration::seconds(10)).await.unwrap();
        for step in ["import.users", "import.credentials", "import.groups", "import.effects", "import.errors"] {
            let fail: Failpoint = Arc::new(move |at| {
                Box::pin(async move {
                    if at == step { Err(StoreError::Internal(format!("injected after {at}"))) } else { Ok(()) }
                })
            });
            let failing = store.clone().with_failpoint(fail);
            let e = failing.commit_batch(batch(job, "w1", vec![row("ann", "ann", 2)], 20)).await.unwrap_err();
            assert!(matches!(e, StoreError::Internal(ref m) if m.contains(step)), "{step}: {e}");
            assert_eq!(count(&store, "users").await, 1, "{step}");
            assert_eq!((count(&store, "outbox").await, count(&store, "credentials").await), (0, 1), "{step}");
            assert_eq!((count(&store, "groups").await, count(&store, "group_members").await), (1, 1), "{step}");
            assert_eq!(store.get_job(job).await.unwrap().checkpoint, Checkpoint::default(), "{step}");
        }
        let out = store.commit_batch(batch(job, "w1", vec![row("ann", "ann", 2)], 20)).await.unwrap();
        assert_eq!(out.created, 1);
    })
    .await;
}

#[tokio::test]
async fn one_worker_holds_a_job_until_it_goes_silent() {
    each_backend(|store, _| async move {
        let admin = insert(&store, "admin").await;
        let job = started(&store, admin.id, ImportOptions::default()).await;
        let lease = Duration::seconds(10);
        // Many workers ask at once: exactly one gets the job.
        let claims = futures::future::join_all((0..8).map(|i| {
            let store = store.clone();
            async move { store.claim_job(&format!("w{i}"), NOW, lease).await.unwrap() }
        }))
        .await;
        let winners: Vec<_> =
            claims.iter().enumerate().filter(|(_, c)| c.is_some()).map(|(i, _)| format!("w{i}")).collect();
        assert_eq!(winners.len(), 1, "{claims:?}");
        let holder = winners[0].clone();
        assert!(
            store.claim_job("late", NOW + Duration::seconds(5), lease).await.unwrap().is_none(),
            "still within the lease"
        );

        // The holder goes silent; another worker takes over; the old one's
        // next batch is refused and writes nothing.
        let later = NOW + Duration::seconds(11);
        let taken = store.claim_job("rescuer", later, lease).await.unwrap().unwrap();
        assert_eq!(taken.id, job);
        let e = store.commit_batch(batch(job, &holder, vec![row("ann", "ann", 2)], 20)).await.unwrap_err();
        assert!(matches!(e, StoreError::Refused { reason: "JOB_LOST" }), "{e}");
        assert!(matches!(store.heartbeat(job, &holder, later).await, Err(StoreError::Refused { reason: "JOB_LOST" })));
        assert_eq!(count(&store, "users").await, 1);
        store.commit_batch(batch(job, "rescuer", vec![row("ann", "ann", 2)], 20)).await.unwrap();

        // Released at shutdown: back in the queue at its checkpoint.
        store.release_job(job, "rescuer", later).await.unwrap();
        let again = store.claim_job("next", later, lease).await.unwrap().unwrap();
        assert_eq!(again.checkpoint.offset, 20);

        // A cancel wins over the batch in flight; the job then ends for good.
        store.cancel_job(job, later, Effects::default()).await.unwrap();
        let e = store.commit_batch(batch(job, "next", vec![row("bob", "bob", 3)], 40)).await.unwrap_err();
        assert!(matches!(e, StoreError::Refused { reason: "JOB_LOST" }));
        let end = JobEnd { state: JobState::Succeeded, reason: None, errors: vec![], now: later };
        assert!(store.finish_job(job, "next", end, Effects::default()).await.is_err());
        assert_eq!(store.get_job(job).await.unwrap().state, JobState::Cancelled);
        assert!(matches!(
            store.cancel_job(job, later, Effects::default()).await,
            Err(StoreError::Refused { reason: "JOB_FINISHED" })
        ));
    })
    .await;
}

#[tokio::test]
async fn a_validation_run_finds_the_same_problems_and_writes_no_user() {
    each_backend(|store, _| async move {
        let admin = insert(&store, "admin").await;
        let job = started(&store, admin.id, ImportOptions { validate_only: true, failure_threshold: None }).await;
        store.claim_job("w", NOW, Duration::seconds(10)).await.unwrap();
        let mut b = batch(job, "w", vec![row("ann", "ann", 2), row("admin", "a2", 3)], 20);
        b.validate_only = true;
        let out = store.commit_batch(b).await.unwrap();
        assert_eq!((out.created, out.failed), (0, 1));
        let mut b = batch(job, "w", vec![row("Ann", "x", 4)], 30);
        b.validate_only = true;
        assert_eq!(store.commit_batch(b).await.unwrap().failed, 1);
        assert_eq!(
            reasons(&store, job).await,
            [(3, "username".into(), "USERNAME_TAKEN".into()), (4, "username".into(), "DUPLICATE_USERNAME".into())]
        );
        assert_eq!((count(&store, "users").await, count(&store, "outbox").await), (1, 0));
        let end = JobEnd { state: JobState::Succeeded, reason: None, errors: vec![], now: NOW };
        store.finish_job(job, "w", end, Effects::default()).await.unwrap();
        assert_eq!(count(&store, "import_keys").await, 0, "the keys go with the job's end");
    })
    .await;
}

#[tokio::test]
async fn a_presigned_nonce_is_spent_once() {
    each_backend(|store, _| async move {
        let admin = insert(&store, "admin").await;
        let id = ImportJobId::new();
        let job = NewImportJob {
            id,
            initiator: admin.id,
            max_bytes: 1000,
            upload_nonce: "n1".into(),
            upload_expires_at: NOW + Duration::minutes(15),
            created_at: NOW,
        };
        store.insert_job(job, Effects::default()).await.unwrap();
        assert!(matches!(
            store.spend_upload_nonce(id, "other").await,
            Err(StoreError::Refused { reason: "URL_ALREADY_USED" })
        ));
        store.spend_upload_nonce(id, "n1").await.unwrap();
        assert!(matches!(
            store.spend_upload_nonce(id, "n1").await,
            Err(StoreError::Refused { reason: "URL_ALREADY_USED" })
        ));
        assert!(matches!(store.spend_upload_nonce(ImportJobId::new(), "n1").await, Err(StoreError::NotFound)));
    })
    .await;
}
