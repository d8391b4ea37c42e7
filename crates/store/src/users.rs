//! [`UserStore`]: the users table, with the rows written alongside a new user
//! (credentials, roles, an API key, the personal group).

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, QueryResult, Value};
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::UserId;
use steward_domain::page::PageRequest;
use steward_domain::role::RoleName;
use steward_domain::user::{
    Email, FullName, NewUser, Platform, PlatformAccounts, PlatformUsername, Profile, User, UserFilter, UserStatus,
    UserStore, Username,
};
use uuid::Uuid;

use crate::personal_groups::insert_personal_group;
use crate::rows::{corrupt, get, kind, role, status};
use crate::sql::{Query, all, contains_pattern, exec, one, stmt, time_value};
use crate::{Store, effects, error, finish, tokens};

/// The columns [`user_from_row`] reads, in `SELECT` order.
const USER_COLUMNS: &str = "id, kind, username, email, full_name, position, about, location, organization, \
     phone_number, databricks_username, redshift_username, snowflake_username, synapse_username, \
     email_notifications, status, default_role, mfa_enabled, created_at, updated_at, version";

#[async_trait]
impl UserStore for Store {
    async fn insert_user(&self, new: NewUser, effects: Effects) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = insert_user(&txn, new, effects).await;
        finish(txn, result).await
    }

    async fn get_user(&self, id: UserId) -> Result<User, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = one(self.connection(), stmt(self.backend(), &sql, vec![id.as_uuid().into()])).await?;
        row.as_ref().map(user_from_row).transpose()?.ok_or(StoreError::NotFound)
    }

    async fn find_user_by_username(&self, canonical_username: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username_lower = $1");
        let row =
            one(self.connection(), stmt(self.backend(), &sql, vec![canonical_username.to_lowercase().into()])).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn find_user_by_request_id(&self, request_id: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE create_request_id = $1");
        let row = one(self.connection(), stmt(self.backend(), &sql, vec![request_id.into()])).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self, filter: &UserFilter, page: PageRequest) -> Result<Vec<User>, StoreError> {
        let mut q = Query::new(self.backend(), &format!("SELECT {USER_COLUMNS} FROM users WHERE 1 = 1"));
        if let Some(after) = page.after {
            let p = q.bind(after);
            q.push(&format!(" AND id > {p}"));
        }
        match filter.status {
            Some(s) => {
                let p = q.bind(s.as_str());
                q.push(&format!(" AND status = {p}"));
            }
            // Tombstones only when asked for.
            None => {
                let p = q.bind(UserStatus::Deleted.as_str());
                q.push(&format!(" AND status <> {p}"));
            }
        }
        if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
            // The lower-cased columns are computed in Rust (Unicode-aware),
            // so the pattern is too; SQLite's lower() only knows ASCII.
            let p = q.bind(contains_pattern(&text.to_lowercase()));
            q.push(&format!(
                " AND (username_lower LIKE {p} ESCAPE '\\' OR email_lower LIKE {p} ESCAPE '\\' \
                 OR full_name_lower LIKE {p} ESCAPE '\\')"
            ));
        }
        let limit = q.bind(i64::from(page.size));
        q.push(&format!(" ORDER BY id LIMIT {limit}"));
        let rows = all(self.connection(), q.build()).await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn update_user(&self, user: &User, expected_version: i64, effects: Effects) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = update_user(&txn, user, expected_version, effects).await;
        finish(txn, result).await
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        let row = one(self.connection(), stmt(self.backend(), "SELECT COUNT(*) AS n FROM users", vec![])).await?;
        let n: i64 = row.as_ref().map(|r| get(r, "n")).transpose()?.unwrap_or(0);
        u64::try_from(n).map_err(|_| corrupt("count", n))
    }
}

