//! One argon2id login: a user created over gRPC, onboarded with the emailed
//! temporary password, then timed `Login` calls one after another.

use std::path::Path;
use std::time::{Duration, Instant};

use steward_grpc::pb;
use steward_grpc::pb::user_service_client::UserServiceClient;

use crate::load::{Clients, Sample};
use crate::server::{Server, cpu_time};

type Error = Box<dyn std::error::Error + Send + Sync>;

const USERNAME: &str = "benchuser";
const EMAIL: &str = "benchuser@example.com";
const PASSWORD: &str = "correct horse battery staple, benchmark edition";

pub struct LoginRun {
    pub logins: Sample,
    /// Server CPU per Login call.
    pub server_cpu_per_login: Option<Duration>,
}

pub async fn measure(server: &Server, clients: &Clients, n: usize, ticks: u64) -> Result<LoginRun, Error> {
    let mut users = UserServiceClient::new(clients.channel(0));
    let mut req = tonic::Request::new(pb::CreateUserRequest {
        username: USERNAME.into(),
        email: EMAIL.into(),
        full_name: "Bench User".into(),
        request_id: String::new(),
    });
    req.metadata_mut().insert("authorization", clients.bearer());
    users.create_user(req).await.map_err(|s| format!("CreateUser: {s}"))?;

    let temp = temporary_password(&server.mail_dir(), EMAIL).await?;
    let mut auth = clients.auth(0);
    let first = auth
        .login(login_request(&temp))
        .await
        .map_err(|s| format!("Login with the temporary password: {s}"))?
        .into_inner();
    let mut req =
        tonic::Request::new(pb::ChangePasswordRequest { current_password: temp, new_password: PASSWORD.into() });
    req.metadata_mut().insert("authorization", format!("Bearer {}", first.session_token).parse()?);
    auth.change_password(req).await.map_err(|s| format!("ChangePassword: {s}"))?;

    // One untimed login first (connection and caches warm), then the timed ones.
    login_once(&mut auth).await?;
    let pid = server.pid();
    let cpu0 = cpu_time(pid, ticks);
    let start = Instant::now();
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        login_once(&mut auth).await?;
        lat.push(t0.elapsed());
    }
    let elapsed = start.elapsed();
    let cpu = cpu0.zip(cpu_time(pid, ticks)).map(|(a, b)| b.saturating_sub(a) / n.max(1) as u32);
    lat.sort_unstable();
    let logins = Sample { sorted: lat, errors: 0, first_error: None, elapsed };
    Ok(LoginRun { logins, server_cpu_per_login: cpu })
}

async fn login_once(
    auth: &mut pb::auth_service_client::AuthServiceClient<tonic::transport::Channel>,
) -> Result<(), Error> {
    auth.login(login_request(PASSWORD)).await.map_err(|s| format!("Login: {s}"))?;
    Ok(())
}

/// Every other field (e.g. an MFA code) at its default, so fields added later keep this compiling.
#[allow(clippy::needless_update)]
fn login_request(password: &str) -> pb::LoginRequest {
    pb::LoginRequest { username: USERNAME.into(), password: password.into(), ..Default::default() }
}

/// Waits (up to 15 s) for the welcome email to `to` and reads its temporary password.
async fn temporary_password(dir: &Path, to: &str) -> Result<String, Error> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.filter_map(Result::ok) {
                if e.path().extension().is_none_or(|x| x != "eml") {
                    continue;
                }
                let Ok(mail) = std::fs::read_to_string(e.path()) else { continue };
                if !mail.contains(to) {
                    continue;
                }
                if let Some(p) = mail.lines().find_map(|l| l.trim().strip_prefix("Temporary password: ")) {
                    return Ok(p.trim().to_string());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("no welcome email to {to} in {} within 15 s", dir.display()).into())
}
