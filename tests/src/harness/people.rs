//! Shortcuts for tests that need a user who can log in.

use steward_grpc::pb;

use super::TestServer;

pub const PASSWORD: &str = "a long enough passphrase";

/// A created user and their session token (password already changed).
pub struct Person {
    pub id: String,
    pub username: String,
    pub email: String,
    pub token: String,
}

/// Creates `username` as the admin, logs in with the emailed temporary
/// password and sets [`PASSWORD`].
pub async fn onboard(srv: &TestServer, username: &str) -> Person {
    let admin = srv.admin().await;
    let email = format!("{}@example.com", username.to_lowercase());
    let user = admin
        .users()
        .create_user(pb::CreateUserRequest {
            username: username.into(),
            email: email.clone(),
            full_name: format!("{username} Tester"),
            request_id: String::new(),
        })
        .await
        .expect("create user")
        .into_inner()
        .user
        .unwrap();
    let temp = srv.mailbox().temporary_password(&email).await;
    let anon = srv.client(None).await;
    let login = anon
        .auth()
        .login(pb::LoginRequest { username: username.into(), password: temp.clone(), totp_code: String::new() })
        .await
        .expect("login with temporary password")
        .into_inner();
    let me = anon.with_token(&login.session_token);
    me.auth()
        .change_password(pb::ChangePasswordRequest { current_password: temp, new_password: PASSWORD.into() })
        .await
        .expect("change password");
    Person { id: user.user_id, username: username.into(), email, token: login.session_token }
}

pub fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() })
}
