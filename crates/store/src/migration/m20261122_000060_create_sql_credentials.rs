use sea_orm_migration::{prelude::*, schema::*};

use super::user_fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "sql_credentials";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(T)
                // One credential per user.
                .col(pk_uuid("user_id"))
                // The login name on the query engine ([a-z][a-z0-9_]{2,62}).
                .col(text("sql_username"))
                // The SCRAM-SHA-256 verifier in PostgreSQL's format; never the password.
                .col(text("verifier"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut user_fk(T, "fk_sql_credentials_user"))
                .to_owned(),
        )
        .await?;
        // The name carries the column: error mapping finds the key by it.
        m.create_index(
            Index::create().name("ux_sql_credentials_sql_username").table(T).col("sql_username").unique().to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }

    /// The table and its index together, on SQLite too.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
