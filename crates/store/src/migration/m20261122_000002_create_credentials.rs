use sea_orm_migration::{prelude::*, schema::*};

use super::user_fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "credentials";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(T)
                .col(pk_uuid("user_id"))
                // argon2id PHC string, once the user has chosen a password.
                .col(text_null("password_hash"))
                // Keyed digest of the temporary password and its expiry.
                .col(blob_null("temp_digest"))
                .col(timestamp_with_time_zone_null("temp_expires_at"))
                .col(integer("failed_count"))
                .col(timestamp_with_time_zone_null("locked_until"))
                .foreign_key(&mut user_fk(T, "fk_credentials_user"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