async fn insert_user(c: &impl ConnectionTrait, new: NewUser, effects: Effects) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let u = &new.user;
    let mut q = Query::new(b, &format!("INSERT INTO users ({INSERT_USER_COLUMNS}, create_request_id) VALUES "));
    let mut values = user_insert_values(b, u);
    values.push(new.create_request_id.clone().into());
    q.row(values);
    exec(c, q.build()).await?;

    let temp = new.temp_password.as_ref();
    exec(
        c,
        stmt(
            b,
            "INSERT INTO credentials (user_id, password_hash, temp_digest, temp_expires_at, failed_count, \
             locked_until) VALUES ($1, $2, $3, $4, 0, $5)",
            vec![
                u.id.as_uuid().into(),
                None::<String>.into(),
                temp.map(|t| t.digest.clone()).into(),
                crate::sql::time_opt_value(b, temp.map(|t| t.expires_at)),
                crate::sql::time_opt_value(b, None),
            ],
        ),
    )
    .await?;

    let mut roles: Vec<&str> = new.roles.iter().map(RoleName::as_str).filter(|r| *r != RoleName::DEFAULT).collect();
    roles.sort_unstable();
    roles.dedup();
    if !roles.is_empty() {
        let mut q = Query::new(b, "INSERT INTO role_assignments (user_id, role) VALUES ");
        for (i, r) in roles.into_iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.row(vec![u.id.as_uuid().into(), r.into()]);
        }
        exec(c, q.build()).await?;
    }
    if let Some(key) = &new.api_key {
        tokens::insert_api_key(c, key).await?;
    }
    // Every user (service accounts too) has a personal group from the start.
    insert_personal_group(c, u.id, u.username.as_str(), u.created_at).await.map_err(error::db)?;
    effects::write(c, effects).await
}

async fn update_user(
    c: &impl ConnectionTrait,
    u: &User,
    expected_version: i64,
    effects: Effects,
) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let mut q = Query::new(b, "UPDATE users SET ");
    let columns = [
        "username",
        "username_lower",
        "email",
        "email_lower",
        "full_name",
        "full_name_lower",
        "position",
        "about",
        "location",
        "organization",
        "phone_number",
        "databricks_username",
        "redshift_username",
        "snowflake_username",
        "synapse_username",
        "email_notifications",
        "status",
        "default_role",
        "mfa_enabled",
        "updated_at",
        "version",
    ];
    let sets: Vec<String> =
        columns.iter().zip(mutable_values(b, u)).map(|(col, v)| format!("{col} = {}", q.bind(v))).collect();
    q.push(&sets.join(", "));
    let id = q.bind(u.id.as_uuid());
    let expected = q.bind(expected_version);
    q.push(&format!(" WHERE id = {id} AND version = {expected}"));
    if exec(c, q.build()).await?.rows_affected() == 0 {
        let exists = one(c, stmt(b, "SELECT id FROM users WHERE id = $1", vec![u.id.as_uuid().into()])).await?;
        return Err(if exists.is_some() { StoreError::Stale } else { StoreError::NotFound });
    }
    effects::write(c, effects).await
}

/// The values of every column an update may change, in the order of the
/// `columns` list of [`update_user`] (username … version).
/// The columns [`user_insert_values`] fills, in order.
pub(crate) const INSERT_USER_COLUMNS: &str = "id, kind, username, username_lower, email, email_lower, full_name, \
     full_name_lower, position, about, location, organization, phone_number, databricks_username, \
     redshift_username, snowflake_username, synapse_username, email_notifications, status, default_role, \
     mfa_enabled, created_at, updated_at, version";

/// A new user's row, for [`INSERT_USER_COLUMNS`].
pub(crate) fn user_insert_values(b: sea_orm::DbBackend, u: &User) -> Vec<Value> {
    let mut values = vec![u.id.as_uuid().into(), u.kind.as_str().into()];
    values.extend(mutable_values(b, u));
    values.insert(values.len() - 2, time_value(b, u.created_at)); // before updated_at, version
    values
}

/// [`INSERT_USER_COLUMNS`] as a JSON record set's column types (PostgreSQL).
pub(crate) const USER_RECORD_TYPES: &str = "id uuid, kind text, username text, username_lower text, email text, \
     email_lower text, full_name text, full_name_lower text, position text, about text, location text, \
     organization text, phone_number text, databricks_username text, redshift_username text, \
     snowflake_username text, synapse_username text, email_notifications boolean, status text, \
     default_role text, mfa_enabled boolean, created_at timestamptz, updated_at timestamptz, version bigint";

