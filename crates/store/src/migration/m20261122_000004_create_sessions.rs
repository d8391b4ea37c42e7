use sea_orm_migration::{prelude::*, schema::*};

use super::user_fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "sessions";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(T)
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(text("lookup"))
                .col(blob("digest"))
                .col(text("role"))
                .col(boolean("password_change_required"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut user_fk(T, "fk_sessions_user"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ux_sessions_lookup").table(T).col("lookup").unique().to_owned()).await?;
        m.create_index(Index::create().name("ix_sessions_user").table(T).col("user_id").to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
