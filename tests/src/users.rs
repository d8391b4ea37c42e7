//! UserService: create, get, list, update — rules, errors, and that a refused
//! request changes nothing.

use steward_grpc::pb;
use tonic::Code;

use crate::harness::{Client, TestServer, assert_status, mask, onboard};
use crate::on_both_backends;

fn create(username: &str, email: &str, name: &str) -> pb::CreateUserRequest {
    pb::CreateUserRequest {
        username: username.into(),
        email: email.into(),
        full_name: name.into(),
        request_id: String::new(),
    }
}

async fn count_users(admin: &Client) -> usize {
    let r = admin.users().list_users(pb::ListUsersRequest { page_size: 1000, ..Default::default() }).await.unwrap();
    r.into_inner().users.len()
}

on_both_backends!(create_then_read_back, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let u = admin.users().create_user(create("Ada42", "Ada@Example.com", "  Ada Lovelace ")).await.unwrap();
    let u = u.into_inner().user.unwrap();
    assert_eq!(
        (u.username.as_str(), u.email.as_str(), u.full_name.as_str()),
        ("Ada42", "Ada@Example.com", "Ada Lovelace")
    );
    assert_eq!(u.status, pb::UserStatus::Active as i32);
    assert_eq!(u.kind, pb::UserKind::Human as i32);
    assert_eq!(u.mfa_status, pb::MfaStatus::Disabled as i32);
    assert_eq!(u.default_role, "default");
    assert!(!u.email_notifications);
    assert!(u.create_time.is_some() && !u.etag.is_empty());
    let by_id = admin
        .users()
        .get_user(pb::GetUserRequest { selector: Some(pb::get_user_request::Selector::UserId(u.user_id.clone())) })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(by_id, u);
    let by_name = admin
        .users()
        .get_user(pb::GetUserRequest { selector: Some(pb::get_user_request::Selector::Username("ADA42".into())) })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(by_name.user_id, u.user_id);
    srv.mailbox().wait_for("Ada@Example.com", "Temporary password").await;
});

on_both_backends!(bad_input_gets_field_violations_and_writes_nothing, |backend| async move {
    let srv = TestServer::builder(backend).arg("--allowed-email-domains").arg("example.com,corp.io").start().await;
    let admin = srv.admin().await;
    let before = count_users(&admin).await;
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        ("ab", "a@example.com", "Name", "username", "INVALID_USERNAME"),
        ("a_b_c", "a@example.com", "Name", "username", "INVALID_USERNAME"),
        ("abcdefghijklmnopqrstu", "a@example.com", "Name", "username", "INVALID_USERNAME"),
        ("alice", "not-an-email", "Name", "email", "INVALID_EMAIL"),
        ("alice", "a@b@example.com", "Name", "email", "INVALID_EMAIL"),
        ("alice", "a@example.com\r\nBcc: x@y.z", "Name", "email", "INVALID_EMAIL"),
        ("alice", "alice@elsewhere.org", "Name", "email", "EMAIL_DOMAIN_NOT_ALLOWED"),
        ("alice", "a@example.com", "   ", "full_name", "INVALID_FULL_NAME"),
        ("alice", "a@example.com", &"x".repeat(101), "full_name", "TOO_LONG"),
    ];
    for (username, email, name, field, reason) in cases {
        let r = admin.users().create_user(create(username, email, name)).await;
        let s = assert_status(r, Code::InvalidArgument, reason);
        use tonic_types::StatusExt;
        let fields: Vec<_> =
            s.get_error_details().bad_request().unwrap().field_violations.iter().map(|v| v.field.clone()).collect();
        assert_eq!(fields, vec![field.to_string()], "{username} {email}");
    }
    // Several bad fields at once: one violation each.
    let s = admin.users().create_user(create("x", "nope", "")).await.unwrap_err();
    use tonic_types::StatusExt;
    assert_eq!(s.get_error_details().bad_request().unwrap().field_violations.len(), 3);
    assert_eq!(count_users(&admin).await, before, "nothing was written");
    admin.users().create_user(create("alice", "alice@corp.io", "Alice")).await.expect("allowed domain");
});

