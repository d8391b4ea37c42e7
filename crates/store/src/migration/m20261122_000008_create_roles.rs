use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::{prelude::*, schema::*};
use steward_domain::role::RoleName;
use time::macros::datetime;

use crate::sql::time_value;

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "roles";

/// When the built-in roles count as created: with this schema, not with the
/// first start (a migration reads no clock, so every database agrees).
pub(crate) const BUILTIN_SINCE: time::OffsetDateTime = datetime!(2026-11-22 00:00:00 UTC);

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(T)
                // Lower-case (`RoleName` folds case), so unique ignoring case.
                .col(text("name"))
                .col(text("description"))
                // Permission names, comma-separated (names never hold a comma).
                // Empty for the built-ins: what they grant is defined in code.
                .col(text("permissions"))
                .col(boolean("builtin"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .primary_key(Index::create().name("pk_roles").col("name"))
                .to_owned(),
        )
        .await?;
        let c = m.get_connection();
        let b = m.get_database_backend();
        for (name, description) in
            [(RoleName::DEFAULT, "Self-service: held by everyone"), (RoleName::ADMIN, "Every permission")]
        {
            c.execute_raw(Statement::from_sql_and_values(
                b,
                "INSERT INTO roles (name, description, permissions, builtin, created_at, updated_at, version) \
                 VALUES ($1, $2, '', $3, $4, $4, 1)",
                vec![name.into(), description.into(), true.into(), time_value(b, BUILTIN_SINCE)],
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }

    /// The table and its built-in rows together, on SQLite too.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