/// A new user's row as a JSON record: the same values as [`user_insert_values`].
#[derive(serde::Serialize)]
pub(crate) struct UserRecord<'a> {
    id: uuid::Uuid,
    kind: &'a str,
    username: &'a str,
    username_lower: String,
    email: &'a str,
    email_lower: String,
    full_name: &'a str,
    full_name_lower: String,
    position: &'a str,
    about: &'a str,
    location: &'a str,
    organization: &'a str,
    phone_number: &'a str,
    databricks_username: Option<&'a str>,
    redshift_username: Option<&'a str>,
    snowflake_username: Option<&'a str>,
    synapse_username: Option<&'a str>,
    email_notifications: bool,
    status: &'a str,
    default_role: &'a str,
    mfa_enabled: bool,
    created_at: String,
    updated_at: String,
    version: i64,
}

impl<'a> UserRecord<'a> {
    pub(crate) fn of(u: &'a User) -> Self {
        let platform = |p: Platform| u.platform.get(p).map(|n| n.as_str());
        Self {
            id: u.id.as_uuid(),
            kind: u.kind.as_str(),
            username: u.username.as_str(),
            username_lower: u.username.canonical(),
            email: u.email.as_str(),
            email_lower: u.email.canonical(),
            full_name: u.full_name.as_str(),
            full_name_lower: u.full_name.as_str().to_lowercase(),
            position: &u.profile.position,
            about: &u.profile.about,
            location: &u.profile.location,
            organization: &u.profile.organization,
            phone_number: &u.profile.phone_number,
            databricks_username: platform(Platform::Databricks),
            redshift_username: platform(Platform::Redshift),
            snowflake_username: platform(Platform::Snowflake),
            synapse_username: platform(Platform::Synapse),
            email_notifications: u.email_notifications,
            status: u.status.as_str(),
            default_role: u.default_role.as_str(),
            mfa_enabled: u.mfa_enabled,
            created_at: crate::sql::time_text(u.created_at),
            updated_at: crate::sql::time_text(u.updated_at),
            version: u.version,
        }
    }
}

fn mutable_values(b: sea_orm::DbBackend, u: &User) -> Vec<Value> {
    let platform = |p: Platform| u.platform.get(p).map(|n| n.as_str().to_owned());
    vec![
        u.username.as_str().into(),
        u.username.canonical().into(),
        u.email.as_str().into(),
        u.email.canonical().into(),
        u.full_name.as_str().into(),
        u.full_name.as_str().to_lowercase().into(),
        u.profile.position.clone().into(),
        u.profile.about.clone().into(),
        u.profile.location.clone().into(),
        u.profile.organization.clone().into(),
        u.profile.phone_number.clone().into(),
        platform(Platform::Databricks).into(),
        platform(Platform::Redshift).into(),
        platform(Platform::Snowflake).into(),
        platform(Platform::Synapse).into(),
        u.email_notifications.into(),
        u.status.as_str().into(),
        u.default_role.as_str().into(),
        u.mfa_enabled.into(),
        time_value(b, u.updated_at),
        u.version.into(),
    ]
}

pub(crate) fn user_from_row(r: &QueryResult) -> Result<User, StoreError> {
    let text = |col: &str| get::<String>(r, col);
    let platform = |p: Platform, col: &str| -> Result<Option<PlatformUsername>, StoreError> {
        match get::<Option<String>>(r, col)? {
            Some(s) => PlatformUsername::parse(p, &s).map_err(|v| corrupt(col, v)),
            None => Ok(None),
        }
    };
    Ok(User {
        id: UserId::from_uuid(get::<Uuid>(r, "id")?),
        kind: kind(r, "kind")?,
        username: Username::parse(&text("username")?).map_err(|v| corrupt("username", v))?,
        email: Email::parse(&text("email")?).map_err(|v| corrupt("email", v))?,
        full_name: FullName::parse(&text("full_name")?).map_err(|v| corrupt("full_name", v))?,
        profile: Profile {
            position: text("position")?,
            about: text("about")?,
            location: text("location")?,
            organization: text("organization")?,
            phone_number: text("phone_number")?,
        },
        platform: PlatformAccounts {
            databricks: platform(Platform::Databricks, "databricks_username")?,
            redshift: platform(Platform::Redshift, "redshift_username")?,
            snowflake: platform(Platform::Snowflake, "snowflake_username")?,
            synapse: platform(Platform::Synapse, "synapse_username")?,
        },
        email_notifications: get(r, "email_notifications")?,
        status: status(r, "status")?,
        default_role: role(r, "default_role")?,
        mfa_enabled: get(r, "mfa_enabled")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        version: get(r, "version")?,
    })
}
