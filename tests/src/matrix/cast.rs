//! The callers the matrix is played with, and the things they aim at.

use steward_grpc::pb;

use crate::harness::{TestServer, onboard};

/// Every kind of caller, in the matrix's column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// No token at all.
    Anonymous,
    /// A session opened with a temporary password.
    TempPassword,
    /// A default-role user acting on their own things.
    SelfUser,
    /// A default-role user acting on someone else's.
    OtherUser,
    /// A user whose session acts with a custom role (users.read, audit.read).
    CustomRole,
    /// The bootstrap admin's API key.
    Admin,
    /// A service account's API key, role with sql.verify and resources.register.
    ServiceAccount,
    /// An API key that was revoked.
    Revoked,
    /// An API key of the self user's, limited to a project of hers (which
    /// holds none of the other users' things): no permissions at all.
    ScopedKey,
}

pub const PRINCIPALS: [Principal; 9] = [
    Principal::Anonymous,
    Principal::TempPassword,
    Principal::SelfUser,
    Principal::OtherUser,
    Principal::CustomRole,
    Principal::Admin,
    Principal::ServiceAccount,
    Principal::Revoked,
    Principal::ScopedKey,
];

/// What the requests point at: the self user and things that exist.
#[derive(Debug, Clone)]
pub struct Targets {
    /// The user "alice" (the self user); others act on her.
    pub user_id: String,
    /// A custom role that exists.
    pub role: String,
    /// An API key of alice's.
    pub api_key_id: String,
    /// A dataset alice owns.
    pub resource_id: String,
    /// A project alice owns.
    pub project_id: String,
    /// A group alice owns (not her personal group).
    pub group_id: String,
}

impl Targets {
    /// Ids of nothing, for authorization-before-existence.
    pub fn random() -> Targets {
        Targets {
            user_id: uuid::Uuid::now_v7().to_string(),
            role: "no-such-role".into(),
            api_key_id: uuid::Uuid::now_v7().to_string(),
            resource_id: uuid::Uuid::now_v7().to_string(),
            project_id: uuid::Uuid::now_v7().to_string(),
            group_id: uuid::Uuid::now_v7().to_string(),
        }
    }
}

pub struct Cast {
    pub targets: Targets,
    temp: String,
    alice: String,
    bob: String,
    carol: String,
    admin: String,
    service: String,
    revoked: String,
    scoped: String,
}

impl Cast {
    pub fn token(&self, p: Principal) -> Option<String> {
        match p {
            Principal::Anonymous => None,
            Principal::TempPassword => Some(self.temp.clone()),
            Principal::SelfUser => Some(self.alice.clone()),
            Principal::OtherUser => Some(self.bob.clone()),
            Principal::CustomRole => Some(self.carol.clone()),
            Principal::Admin => Some(self.admin.clone()),
            Principal::ServiceAccount => Some(self.service.clone()),
            Principal::Revoked => Some(self.revoked.clone()),
            Principal::ScopedKey => Some(self.scoped.clone()),
        }
    }

    pub async fn assemble(srv: &TestServer) -> Cast {
        let admin = srv.admin().await;
        let alice = onboard(srv, "alice").await;
        let bob = onboard(srv, "bob").await;
        let carol = onboard(srv, "carol").await;
        let gone = onboard(srv, "gone").await;
        let gone_client = srv.client(Some(&gone.token)).await;
        let gone_key = gone_client
            .api_keys()
            .create_api_key(pb::CreateApiKeyRequest { name: "soon revoked".into(), ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        gone_client
            .api_keys()
            .revoke_api_key(pb::RevokeApiKeyRequest { api_key_id: gone_key.api_key.unwrap().api_key_id })
            .await
            .unwrap();

        let role = |name: &str, permissions: &[&str]| pb::CreateRoleRequest {
            role: Some(pb::Role {
                name: name.into(),
                description: format!("matrix role {name}"),
                permissions: permissions.iter().map(|p| p.to_string()).collect(),
                ..Default::default()
            }),
        };
        admin.roles().create_role(role("auditor", &["users.read", "audit.read"])).await.unwrap();
        admin.roles().create_role(role("engine", &["sql.verify", "resources.register"])).await.unwrap();
        admin.roles().create_role(role("spare", &[])).await.unwrap();
        admin
            .roles()
            .assign_role(pb::AssignRoleRequest { user_id: carol.id.clone(), role: "auditor".into() })
            .await
            .unwrap();
        let carol_client = srv.client(Some(&carol.token)).await;
        carol_client.auth().switch_role(pb::SwitchRoleRequest { role: "auditor".into() }).await.unwrap();

        let service = admin
            .users()
            .create_service_account(pb::CreateServiceAccountRequest {
                username: "engine".into(),
                email: "engine@example.com".into(),
                full_name: "Query engine".into(),
                roles: vec!["engine".into()],
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .api_key_secret;

        admin
            .users()
            .create_user(pb::CreateUserRequest {
                username: "tempo".into(),
                email: "tempo@example.com".into(),
                full_name: "Temp Session".into(),
                request_id: String::new(),
            })
            .await
            .unwrap();
        let temp_password = srv.mailbox().temporary_password("tempo@example.com").await;
        let temp = srv
            .client(None)
            .await
            .auth()
            .login(pb::LoginRequest { username: "tempo".into(), password: temp_password, ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .session_token;

        let api_key_id = srv
            .client(Some(&alice.token))
            .await
            .api_keys()
            .create_api_key(pb::CreateApiKeyRequest { name: "alice's".into(), ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .api_key
            .unwrap()
            .api_key_id;

        let resource_id = admin
            .resources()
            .register_resource(pb::RegisterResourceRequest {
                resource: Some(pb::Resource {
                    kind: pb::ResourceKind::Dataset as i32,
                    display_name: "alice's data".into(),
                    owner_id: alice.id.clone(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .resource
            .unwrap()
            .resource_id;
        let project_id = srv
            .client(Some(&alice.token))
            .await
            .projects()
            .create_project(pb::CreateProjectRequest { name: "alice's project".into(), ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .project
            .unwrap()
            .project_id;

        let group_id = srv
            .client(Some(&alice.token))
            .await
            .groups()
            .create_group(pb::CreateGroupRequest { name: "alice's group".into(), request_id: String::new() })
            .await
            .unwrap()
            .into_inner()
            .group
            .unwrap()
            .group_id;

        let scoped = srv
            .client(Some(&alice.token))
            .await
            .api_keys()
            .create_api_key(pb::CreateApiKeyRequest {
                name: "scoped".into(),
                project_id: project_id.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .secret;

        Cast {
            targets: Targets {
                user_id: alice.id.clone(),
                role: "spare".into(),
                api_key_id,
                resource_id,
                project_id,
                group_id,
            },
            temp,
            alice: alice.token,
            bob: bob.token,
            carol: carol.token,
            admin: srv.admin_key.clone(),
            service,
            revoked: gone_key.secret,
            scoped,
        }
    }
}