on_both_backends!(duplicates_are_refused_ignoring_case, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    admin.users().create_user(create("bob", "bob@example.com", "Bob")).await.unwrap();
    let before = count_users(&admin).await;
    let r = admin.users().create_user(create("BOB", "other@example.com", "Bob Two")).await;
    assert_status(r, Code::AlreadyExists, "USERNAME_TAKEN");
    let r = admin.users().create_user(create("bob2", "BOB@EXAMPLE.COM", "Bob Two")).await;
    assert_status(r, Code::AlreadyExists, "EMAIL_TAKEN");
    assert_eq!(count_users(&admin).await, before);
    // A retried create with the same request id returns the first user.
    let mut req = create("carol", "carol@example.com", "Carol");
    req.request_id = "retry-1".into();
    let a = admin.users().create_user(req.clone()).await.unwrap().into_inner().user.unwrap();
    let b = admin.users().create_user(req).await.unwrap().into_inner().user.unwrap();
    assert_eq!(a.user_id, b.user_id);
    assert_eq!(count_users(&admin).await, before + 1);
});

on_both_backends!(listing_pages_and_filters, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    for i in 0..7 {
        admin
            .users()
            .create_user(create(&format!("user{i}"), &format!("u{i}@example.com"), &format!("User {i}")))
            .await
            .unwrap();
    }
    admin.users().create_user(create("zed", "zed@other.example.com", "Zed Percent%")).await.unwrap();
    // 9 users in all (with the admin), in pages of 4.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = admin
            .users()
            .list_users(pb::ListUsersRequest { page_size: 4, page_token: token.clone(), ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        assert!(page.users.len() <= 4);
        seen.extend(page.users.into_iter().map(|u| u.username));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 9);
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 9, "no user twice: {seen:?}");
    let q = |query: &str| pb::ListUsersRequest { query: query.into(), ..Default::default() };
    let names = |r: pb::ListUsersResponse| r.users.into_iter().map(|u| u.username).collect::<Vec<_>>();
    assert_eq!(names(admin.users().list_users(q("OTHER.example")).await.unwrap().into_inner()), vec!["zed"]);
    assert_eq!(names(admin.users().list_users(q("percent%")).await.unwrap().into_inner()), vec!["zed"]);
    assert!(names(admin.users().list_users(q("%")).await.unwrap().into_inner()) == vec!["zed"], "% is literal");
    let suspended = pb::ListUsersRequest { status: pb::UserStatus::Suspended as i32, ..Default::default() };
    assert!(admin.users().list_users(suspended).await.unwrap().into_inner().users.is_empty());
    let r = admin.users().list_users(pb::ListUsersRequest { page_token: "garbage".into(), ..Default::default() }).await;
    assert_status(r, Code::InvalidArgument, "INVALID_PAGE_TOKEN");
    let big = pb::ListUsersRequest { page_size: 5000, ..Default::default() };
    assert_eq!(admin.users().list_users(big).await.unwrap().into_inner().users.len(), 9, "large sizes are lowered");
});

