//! The load generator: N client tasks over a few HTTP/2 channels, unary calls
//! in a loop for a fixed time, every call's latency recorded.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use steward_grpc::pb;
use steward_grpc::pb::auth_service_client::AuthServiceClient;
use steward_grpc::pb::project_service_client::ProjectServiceClient;
use steward_grpc::pb::user_service_client::UserServiceClient;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// What one call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `grpc.health.v1.Health/Check`, no credentials: the baseline.
    Health,
    /// `steward.v1.AuthService/WhoAmI` with the admin API key.
    WhoAmI,
    /// `steward.v1.UserService/GetUser` (by user_id) with the admin API key.
    GetUser,
    /// `steward.v1.ProjectService/ListDataSources` (page_size 100) with a project-scoped API key.
    ListDataSources,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Health => "Health/Check (baseline)",
            Kind::WhoAmI => "WhoAmI (API key)",
            Kind::GetUser => "GetUser (API key)",
            Kind::ListDataSources => "ListDataSources (scoped)",
        }
    }
}

/// A few HTTP/2 channels to the server and the bearer header.
#[derive(Clone)]
pub struct Clients {
    channels: Vec<Channel>,
    bearer: AsciiMetadataValue,
    /// The users GetUser reads: task `i` starts at the `i`-th and steps
    /// through them, so concurrent calls ask for different users.
    pub get_user_ids: Vec<String>,
    /// ListDataSources: the project and the bearer header of the key scoped to it.
    pub scoped: Option<(String, AsciiMetadataValue)>,
}

impl Clients {
    pub async fn connect(addr: SocketAddr, channels: usize, api_key: &str) -> Result<Self, Error> {
        let mut out = Vec::with_capacity(channels);
        for _ in 0..channels.max(1) {
            // Each connect() is its own TCP connection (its own HTTP/2 session).
            out.push(Endpoint::from_shared(format!("http://{addr}"))?.tcp_nodelay(true).connect().await?);
        }
        Ok(Self { channels: out, bearer: format!("Bearer {api_key}").parse()?, get_user_ids: Vec::new(), scoped: None })
    }

    pub fn channel(&self, i: usize) -> Channel {
        self.channels[i % self.channels.len()].clone()
    }

    /// An AuthService client on channel `i`, with no credentials.
    pub fn auth(&self, i: usize) -> AuthServiceClient<Channel> {
        AuthServiceClient::new(self.channel(i))
    }

    pub fn bearer(&self) -> AsciiMetadataValue {
        self.bearer.clone()
    }
}

/// One task's caller: the generated client of `kind`, built once.
enum Caller {
    Health(HealthClient<Channel>),
    WhoAmI(AuthServiceClient<Channel>, AsciiMetadataValue),
    GetUser(UserServiceClient<Channel>, AsciiMetadataValue, Vec<String>, usize),
    ListDataSources(ProjectServiceClient<Channel>, AsciiMetadataValue, String),
}

impl Caller {
    fn new(clients: &Clients, kind: Kind, i: usize) -> Self {
        match kind {
            Kind::Health => Caller::Health(HealthClient::new(clients.channel(i))),
            Kind::WhoAmI => Caller::WhoAmI(clients.auth(i), clients.bearer()),
            Kind::GetUser => Caller::GetUser(
                UserServiceClient::new(clients.channel(i)),
                clients.bearer(),
                clients.get_user_ids.clone(),
                i,
            ),
            Kind::ListDataSources => {
                // Without a scoped key (no setup): the admin key, and an empty project (INVALID_ARGUMENT).
                let (project, bearer) = clients.scoped.clone().unwrap_or_else(|| (String::new(), clients.bearer()));
                Caller::ListDataSources(ProjectServiceClient::new(clients.channel(i)), bearer, project)
            }
        }
    }

    async fn call(&mut self) -> Result<(), tonic::Status> {
        match self {
            Caller::Health(c) => c.check(HealthCheckRequest { service: String::new() }).await.map(drop),
            Caller::WhoAmI(c, bearer) => {
                let mut req = tonic::Request::new(pb::WhoAmIRequest {});
                req.metadata_mut().insert("authorization", bearer.clone());
                c.who_am_i(req).await.map(drop)
            }
            Caller::GetUser(c, bearer, user_ids, next) => {
                let user_id = user_ids[*next % user_ids.len()].clone();
                *next += 1;
                let mut req = tonic::Request::new(pb::GetUserRequest {
                    selector: Some(pb::get_user_request::Selector::UserId(user_id)),
                });
                req.metadata_mut().insert("authorization", bearer.clone());
                c.get_user(req).await.map(drop)
            }
            Caller::ListDataSources(c, bearer, project_id) => {
                let mut req = tonic::Request::new(pb::ListDataSourcesRequest {
                    page_size: 100,
                    page_token: String::new(),
                    project_id: project_id.clone(),
                });
                req.metadata_mut().insert("authorization", bearer.clone());
                c.list_data_sources(req).await.map(drop)
            }
        }
    }
}

/// Latencies of one batch of calls, sorted, with the wall time they took.
#[derive(Debug, Clone)]
pub struct Sample {
    pub sorted: Vec<Duration>,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
}

impl Sample {
    fn new(mut latencies: Vec<Duration>, errors: u64, first_error: Option<String>, elapsed: Duration) -> Self {
        latencies.sort_unstable();
        Self { sorted: latencies, errors, first_error, elapsed }
    }

    pub fn calls(&self) -> usize {
        self.sorted.len()
    }

    /// Successful calls per second of wall time.
    pub fn throughput(&self) -> f64 {
        self.sorted.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Nearest-rank percentile, `q` in [0, 1].
    pub fn percentile(&self, q: f64) -> Duration {
        percentile(&self.sorted, q)
    }
}

pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `concurrency` tasks calling `kind` in a loop until `duration` has passed.
pub async fn round(clients: &Clients, kind: Kind, concurrency: usize, duration: Duration) -> Sample {
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for i in 0..concurrency {
        let mut caller = Caller::new(clients, kind, i);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(16 * 1024);
            let (mut errors, mut first_error) = (0u64, None);
            loop {
                let t0 = Instant::now();
                if t0 >= deadline {
                    break;
                }
                match caller.call().await {
                    Ok(()) => lat.push(t0.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| e.to_string());
                        if errors >= 1000 {
                            break; // a broken server: stop rather than spin
                        }
                    }
                }
            }
            (lat, errors, first_error)
        }));
    }
    let (mut all, mut errors, mut first_error) = (Vec::new(), 0, None);
    for t in tasks {
        if let Ok((lat, e, fe)) = t.await {
            all.extend(lat);
            errors += e;
            first_error = first_error.or(fe);
        }
    }
    Sample::new(all, errors, first_error, start.elapsed())
}

/// `n` calls of `kind`, one after another (no concurrency): unloaded latency.
pub async fn sequential(clients: &Clients, kind: Kind, n: usize) -> Sample {
    let mut caller = Caller::new(clients, kind, 0);
    let start = Instant::now();
    let (mut lat, mut errors, mut first_error) = (Vec::with_capacity(n), 0, None);
    for _ in 0..n {
        let t0 = Instant::now();
        match caller.call().await {
            Ok(()) => lat.push(t0.elapsed()),
            Err(e) => {
                errors += 1;
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    Sample::new(lat, errors, first_error, start.elapsed())
}

/// Median of a list of figures (mean of the two middle ones for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}
