//! The data the GetUser and ListDataSources measurements read, set up over gRPC
//! once per backend before the load rounds: a `registrar` role and a service
//! account holding it, a project owned by the admin, N resources of mixed kinds
//! registered concurrently, some datasets linked to the project, and an API key
//! of the admin scoped to that project.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use steward_grpc::pb;
use steward_grpc::pb::api_key_service_client::ApiKeyServiceClient;
use steward_grpc::pb::project_service_client::ProjectServiceClient;
use steward_grpc::pb::resource_service_client::ResourceServiceClient;
use steward_grpc::pb::role_service_client::RoleServiceClient;
use steward_grpc::pb::user_service_client::UserServiceClient;
use tonic::metadata::AsciiMetadataValue;

use crate::load::Clients;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Tasks registering resources at the same time.
pub const REGISTER_TASKS: usize = 32;

/// Kinds registered in turn; a quarter are datasets.
const KINDS: [pb::ResourceKind; 8] = [
    pb::ResourceKind::Dataset,
    pb::ResourceKind::View,
    pb::ResourceKind::Dashboard,
    pb::ResourceKind::Notebook,
    pb::ResourceKind::Dataset,
    pb::ResourceKind::Stream,
    pb::ResourceKind::Workflow,
    pb::ResourceKind::MlModel,
];

/// Users GetUser reads besides the registrar.
const READABLE_USERS: usize = 63;

/// What the GetUser measurement reads.
pub struct Users {
    /// The users GetUser reads (the registrar service account and
    /// [`READABLE_USERS`] more).
    pub readable: Vec<String>,
    /// The admin (owner of the project and the resources).
    pub admin_user_id: String,
    /// The registrar's API key.
    pub registrar_key: String,
}

/// What the ListDataSources measurement reads, and how long the registrations took.
pub struct Project {
    pub project_id: String,
    pub scoped_key: String,
    pub registered: usize,
    pub linked: usize,
    pub register_time: Duration,
    pub link_time: Duration,
}

fn authed<T>(msg: T, bearer: &AsciiMetadataValue) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    req.metadata_mut().insert("authorization", bearer.clone());
    req
}

/// The role, the service account and the admin's user id.
pub async fn users(clients: &Clients) -> Result<Users, Error> {
    let admin = clients.bearer();
    let me = clients
        .auth(0)
        .who_am_i(authed(pb::WhoAmIRequest {}, &admin))
        .await
        .map_err(|s| format!("WhoAmI: {s}"))?
        .into_inner();
    let admin_user_id = me.user.ok_or("WhoAmI: no user")?.user_id;

    let role = pb::Role {
        name: "registrar".into(),
        description: "Registers resources (benchmark)".into(),
        permissions: vec!["resources.register".into()],
        ..Default::default()
    };
    RoleServiceClient::new(clients.channel(0))
        .create_role(authed(pb::CreateRoleRequest { role: Some(role) }, &admin))
        .await
        .map_err(|s| format!("CreateRole registrar: {s}"))?;
    let sa = UserServiceClient::new(clients.channel(0))
        .create_service_account(authed(
            pb::CreateServiceAccountRequest {
                username: "benchregistrar".into(),
                email: "registrar@example.com".into(),
                full_name: "Bench registrar".into(),
                roles: vec!["registrar".into()],
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .map_err(|s| format!("CreateServiceAccount: {s}"))?
        .into_inner();
    let mut readable = vec![sa.user.ok_or("CreateServiceAccount: no user")?.user_id];
    for n in 0..READABLE_USERS {
        let reader = UserServiceClient::new(clients.channel(0))
            .create_service_account(authed(
                pb::CreateServiceAccountRequest {
                    username: format!("benchreader{n}"),
                    email: format!("reader{n}@example.com"),
                    full_name: format!("Bench reader {n}"),
                    roles: vec!["registrar".into()],
                    request_id: String::new(),
                },
                &admin,
            ))
            .await
            .map_err(|s| format!("CreateServiceAccount reader: {s}"))?
            .into_inner();
        readable.push(reader.user.ok_or("CreateServiceAccount: no user")?.user_id);
    }
    Ok(Users { readable, admin_user_id, registrar_key: sa.api_key_secret })
}

/// The project, `n` resources, up to `link` linked datasets and the scoped key.
pub async fn project(clients: &Clients, users: &Users, n: usize, link: usize) -> Result<Project, Error> {
    let admin = clients.bearer();
    let mut projects = ProjectServiceClient::new(clients.channel(0));
    let project_id = projects
        .create_project(authed(
            pb::CreateProjectRequest {
                name: "Bench project".into(),
                description: "ListDataSources benchmark".into(),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .map_err(|s| format!("CreateProject: {s}"))?
        .into_inner()
        .project
        .ok_or("CreateProject: no project")?
        .project_id;

    // Registrations: REGISTER_TASKS tasks taking the next index until n.
    let registrar: AsciiMetadataValue = format!("Bearer {}", users.registrar_key).parse()?;
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(REGISTER_TASKS);
    for t in 0..REGISTER_TASKS {
        let mut client = ResourceServiceClient::new(clients.channel(t));
        let (next, registrar, owner) = (next.clone(), registrar.clone(), users.admin_user_id.clone());
        tasks.push(tokio::spawn(async move {
            let mut datasets: Vec<(usize, String)> = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, String>(datasets);
                }
                let kind = KINDS[i % KINDS.len()];
                let resource = pb::Resource {
                    kind: kind as i32,
                    display_name: format!("bench {} {i}", kind.as_str_name().trim_start_matches("RESOURCE_KIND_")),
                    owner_id: owner.clone(),
                    ..Default::default()
                };
                let r = client
                    .register_resource(authed(
                        pb::RegisterResourceRequest { resource: Some(resource), request_id: String::new() },
                        &registrar,
                    ))
                    .await
                    .map_err(|s| format!("RegisterResource #{i}: {s}"))?
                    .into_inner()
                    .resource
                    .ok_or("RegisterResource: no resource")?;
                if kind == pb::ResourceKind::Dataset {
                    datasets.push((i, r.resource_id));
                }
            }
        }));
    }
    let mut datasets = Vec::new();
    for t in tasks {
        datasets.extend(t.await??);
    }
    let register_time = start.elapsed();

    // Link the first `link` datasets (in registration order).
    datasets.sort_unstable();
    let start = Instant::now();
    let mut linked = 0;
    for (_, resource_id) in datasets.into_iter().take(link) {
        projects
            .link_data_source(authed(pb::LinkDataSourceRequest { project_id: project_id.clone(), resource_id }, &admin))
            .await
            .map_err(|s| format!("LinkDataSource: {s}"))?;
        linked += 1;
    }
    let link_time = start.elapsed();

    let scoped_key = ApiKeyServiceClient::new(clients.channel(0))
        .create_api_key(authed(
            pb::CreateApiKeyRequest {
                name: "bench-project-key".into(),
                description: "ListDataSources benchmark".into(),
                project_id: project_id.clone(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .map_err(|s| format!("CreateApiKey (project-scoped): {s}"))?
        .into_inner()
        .secret;
    Ok(Project { project_id, scoped_key, registered: n, linked, register_time, link_time })
}