on_both_backends!(users_update_their_own_profile_but_not_platform_names, |backend| async move {
    let srv = TestServer::start(backend).await;
    let ann = onboard(&srv, "ann").await;
    let me = srv.client(Some(&ann.token)).await;
    // Read once before the change, so the principal cache holds the old record.
    let before = me.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner().user.unwrap();
    assert_eq!(before.position, "");
    let values = pb::User {
        position: "Data Engineer".into(),
        about: "Pipelines\nand coffee".into(),
        location: "Lisbon".into(),
        organization: "Platform".into(),
        phone_number: "+351 21 000 0000".into(),
        email_notifications: true,
        snowflake_username: "ANN_SF".into(),
        ..Default::default()
    };
    let own = ["position", "about", "location", "organization", "phone_number", "email_notifications"];
    let updated = me
        .users()
        .update_user(pb::UpdateUserRequest {
            user_id: String::new(),
            user: Some(values.clone()),
            update_mask: mask(&own),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!((updated.position.as_str(), updated.location.as_str()), ("Data Engineer", "Lisbon"));
    let who = me.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner().user.unwrap();
    assert_eq!(who.position, "Data Engineer", "WhoAmI sees the change at once");
    assert!(updated.email_notifications);
    let secs = |t: &Option<prost_types::Timestamp>| t.map(|t| (t.seconds, t.nanos)).unwrap();
    assert!(secs(&updated.update_time) > secs(&updated.create_time));

    // A platform username in the mask: refused whole, nothing changes.
    let r = me
        .users()
        .update_user(pb::UpdateUserRequest {
            user_id: ann.id.clone(),
            user: Some(pb::User { position: "Changed".into(), ..values.clone() }),
            update_mask: mask(&["position", "snowflake_username"]),
            etag: String::new(),
        })
        .await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
    let now = me.users().get_user(pb::GetUserRequest { selector: None }).await.unwrap().into_inner().user.unwrap();
    assert_eq!((now.position.as_str(), now.snowflake_username.as_str()), ("Data Engineer", ""));

    // The admin may set it.
    let admin = srv.admin().await;
    let set = admin
        .users()
        .update_user(pb::UpdateUserRequest {
            user_id: ann.id.clone(),
            user: Some(values),
            update_mask: mask(&["snowflake_username"]),
            etag: now.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(set.snowflake_username, "ANN_SF");

    // The etag from before the admin's change is stale now.
    let r = me
        .users()
        .update_user(pb::UpdateUserRequest {
            user_id: String::new(),
            user: Some(pb::User { location: "Porto".into(), ..Default::default() }),
            update_mask: mask(&["location"]),
            etag: now.etag,
        })
        .await;
    assert_status(r, Code::Aborted, "ETAG_MISMATCH");

    for (paths, reason) in [
        (vec![], "EMPTY_UPDATE_MASK"),
        (vec!["username"], "UNKNOWN_FIELD"),
        (vec!["phone_number"], "INVALID_PHONE_NUMBER"),
    ] {
        let r = me
            .users()
            .update_user(pb::UpdateUserRequest {
                user_id: String::new(),
                user: Some(pb::User { phone_number: "call me maybe".into(), ..Default::default() }),
                update_mask: mask(&paths),
                etag: String::new(),
            })
            .await;
        assert_status(r, Code::InvalidArgument, reason);
    }
});

on_both_backends!(others_are_private_whether_they_exist_or_not, |backend| async move {
    let srv = TestServer::start(backend).await;
    let ann = onboard(&srv, "ann").await;
    let bob = onboard(&srv, "bob").await;
    let as_ann = srv.client(Some(&ann.token)).await;
    let random = uuid::Uuid::now_v7().to_string();
    for target in [bob.id.clone(), random] {
        let r = as_ann
            .users()
            .get_user(pb::GetUserRequest { selector: Some(pb::get_user_request::Selector::UserId(target.clone())) })
            .await;
        assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
        let r = as_ann
            .users()
            .update_user(pb::UpdateUserRequest {
                user_id: target,
                user: Some(pb::User { position: "x".into(), ..Default::default() }),
                update_mask: mask(&["position"]),
                etag: String::new(),
            })
            .await;
        assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
    }
    let r = as_ann.users().list_users(pb::ListUsersRequest::default()).await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
    let r = as_ann.users().create_user(create("mallory", "m@example.com", "M")).await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
    // Oneself by username works.
    let me = as_ann
        .users()
        .get_user(pb::GetUserRequest { selector: Some(pb::get_user_request::Selector::Username("ANN".into())) })
        .await
        .unwrap();
    assert_eq!(me.into_inner().user.unwrap().user_id, ann.id);
    let admin = srv.admin().await;
    let r = admin
        .users()
        .get_user(pb::GetUserRequest {
            selector: Some(pb::get_user_request::Selector::UserId(uuid::Uuid::now_v7().to_string())),
        })
        .await;
    assert_status(r, Code::NotFound, "NOT_FOUND");
});
